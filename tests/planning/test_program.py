"""The simulator's semantics, on hand-written programs whose memory can be counted by hand."""
from planning.program import Op, Tensor, simulate

A, B, C, D = (Tensor(name, size) for name, size in (("a", 100), ("b", 10), ("c", 1000), ("d", 100)))
X = Tensor("x", 7)  # allocated outside the step (tf.data's batch)


def test_outputs_and_temps_count_while_alive_inputs_go_after_their_last_reader():
    ops = [Op("make_a", inputs=(X,), outputs=(A,)),
           Op("make_b", inputs=(A,), outputs=(B,), temps=((50, "gradient"),)),
           Op("make_c", inputs=(A, B), outputs=(C,)),
           Op("read_c", inputs=(C,))]
    result = simulate(ops, external=[X])
    assert [p.bytes_in_use for p in result.timeline] == [100, 100 + 10 + 50, 100 + 10 + 1000, 1000]
    assert (result.peak_bytes, result.peak_op) == (1110, "make_c")
    assert result.final_bytes == 0  # c went with its last reader
    assert result.by_category_at_peak == {"activation": 1110}


def test_in_place_takes_over_a_buffer_only_without_other_readers():
    alone = [Op("make_a", outputs=(A,)), Op("relu", inputs=(A,), outputs=(D,), in_place={"d": ("a",)}), Op("read", inputs=(D,))]
    assert simulate(alone).peak_bytes == 100  # Relu forwarded a's buffer
    shared = [Op("make_a", outputs=(A,)), Op("relu", inputs=(A,), outputs=(D,), in_place={"d": ("a",)}),
              Op("read", inputs=(D, A))]
    assert simulate(shared).peak_bytes == 200  # a is read again later: a new buffer


def test_aliases_share_a_buffer_that_lives_as_long_as_any_name():
    view = Tensor("view", 100)
    ops = [Op("make_a", outputs=(A,)), Op("reshape", inputs=(A,), outputs=(view,), alias={"view": "a"}),
           Op("make_c", outputs=(C,)), Op("read_view", inputs=(view,)), Op("after", outputs=(B,))]
    result = simulate(ops)
    # The view keeps a's buffer until read_view; c and b, which nothing reads, go when made (as
    # TensorFlow drops an output without consumers once its op is done), but count at that moment.
    assert [p.bytes_in_use for p in result.timeline] == [100, 100, 1100, 100, 10]
    assert result.final_bytes == 0


def test_kept_tensors_live_to_the_end_and_externals_never_count():
    ops = [Op("make_a", inputs=(X,), outputs=(A,)), Op("read", inputs=(A, X))]
    assert simulate(ops, external=[X], keep=[A]).final_bytes == 100
    assert simulate(ops, external=[X]).final_bytes == 0


def test_step_flops_count_the_live_ops_only():
    """An op whose outputs nothing live reads is pruned before the step runs (Grappler): its FLOPs
    do not count; updates (no outputs) and ops making a kept tensor do, with all they read."""
    from planning.recompute import step_flops
    ops = [Op("forward", inputs=(X,), outputs=(A,), flops=1),
           Op("loss", inputs=(A,), outputs=(B,), flops=10),
           Op("dead_recompute", inputs=(A,), outputs=(C,), flops=100),
           Op("gradient", inputs=(A, B), outputs=(D,), flops=1000),
           Op("update", inputs=(D,))]
    assert step_flops(ops) == 1011
    assert step_flops(ops, keep=[C]) == 1111
    assert step_flops(ops[:3], keep=[B]) == 11
