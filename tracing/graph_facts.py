"""What the tracer needs to know about the graph, read once into plain dicts.

The graph is read through its attributes only (get_operations, op.inputs, op.outputs,
get_collection), so this module imports no TensorFlow and tests can pass a GraphFacts built by
hand instead of a graph.
"""
from dataclasses import dataclass, field

# Collection keys of tf.compat.v1.GraphKeys, spelled out to avoid importing TensorFlow here.
GLOBAL_VARIABLES = "variables"
TRAINABLE_VARIABLES = "trainable_variables"
UPDATE_SCOPE = "update"


@dataclass(frozen=True)
class GraphFacts:
    """op_types: node -> graph op type. consumers: tensor 'node:slot' -> nodes that read it.
    optimizer_state_ops: update ops that read or write optimizer variables (slots, beta powers)
    and no trainable variable, i.e. ops that maintain optimizer state rather than weights."""

    op_types: dict = field(default_factory=dict)
    consumers: dict = field(default_factory=dict)
    optimizer_state_ops: frozenset = frozenset()


def variable_name(variable):
    return variable.name.split(":", 1)[0]


def optimizer_variable_names(graph):
    """Non-trainable globals that belong to the optimizer.

    TF1 optimizers name a slot '<variable>/<Optimizer>' (model/w1/Momentum, model/w1/Adam_1)
    and create extra state such as beta1_power under the name scope open at apply time
    (update/). Batch-norm moving statistics and feedback matrices are neither.
    """
    trainable = {variable_name(v) for v in graph.get_collection(TRAINABLE_VARIABLES)}
    names = set()
    for variable in graph.get_collection(GLOBAL_VARIABLES):
        name = variable_name(variable)
        if name in trainable:
            continue
        owned_by_weight = any(name.startswith(weight + "/") for weight in trainable)
        if owned_by_weight or name.split("/", 1)[0] == UPDATE_SCOPE:
            names.add(name)
    return names


def _touched_variables(op):
    """Variable handles an op reads or writes, directly or through one ReadVariableOp."""
    touched = set()
    for tensor in op.inputs:
        source = tensor.op
        touched.add(source.name)
        if source.type == "ReadVariableOp":
            touched.update(inner.op.name for inner in source.inputs)
    return touched


def facts_from_graph(graph):
    if graph is None:
        return GraphFacts()
    trainable = {variable_name(v) for v in graph.get_collection(TRAINABLE_VARIABLES)}
    optimizer_vars = optimizer_variable_names(graph)
    op_types, consumers, optimizer_state_ops = {}, {}, set()
    for op in graph.get_operations():
        op_types[op.name] = op.type
        for tensor in op.outputs:
            readers = tuple(consumer.name for consumer in tensor.consumers())
            if readers:
                consumers[tensor.name] = readers
        if op.name.split("/", 1)[0] == UPDATE_SCOPE or f"/{UPDATE_SCOPE}/" in f"/{op.name}":
            touched = _touched_variables(op)
            if touched & optimizer_vars and not touched & trainable:
                optimizer_state_ops.add(op.name)
    return GraphFacts(op_types, consumers, frozenset(optimizer_state_ops))
