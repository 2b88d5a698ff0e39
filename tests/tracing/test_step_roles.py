"""step_roles on graphs written by hand: the rules of tracing/step_roles.py, without TensorFlow."""
from tracing.categories import category_of, phase_of
from tracing.step_roles import step_roles

# A Keras-like train_step: model ops under its name, the loss, the tape's gradients, the
# optimizer's scope (with an op that reads no gradient), a metric at the top level.
EDGES = {
    "data": [], "labels": [], "mlp/dense/kernel_read": [],
    "mlp/dense/MatMul": ["data", "mlp/dense/kernel_read"],
    "mlp/dense/Relu": ["mlp/dense/MatMul"],
    "mlp/bn/AssignMovingAvg": ["mlp/dense/Relu"],  # reads no gradient, nothing reads it back
    "compile_loss/xent": ["mlp/dense/Relu", "labels"],
    "compile_loss/mean": ["compile_loss/xent"],
    "gradient_tape/compile_loss/xent_grad": ["compile_loss/xent"],
    "gradient_tape/mlp/dense/ReluGrad": ["gradient_tape/compile_loss/xent_grad", "mlp/dense/Relu"],
    "gradient_tape/mlp/dense/MatMul_1": ["gradient_tape/mlp/dense/ReluGrad", "data"],
    "adam/iteration_read": [], "adam/Pow": ["adam/iteration_read"],
    "adam/Mul": ["gradient_tape/mlp/dense/MatMul_1", "adam/Pow"],
    "adam/AssignSubVariableOp": ["adam/Mul"],
    "ArgMax": ["mlp/dense/Relu"], "AssignAddVariableOp": ["ArgMax"],
}


def test_roles_follow_the_gradients_and_the_scopes():
    roles = step_roles(EDGES, EDGES, arguments=["data", "labels"])
    assert roles == {
        "data": "input", "labels": "input",
        "mlp/dense/kernel_read": "forward", "mlp/dense/MatMul": "forward", "mlp/dense/Relu": "forward",
        "mlp/bn/AssignMovingAvg": "forward",  # the model's scope
        "compile_loss/xent": "loss", "compile_loss/mean": "loss",
        "gradient_tape/compile_loss/xent_grad": "backward", "gradient_tape/mlp/dense/ReluGrad": "backward",
        "gradient_tape/mlp/dense/MatMul_1": "backward",
        "adam/iteration_read": "update", "adam/Pow": "update",  # the optimizer's scope
        "adam/Mul": "update", "adam/AssignSubVariableOp": "update",
        "ArgMax": "metrics", "AssignAddVariableOp": "metrics",
    }


def test_a_step_without_scopes_is_placed_by_its_edges():
    edges = {"x": [], "w": [], "MatMul": ["x", "w"], "Sum": ["MatMul"],
             "gradient_tape/MatMul/MatMul": ["x"], "mul": ["gradient_tape/MatMul/MatMul"],
             "AssignSubVariableOp": ["mul"], "Identity": ["Sum"]}
    roles = step_roles(edges, edges, arguments=["x"])
    assert (roles["mul"], roles["AssignSubVariableOp"]) == ("update", "update")
    assert roles["Identity"] == roles["Sum"] == roles["MatMul"] == roles["w"] == "metrics"
    # Returned, and computed from the arguments: the loss, which no gradient reads.
    roles = step_roles(edges, edges, arguments=["x"], outputs=["Identity"])
    assert roles["Identity"] == roles["Sum"] == roles["MatMul"] == "forward"
    assert roles["w"] == "metrics"  # a variable read: not computed from the arguments


def test_renamed_nodes_get_the_project_categories():
    """tf_step_import renames each node '<role>/<name>': the tracer's own rules then apply, and a
    metric's AssignVariableOp is not taken for a weight update."""
    expected = {"input": ("input", "forward"), "forward": ("activation", "forward"),
                "loss": ("activation", "forward"), "backward": ("gradient", "backward"),
                "update": ("update", "update"), "metrics": ("other", "other")}
    for role, (category, phase) in expected.items():
        name = f"{role}/scope/AssignAddVariableOp" if role == "metrics" else f"{role}/scope/op"
        assert (category_of(name, "AssignAddVariableOp" if role == "metrics" else "MatMul"), phase_of(name)) == \
            (category, phase), name
