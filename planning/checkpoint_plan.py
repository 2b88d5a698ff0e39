"""A checkpointing plan: which block inputs BPCKPT stores, and what it recomputes from them.

A plan is a tree of segments over the blocks [start, stop). A leaf keeps every activation of
its blocks and differentiates them. A split segment has two or more children, in block order:

- the forward pass runs through every child but the last, keeping only each child's input
  (the checkpoints; the first child's input is the segment's own, held by its parent);
- the last child is differentiated first, on that same forward pass;
- every other child, last first, is recomputed from its checkpoint (after the later child's
  updates, so that the recomputation is not merged with the first pass and runs when its
  activations are needed) and differentiated in turn, with its own plan.

So a child that is itself split stores its own checkpoints while it is recomputed: nested
recomputation, one level deeper. The forward of block i runs once plus once per split segment
on its path from the root in which it is not in the last child.

Written as segment lengths separated by '|', a split child in parentheses:

    "12"            one leaf: BP's schedule, no checkpoints
    "4|4|4"         Chen et al.'s uniform segments (segment_size 4)
    "(2|2)|4|4"     the first segment of four blocks is recomputed in two halves

A last child that is split would run its forward pass once, as its siblings' do, so it is the
same plan as its children written in its place: `Segment` keeps plans in that canonical form,
and "4|(2|2)" reads as "4|2|2".
"""
from dataclasses import dataclass

from definitions.errors import ConfigError
from planning.segments import default_segment_size

MAX_NESTING = 100


@dataclass(frozen=True)
class Segment:
    start: int
    stop: int
    children: tuple = ()  # () for a leaf; else two or more Segments covering [start, stop) in order

    def __post_init__(self):
        if not 0 <= self.start < self.stop:
            raise ValueError(f"a segment needs at least one block, got [{self.start}, {self.stop})")
        if self.children:
            bounds = [self.start] + [child.stop for child in self.children]
            starts = [child.start for child in self.children]
            if len(self.children) < 2 or starts != bounds[:-1] or bounds[-1] != self.stop:
                raise ValueError(f"children {self.children} do not cut [{self.start}, {self.stop}) in order")
            if self.children[-1].children:  # canonical: a split last child is flattened into this one
                object.__setattr__(self, "children", self.children[:-1] + self.children[-1].children)

    @property
    def is_leaf(self):
        return not self.children

    @property
    def blocks(self):
        return self.stop - self.start

    def checkpoints(self):
        """The block indices whose inputs this segment stores (the children's inputs but the first's)."""
        return [child.start for child in self.children[1:]]

    def levels(self):
        """Nesting depth of recomputation: 0 for BP's plan, 1 for uniform segments, 2 and more nested."""
        if self.is_leaf:
            return 0
        recomputed = [child.levels() for child in self.children[:-1]]
        return max(1 + max(recomputed), self.children[-1].levels())

    def forward_counts(self):
        """[how many times each block's forward runs], for blocks start..stop-1."""
        if self.is_leaf:
            return [1] * self.blocks
        counts = []
        for child in self.children[:-1]:
            counts += [count + 1 for count in child.forward_counts()]
        return counts + self.children[-1].forward_counts()

    def checkpoints_by_level(self, level=1):
        """{level: [block indices whose inputs are stored at that recomputation level]}."""
        if self.is_leaf:
            return {}
        found = {level: self.checkpoints()}
        for child in self.children[:-1]:
            for deeper, starts in child.checkpoints_by_level(level + 1).items():
                found.setdefault(deeper, []).extend(starts)
        return {key: sorted(value) for key, value in found.items() if value}

    def __str__(self):
        if self.is_leaf:
            return str(self.blocks)
        return "|".join(f"({child})" if child.children else str(child) for child in self.children)

    def describe(self):
        """One line for people: the checkpointed blocks per level."""
        by_level = self.checkpoints_by_level()
        if not by_level:
            return "no checkpoints (BP's schedule)"
        parts = [f"level {level}: blocks {', '.join(map(str, starts))}" for level, starts in sorted(by_level.items())]
        return "inputs stored before " + "; ".join(parts)


def leaf(start, stop):
    return Segment(start, stop)


def uniform(num_blocks, segment_size):
    """Chen et al.'s plan: segments of `segment_size` blocks, the last one shorter."""
    bounds = list(range(0, num_blocks, segment_size)) + [num_blocks]
    if len(bounds) == 2:
        return leaf(0, num_blocks)
    return Segment(0, num_blocks, tuple(leaf(a, b) for a, b in zip(bounds, bounds[1:])))


def plan_for(num_blocks, text=None, segment_size=None):
    """BPCKPT's plan from its settings: `text` (checkpoint_plan) parsed, else segment_size's uniform
    plan (default round(sqrt(blocks)))."""
    if text is not None:
        return parse(text, num_blocks)
    return uniform(num_blocks, segment_size or default_segment_size(num_blocks))


def parse(text, num_blocks):
    """A plan from its written form ("(2|2)|4|4"); a ConfigError says what is wrong with it.

    Spaces may stand between the parts ("(2 | 2) | 8"), not inside a length: "1 2" is an error,
    not 12. Positions in messages count the characters as written, from 1.
    """
    written = str(text)
    position = 0

    def fail(why):
        raise ConfigError(f"checkpoint plan {text!r}: {why} (write segment lengths joined by '|', "
                          f"a recomputed segment split in parentheses, e.g. '(2|2)|4|4')")

    def next_char():
        """The next character that is not a space ('' at the end), with `position` on it."""
        nonlocal position
        while position < len(written) and written[position].isspace():
            position += 1
        return written[position] if position < len(written) else ""

    def segment(start, depth=0):
        nonlocal position
        children = []
        while True:
            if next_char() == "(":
                if depth == MAX_NESTING:  # parsed by recursion: a deeper plan would exhaust Python's stack
                    fail(f"parentheses nest more than {MAX_NESTING} deep")
                opened = position
                position += 1
                child = segment(start, depth + 1)
                if next_char() != ")":
                    fail(f"the '(' at character {opened + 1} is not closed")
                position += 1
            else:
                digits = position
                # ASCII digits only: str.isdigit() also takes '²', which int() refuses.
                while position < len(written) and written[position] in "0123456789":
                    position += 1
                if digits == position:
                    fail(f"expected a segment length at character {position + 1}")
                length = int(written[digits:position])
                if length < 1:
                    fail("a segment length is at least 1")
                child = leaf(start, start + length)
            children.append(child)
            start = child.stop
            if next_char() == "|":
                position += 1
                continue
            break
        return children[0] if len(children) == 1 else Segment(children[0].start, start, tuple(children))

    if not written.strip():
        fail("it is empty")
    plan = segment(0)
    if next_char():
        fail(f"unexpected {written[position]!r} at character {position + 1}")
    if plan.stop != num_blocks:
        fail(f"it covers {plan.stop} blocks, the network has {num_blocks}")
    return plan
