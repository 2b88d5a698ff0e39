from tests.tracing import handmade_step as step
from tracing.buffers import pair_buffers, unfreed_bytes
from tracing.categories import Classifier
from tracing.liveness import activation_rows
from tracing.node_table import executed_nodes
from tracing.records import AllocationRecord


def test_buffers_pair_each_free_with_the_oldest_open_allocation_of_its_op():
    buffers = {(b.owner, b.ordinal): b for b in pair_buffers(step.records())}
    scratch, loss_vector = buffers[(step.XENT, 0)], buffers[(step.XENT, 1)]
    assert (scratch.alloc_us, scratch.free_us) == (step.T0 + 31, step.T0 + 34)
    assert (loss_vector.alloc_us, loss_vector.free_us) == (step.T0 + 32, step.T0 + 43)
    assert buffers[(step.MEAN, 0)].free_us is None
    assert unfreed_bytes(step.records()) == step.FINAL_BYTES


def test_free_without_allocation_in_the_step_is_not_a_buffer():
    records = [AllocationRecord(1, -64, "old", "d", "a"), AllocationRecord(2, 8, "new", "d", "a")]
    assert [(b.owner, b.free_us) for b in pair_buffers(records)] == [("new", None)]


def _rows(node_stats):
    nodes = executed_nodes(node_stats, step.records())
    return {row.activation_name: row for row in activation_rows(step.records(), nodes, step.CONSUMERS, Classifier())}


def test_activations_follow_forwarded_buffers_to_their_backward_readers():
    rows = _rows(step.node_stats())
    # Scratch space, the loss vector (no backward reader) and the fetched loss are not listed.
    assert sorted(rows) == [f"{step.B1}:0", f"{step.B2}:0"]
    hidden = rows[f"{step.B1}:0"]
    # Ranks: B1 2, Relu 3, B2 4, xent 5, Mean 6, xent_grad 7, dW2 8, dh 9, apply 10, ReluGrad 11.
    # Its readers are those of Relu's output, which lives in the same buffer.
    assert (hidden.creation_rank, hidden.last_fw_use_rank, hidden.first_bw_use_rank, hidden.last_bw_use_rank) == (2, 4, 8, 11)
    assert hidden.size_bytes == 128
    assert hidden.inactive_time_us == 50 - (20 + 4)  # dW2 starts at 50, block_2 ends at 24
    logits = rows[f"{step.B2}:0"]
    assert (logits.creation_rank, logits.last_fw_use_rank, logits.first_bw_use_rank, logits.last_bw_use_rank) == (4, 5, 7, 9)
    assert logits.inactive_time_us == 45 - 35


def test_liveness_ranks_are_ordered():
    for row in _rows(step.node_stats()).values():
        assert row.creation_rank <= row.last_fw_use_rank < row.first_bw_use_rank <= row.last_bw_use_rank


def test_without_addresses_only_the_owners_own_readers_count():
    stripped = [node.__class__(node.name, node.device, node.op_type, node.all_start_micros, node.run_time_us, ())
                for node in step.node_stats()]
    rows = _rows(stripped)
    # block_1's MatMul output is read only by Relu (forward): no backward reader is visible.
    assert f"{step.B1}:0" not in rows and f"{step.B1}#0" not in rows


def test_a_reader_grappler_fused_away_passes_its_role_to_its_readers():
    # As if Grappler fused block_2's MatMul into the loss: the graph still names the MatMul as
    # the reader of Relu's output, but only the fused loss node ran.
    consumers = dict(step.CONSUMERS)
    consumers[f"{step.RELU}:0"] = ("forward/block_2/gone", step.DW2, step.RELU_GRAD)
    consumers["forward/block_2/gone:0"] = (step.XENT,)
    nodes = executed_nodes(step.node_stats(), step.records())
    rows = {r.activation_name: r for r in activation_rows(step.records(), nodes, consumers, Classifier())}
    assert rows[f"{step.B1}:0"].last_fw_use_rank == 5  # the loss node, in the MatMul's place
