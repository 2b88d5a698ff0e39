"""The fastest checkpointing plan whose peak fits a memory limit: a dynamic programme over the chain.

For a segment [s, t) whose input is stored and whose output gradient will arrive, the choices
are those of planning.checkpoint_plan: keep every activation (a leaf), or run the forward
through [s, k) keeping only block k's input, differentiate [k, t) with that checkpoint held,
then differentiate [s, k) from s again (recomputing it, and nesting if it is split itself):

    time(s, t, m) = min( F(s, t)                                   if leaf_peak(s, t) <= m,
                         min_k F(s, k) + time(k, t, m - out(k-1)) + time(s, k, m)
                               where forward_peak(s, k) <= m )

F is the forward time of the blocks, m the memory left; the times count every forward run, so
time(0, n, m) - F(0, n) is the recomputation. This is the recursion of Griewank's revolve and of
Beaumont et al. (2019) for heterogeneous chains, with one kind of checkpoint (a block's input).
Memory is counted in `levels` equal units, every byte count rounded up, so a plan found for m
units never needs more than m units' bytes under the chain model (plan_peak). Ties go to the
leaf, then to the earliest split: the same costs always give the same plan.

plan_peak and plan_time evaluate any plan under the same chain model, independently of the
recursion (the tests check the programme against every plan of small chains).
"""
import math
from dataclasses import dataclass

import numpy as np

from planning.checkpoint_plan import Segment, leaf

DEFAULT_LEVELS = 2000


def plan_time(plan, costs):
    """Forward time of a plan: each block's forward time times the number of times it runs."""
    return sum(costs.forward_time[plan.start + i] * count for i, count in enumerate(plan.forward_counts()))


def plan_peak(plan, costs):
    """Peak bytes of differentiating `plan` beyond its stored input, under the chain model."""
    if plan.is_leaf:
        return _leaf_peak(plan.start, plan.stop, costs)
    peak, stored = 0, 0
    for position, child in enumerate(plan.children):
        if position:
            stored += costs.output_bytes[child.start - 1]
        if position < len(plan.children) - 1:
            peak = max(peak, stored + _forward_peak(child.start, child.stop, costs))
    # Then the children are differentiated last first, each with the checkpoints before it held.
    for position in range(len(plan.children) - 1, -1, -1):
        child = plan.children[position]
        peak = max(peak, stored + plan_peak(child, costs))
        if position:
            stored -= costs.output_bytes[child.start - 1]
    return peak


def _leaf_peak(start, stop, costs):
    kept, peak = 0, 0
    for block in range(start, stop):
        kept += costs.kept_bytes[block]
        peak = max(peak, kept + costs.backward_bytes[block])
    return peak


def _forward_peak(start, stop, costs):
    """A forward pass through [start, stop) that keeps nothing but its output."""
    return max((costs.output_bytes[block - 1] if block > start else 0) + costs.forward_peak_bytes[block]
               for block in range(start, stop))


@dataclass
class Search:
    """The programme's tables for one chain: the best plan for every memory limit at once."""

    costs: object
    unit: float
    time: dict  # (s, t) -> float array over memory units: the least time, inf where nothing fits
    choice: dict  # (s, t) -> int array: -1 for a leaf, else the split block k

    @property
    def levels(self):
        return len(self.time[(0, len(self.costs))]) - 1

    def units(self, limit_bytes):
        return min(self.levels, int(math.floor(limit_bytes / self.unit))) if limit_bytes >= 0 else -1

    def best(self, limit_bytes):
        """The fastest plan whose peak (chain model) fits `limit_bytes`, or None."""
        m = self.units(limit_bytes)
        if m < 0 or not np.isfinite(self.time[(0, len(self.costs))][m]):
            return None
        return self._plan(0, len(self.costs), m)

    def smallest_units(self):
        """The least memory units any plan needs, or None when none fits in the table's range."""
        finite = np.flatnonzero(np.isfinite(self.time[(0, len(self.costs))]))
        return int(finite[0]) if finite.size else None

    def frontier(self):
        """[(limit in bytes, plan)]: each distinct best plan, from the most memory to the least."""
        root, plans, last = self.time[(0, len(self.costs))], [], None
        for m in range(self.levels, -1, -1):
            if not np.isfinite(root[m]):
                break
            if last is None or root[m] != last:
                plans.append((m * self.unit, self._plan(0, len(self.costs), m)))
                last = root[m]
        return plans

    def _plan(self, s, t, m):
        k = int(self.choice[(s, t)][m])
        if k < 0:
            return leaf(s, t)
        return Segment(s, t, (self._plan(s, k, m), self._plan(k, t, m - self._out(k - 1))))

    def _out(self, block):
        return _units(self.costs.output_bytes[block], self.unit)


def search(costs, max_bytes=None, levels=DEFAULT_LEVELS):
    """Run the programme for limits up to `max_bytes` (default: storing everything) in `levels` units."""
    n = len(costs)
    max_bytes = max_bytes if max_bytes is not None else _leaf_peak(0, n, costs)
    unit = max(1.0, max_bytes / levels)
    size = int(math.floor(max_bytes / unit)) + 1
    memory = np.arange(size)
    forward = np.concatenate([[0.0], np.cumsum(costs.forward_time, dtype=float)])
    out = [_units(b, unit) for b in costs.output_bytes]
    kept = [_units(b, unit) for b in costs.kept_bytes]
    backward = [_units(b, unit) for b in costs.backward_bytes]
    forward_alone = [_units(b, unit) for b in costs.forward_peak_bytes]
    time, choice = {}, {}
    for length in range(1, n + 1):
        for s in range(0, n - length + 1):
            t = s + length
            leaf_units = max(sum(kept[s:j + 1]) + backward[j] for j in range(s, t))
            best = np.where(memory >= leaf_units, forward[t] - forward[s], np.inf)
            chosen = np.full(size, -1, dtype=np.int32)
            pass_units = 0
            for k in range(s + 1, t):
                # The checkpointing pass through [s, k): block k-1 reads its input, holds its peak.
                pass_units = max(pass_units, (out[k - 2] if k - 1 > s else 0) + forward_alone[k - 1])
                right = _shifted(time[(k, t)], out[k - 1])
                candidate = (forward[k] - forward[s]) + right + time[(s, k)]
                candidate[memory < pass_units] = np.inf
                better = candidate < best
                best = np.where(better, candidate, best)
                chosen = np.where(better, k, chosen)
            time[(s, t)], choice[(s, t)] = best, chosen
    return Search(costs, unit, time, choice)


def _units(size, unit):
    return int(math.ceil(size / unit))


def _shifted(values, by):
    """values[m - by] at m (inf below by): the memory left once `by` units are held."""
    result = np.full_like(values, np.inf)
    if by < len(values):
        result[by:] = values[:len(values) - by] if by else values
    return result
