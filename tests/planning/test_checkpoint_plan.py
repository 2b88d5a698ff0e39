"""Checkpoint plans: the written form and back, its errors, and what a plan says it recomputes.

The oracles are independent of the parser: plans drawn as trees (hypothesis) and written out
by hand, the uniform plan from planning.segments' bounds, and forward counts recounted from
the recomputation rule (a block runs once, plus once per recomputed segment holding it).
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from definitions.errors import ConfigError
from planning.checkpoint_plan import MAX_NESTING, Segment, leaf, parse, plan_for, uniform
from planning.segments import default_segment_size, segment_bounds


@st.composite
def trees(draw, depth=0):
    """(written form, number of blocks) of a random plan, parentheses wherever a child is split."""
    if depth >= 3 or draw(st.booleans()):
        length = draw(st.integers(1, 4))
        return str(length), length
    parts, blocks = [], 0
    for _ in range(draw(st.integers(2, 4))):
        text, size = draw(trees(depth=depth + 1))
        parts.append(f"({text})" if "|" in text else text)
        blocks += size
    return "|".join(parts), blocks


def recomputations(segment):
    """[(start, stop)] of every segment recomputed when `segment` is differentiated (by the rule, not the code)."""
    if segment.is_leaf:
        return []
    found = [(child.start, child.stop) for child in segment.children[:-1]]
    for child in segment.children:
        found += recomputations(child)
    return found


@settings(max_examples=200, deadline=None)
@given(trees())
def test_the_written_form_reads_back_to_the_same_plan(tree):
    text, blocks = tree
    plan = parse(text, blocks)
    assert (plan.start, plan.stop) == (0, blocks)
    assert parse(str(plan), blocks) == plan
    spaced = " " + text.replace("|", " | ").replace("(", "( ").replace(")", " )") + " "
    assert parse(spaced, blocks) == plan  # spaces between the parts
    assert str(parse(str(plan), blocks)) == str(plan)
    counts = [1] * blocks
    for start, stop in recomputations(plan):
        for block in range(start, stop):
            counts[block] += 1
    assert plan.forward_counts() == counts


def test_canonical_form_flattens_a_split_last_child():
    assert str(parse("4|(2|2)", 8)) == "4|2|2"
    assert parse("4|(2|2)", 8) == parse("4|2|2", 8)
    assert str(parse("(2|(1|1))|1", 5)) == "(2|1|1)|1"
    assert str(parse("((1|1)|(1|1))|1", 5)) == "((1|1)|1|1)|1"
    assert str(parse("(4)", 4)) == "4" and parse("((2|2))", 4) == parse("2|2", 4)


@pytest.mark.parametrize("blocks,size", [(12, 4), (7, 3), (5, 1), (4, 4), (4, 100), (30, None)])
def test_uniform_plans_are_segment_sizes_bounds(blocks, size):
    plan = plan_for(blocks, segment_size=size)
    bounds = segment_bounds(blocks, size or default_segment_size(blocks))
    if len(bounds) == 1:
        assert plan.is_leaf and str(plan) == str(blocks)
    else:
        assert [(child.start, child.stop) for child in plan.children] == bounds
        assert all(child.is_leaf for child in plan.children)
    assert plan == uniform(blocks, size or default_segment_size(blocks))
    assert plan == parse("|".join(str(stop - start) for start, stop in bounds), blocks)


def test_a_written_plan_wins_over_the_segment_size():
    assert plan_for(4, "(1|1)|2", segment_size=None) == parse("(1|1)|2", 4)
    assert plan_for(4) == uniform(4, 2)


@pytest.mark.parametrize("text,levels,counts,by_level", [
    ("12", 0, [1] * 12, {}),
    ("4|4|4", 1, [2] * 8 + [1] * 4, {1: [4, 8]}),
    ("(2|2)|4|4", 2, [3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1], {1: [4, 8], 2: [2]}),
    ("((1|1)|1)|1", 3, [4, 3, 2, 1], {1: [3], 2: [2], 3: [1]}),
    ("(2|(1|1))|1", 2, [3, 3, 3, 2, 1], {1: [4], 2: [2, 3]}),
    ("1|(2|1)", 1, [2, 2, 2, 1], {1: [1, 3]}),  # the split last child is flattened: 1|2|1
])
def test_levels_counts_and_checkpoints(text, levels, counts, by_level):
    plan = parse(text, len(counts))
    assert plan.levels() == levels
    assert plan.forward_counts() == counts
    assert plan.checkpoints_by_level() == by_level
    if by_level:
        parts = [f"level {level}: blocks {', '.join(map(str, starts))}" for level, starts in sorted(by_level.items())]
        assert plan.describe() == "inputs stored before " + "; ".join(parts)
    else:
        assert plan.describe() == "no checkpoints (BP's schedule)"


@pytest.mark.parametrize("text,blocks,why", [
    ("", 4, "it is empty"),
    ("   ", 4, "it is empty"),
    ("2|2", 5, "it covers 4 blocks, the network has 5"),
    ("(2|2)|4", 4, "it covers 8 blocks, the network has 4"),
    ("2||2", 4, "expected a segment length at character 3"),
    ("2|", 2, "expected a segment length at character 3"),
    ("()", 4, "expected a segment length at character 2"),
    ("(2|2", 4, "the '(' at character 1 is not closed"),
    ("1 | (1|(1|1)", 4, "the '(' at character 5 is not closed"),  # counted as written, spaces included
    ("2)", 2, "unexpected ')' at character 2"),
    ("2 x", 2, "unexpected 'x' at character 3"),
    ("1 2", 12, "unexpected '2' at character 3"),  # not 12
    ("0|2", 2, "a segment length is at least 1"),
    ("-1", 1, "expected a segment length at character 1"),
    ("1e3", 1000, "unexpected 'e' at character 2"),
    ("²", 2, "expected a segment length at character 1"),  # a digit to str.isdigit, not to int()
    ("(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), 1, f"parentheses nest more than {MAX_NESTING} deep"),
])
def test_a_bad_plan_is_a_config_error_that_says_why(text, blocks, why):
    with pytest.raises(ConfigError) as error:
        parse(text, blocks)
    message = str(error.value)
    assert message.startswith(f"checkpoint plan {text!r}: {why} ") and "e.g. '(2|2)|4|4'" in message, message
    assert "\n" not in message


def test_nesting_up_to_the_limit_is_fine():
    assert parse("(" * MAX_NESTING + "3" + ")" * MAX_NESTING, 3) == leaf(0, 3)


@pytest.mark.parametrize("start,stop,children", [
    (0, 0, ()), (2, 1, ()),
    (0, 4, (leaf(0, 4),)),  # one child is no split
    (0, 4, (leaf(0, 2), leaf(3, 4))),  # a gap
    (0, 4, (leaf(0, 2), leaf(2, 5))),  # past the end
])
def test_segments_that_do_not_cut_their_blocks_are_refused(start, stop, children):
    with pytest.raises(ValueError):
        Segment(start, stop, children)
