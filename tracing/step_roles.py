"""Which part of a TensorFlow 2 step each op of an imported function graph belongs to.

The project's own steps put their ops under input/, forward/, loss/, backward/ and update/
(tracing/categories.py). A Keras 3 `train_step` or a user's `tf.function` names them
otherwise: the model's layers under the model's name (sequential_1/dense/MatMul), the loss
under compile_loss/, every gradient of `tf.GradientTape` under gradient_tape/, the optimizer's
ops under its name (adam/...), and the metrics' updates at the top level (Add, AssignVariableOp,
div_no_nan). Names alone do not tell the metrics from the forward pass, so the roles come from
the graph's data edges, seeded by the one name TensorFlow always gives, gradient_tape:

  input     the function's arguments (its Placeholders);
  backward  nodes with a `gradient_tape` scope;
  update    nodes that read a gradient (directly or through other such nodes), and every node
            of a top-level scope that holds one (the optimizer's: its bias corrections and
            iteration count read no gradient);
  loss      nodes under a compile_loss/ or loss/ scope, not yet placed;
  forward   what the gradients read (directly or indirectly), and every node of a top-level
            scope that holds one (the model's own, e.g. a layer's moving-average updates);
            then what the function returns computed from its arguments (a loss that no gradient
            reads: the gradient of a sum is a Tile of ones);
  metrics   the rest: the metrics' updates, the logs read back from their variables, and
            top-level ops that neither read a gradient nor feed one nor the outputs from the
            arguments (category "other").

This module only sees names, op types and edges, so it is tested without TensorFlow; the
importer (tracing/tf_step_import.py) renames each node `<role>/<its name>` so that the tracer's
scope rules apply as they are.
"""
from collections import deque

ROLES = ("input", "forward", "loss", "backward", "update", "metrics")
TAPE_SCOPE = "gradient_tape"
LOSS_SCOPES = ("compile_loss", "loss")


def _top_scope(name):
    return name.split("/", 1)[0] if "/" in name else None


def _closure(start, edges):
    """Every node reachable from `start` along `edges` (start excluded unless reached)."""
    seen, pending = set(), deque(start)
    while pending:
        for other in edges.get(pending.popleft(), ()):
            if other not in seen:
                seen.add(other)
                pending.append(other)
    return seen


def step_roles(nodes, inputs, arguments=(), outputs=()):
    """{node name: role} for a function graph.

    nodes: node names; inputs: {node: names of the nodes whose outputs it reads (data edges
    only: control edges order stateful ops, they carry no values)}; arguments: the function's
    argument placeholders; outputs: the nodes whose values it returns.
    """
    nodes = list(nodes)
    readers = {}
    for node, sources in inputs.items():
        for source in sources:
            readers.setdefault(source, set()).add(node)
    roles = {node: "input" for node in arguments}
    backward = {node for node in nodes if TAPE_SCOPE in node.split("/") and node not in roles}
    roles.update(dict.fromkeys(backward, "backward"))

    def place(members, role, whole_scopes):
        members = {node for node in members if node not in roles}
        scopes = {_top_scope(node) for node in members} - {None, TAPE_SCOPE} if whole_scopes else set()
        members |= {node for node in nodes if node not in roles and _top_scope(node) in scopes}
        roles.update(dict.fromkeys(members, role))

    place(_closure(backward, readers), "update", whole_scopes=True)
    place({node for node in nodes if set(node.split("/")[:-1]) & set(LOSS_SCOPES)}, "loss", whole_scopes=False)
    place(_closure(backward, inputs), "forward", whole_scopes=True)
    from_arguments = _closure(arguments, readers)
    returned = {node for node in outputs if node in from_arguments}
    place((_closure(returned, inputs) & from_arguments) | returned, "forward", whole_scopes=False)
    for node in nodes:
        roles.setdefault(node, "metrics")
    return roles
