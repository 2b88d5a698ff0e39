import pytest

from tracing.categories import Classifier, category_of, phase_of, step_scope
from tracing.graph_facts import GraphFacts


@pytest.mark.parametrize("name, category, phase", [
    ("input/IteratorGetNext", "input", "forward"),
    ("forward/block_3/MatMul", "activation", "forward"),
    ("loss/SparseSoftmaxCrossEntropyWithLogits/SparseSoftmaxCrossEntropyWithLogits", "activation", "forward"),
    ("backward/gradients/forward/block_1/MatMul_grad/MatMul", "gradient", "backward"),
    ("backward/gradients/loss/xent_grad/mul", "gradient", "backward"),
    ("feedback/block_2/MatMul", "gradient", "backward"),
    # PEPITA's second forward pass and LOCAL's auxiliary heads are forward passes.
    ("modulated/block_1/MatMul", "activation", "forward"),
    ("modulated/input/MatMul", "activation", "forward"),
    ("auxiliary/block_0/0_FullyConnected/BiasAdd", "activation", "forward"),
    ("update/Momentum/update_model/w1/ResourceApplyMomentum", "update", "update"),
    ("update/Momentum/momentum", "update", "update"),  # the hyper-parameter, not a slot
    ("update/Momentum/update_model/w1/Momentum/mul", "optimizer_state", "update"),
    ("update/custom/m/add", "optimizer_state", "update"),
    # DFAMEM nests the step scopes under recompute/: the first step scope decides.
    ("recompute/block_3/forward/MatMul", "activation", "forward"),
    ("recompute/block_3/backward/gradients/MatMul_grad/MatMul", "gradient", "backward"),
    # MEZO's in-place moves of the weights; FGRAD's tangents ride in the forward pass.
    ("perturb/minus/stateless_random_normal/StatelessRandomNormalV2", "update", "update"),
    ("perturb/plus/AssignAddVariableOp", "update", "update"),
    ("forward/block_1/tangent/MatMul", "activation", "forward"),
    # Grappler prefixes its rewrites.
    ("ConstantFolding/backward/gradients/Shape", "gradient", "backward"),
    ("ArithmeticOptimizer/AddOpsRewrite_backward/gradients/AddN", "gradient", "backward"),
    ("eval_forward/block_1/MatMul", "other", "other"),  # the trainer's eval pass, not Grappler
    ("alignment_forward/MatMul", "other", "other"),
    ("model/w1", "other", "other"),
    ("_SOURCE", "other", "other"),
])
def test_scope_decides(name, category, phase):
    assert category_of(name) == category
    assert phase_of(name) == phase


def test_first_step_scope_wins_over_later_ones():
    assert step_scope("backward/gradients/forward/block_1/Relu_grad/ReluGrad") == "backward"
    assert step_scope("model/dense") is None


@pytest.mark.parametrize("op_type, category", [
    ("_Arg", "input"),
    ("IteratorGetNext", "input"),
    ("TensorSliceDataset", "input"),
    ("ResourceApplyAdam", "update"),
    ("AssignVariableOp", "update"),
    ("ReluGrad", "gradient"),
    ("_MklConv2DBackpropFilter", "gradient"),
    ("FusedBatchNormGradV3", "gradient"),
    ("MatMul", "other"),
    ("", "other"),
])
def test_unscoped_names_fall_back_to_op_type(op_type, category):
    assert category_of("renamed_by_grappler_1", op_type) == category


def test_gradient_names_without_scope_are_gradients():
    assert category_of("gradients/dense/MatMul_grad/MatMul") == "gradient"


def test_graph_facts_override_name_rules_in_update_scope():
    facts = GraphFacts(op_types={"update/Adam/mul": "Mul", "update/Adam/update_model/m/apply": "ResourceApplyAdam"},
                       optimizer_state_ops=frozenset({"update/Adam/mul"}))
    classifier = Classifier(facts)
    assert classifier.category("update/Adam/mul") == "optimizer_state"
    # In the graph and touching a weight: an update even though 'm' is in its scopes.
    assert classifier.category("update/Adam/update_model/m/apply") == "update"


def test_classifier_uses_runtime_type_for_nodes_missing_from_graph():
    classifier = Classifier(GraphFacts(op_types={"a": "MatMul"}), {"fused_1": "_MklNativeFusedMatMul", "g_7": "ReluGrad"})
    assert classifier.category("fused_1") == "other"
    assert classifier.category("g_7") == "gradient"
    assert classifier.phase("g_7") == "backward"
