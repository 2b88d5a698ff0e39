"""A TensorFlow 2 step (a `tf.function` call) imported into a tf.compat.v1 Graph and Session.

Allocation records exist only under FULL_TRACE in a Session, so tracing a TensorFlow 2 step
means running its graph in one (ARCHITECTURE.md, "A TensorFlow 2 step in a Session"): the function is traced
for the given arguments into a concrete function, its GraphDef is imported into a new Graph in
which every variable it captures is recreated, with its current value, and every other captured
tensor becomes a constant. Each node is renamed `<role>/<its name>` (tracing/step_roles.py), so
the tracer classifies it as it does the project's own steps; variables are named as the tracer
expects (tracing/graph_facts.py): weights by their own name, optimizer state under update/,
metric state under metrics/.

The original variables are not touched: the imported step updates its own copies.
TensorFlow is imported when `import_step` runs.
"""
from dataclasses import dataclass

from definitions.errors import ConfigError

from tracing.step_roles import step_roles

_WRITES = ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp")


@dataclass
class ImportedStep:
    graph: object  # the tf.Graph the step lives in
    fetches: list  # what one session.run of the step fetches: its outputs and its stateful ops
    outputs: object  # the function's outputs in the imported graph (its structure flattened)
    feeds: list  # the argument placeholders, in the order of the flattened arguments
    variables: dict  # original variable name -> the imported tf.Variable
    init_op: object
    init_feed: dict  # what init_op is fed: the variables' current values (kept out of the GraphDef)
    roles: dict  # imported node name -> role


def _variable_kind(original, users, roles):
    """'weights' (trainable), 'optimizer' (non-trainable, used by the update only), 'metrics'
    (non-trainable, used by the metrics only) or 'state' (batch-norm statistics and the rest)."""
    if original.trainable:
        return "weights"
    used_by = {roles.get(user) for user in users}
    if used_by and used_by <= {"update"}:
        return "optimizer"
    if used_by and used_by <= {"metrics"}:
        return "metrics"
    return "state"


def _data_inputs(node_def):
    return [name.split(":", 1)[0] for name in node_def.input if not name.startswith("^")]


def _renamed(name, roles):
    return f"{roles[name]}/{name}" if name in roles else name


def _rename_graph_def(graph_def, roles):
    """A copy of graph_def with every node `<role>/<name>`, inputs and colocations following."""
    import tensorflow as tf

    renamed = tf.compat.v1.GraphDef()
    renamed.CopyFrom(graph_def)
    for node in renamed.node:
        node.name = _renamed(node.name, roles)
        for index, source in enumerate(node.input):
            control = source.startswith("^")
            op_name, _, slot = source.lstrip("^").partition(":")
            new = _renamed(op_name, roles)
            node.input[index] = ("^" if control else "") + new + (f":{slot}" if slot else "")
        if "_class" in node.attr:
            values = [value.decode() for value in node.attr["_class"].list.s]
            del node.attr["_class"].list.s[:]
            node.attr["_class"].list.s.extend(
                ("loc:@" + _renamed(value[5:], roles)).encode() if value.startswith("loc:@") else value.encode()
                for value in values)
    return renamed


def concrete_function(fn, args):
    """The concrete function of `fn` (a tf.function, or a Python function to wrap) for args."""
    import tensorflow as tf

    if not hasattr(fn, "get_concrete_function"):
        fn = tf.function(fn)
    try:
        return fn.get_concrete_function(*args)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"cannot trace {getattr(fn, '__name__', fn)} for these arguments: {error}") from error


def import_step(fn, args):
    """Import one call fn(*args) into a new Graph. Returns an ImportedStep."""
    import tensorflow as tf

    concrete = concrete_function(fn, args)
    function_graph = concrete.graph
    graph_def = function_graph.as_graph_def()
    if any(node.op in ("PartitionedCall", "StatefulPartitionedCall") for node in graph_def.node):
        # Nested functions run as one node each: the tracer would see no ops inside them.
        raise ConfigError("the step calls nested tf.functions (PartitionedCall), which run as one node each: "
                          "call their Python functions inside one tf.function instead, so that each op is traced")
    by_handle = {id(variable.handle): variable for variable in concrete.variables}
    internal_inputs = {tensor.op.name for tensor in function_graph.internal_captures}
    arguments = [tensor for tensor in function_graph.inputs if tensor.op.name not in internal_inputs]
    inputs = {node.name: _data_inputs(node) for node in graph_def.node}
    roles = step_roles([node.name for node in graph_def.node], inputs, [tensor.op.name for tensor in arguments],
                       [tensor.op.name for tensor in function_graph.outputs])
    users = {}
    for node in graph_def.node:
        for source in _data_inputs(node):
            users.setdefault(source, []).append(node.name)

    # Values are read eagerly, before the new Graph is the default one.
    values = {id(external): (by_handle[id(external)].numpy() if id(external) in by_handle
                             else None if external.dtype == tf.resource else external.numpy())
              for external, _ in function_graph.captures}
    graph = tf.Graph()
    variables, input_map, init_feed = {}, {}, {}
    with graph.as_default():
        for external, internal in function_graph.captures:
            placeholder = internal.op.name
            variable = by_handle.get(id(external))
            if variable is not None:
                name = variable.name.split(":", 1)[0]
                kind = _variable_kind(variable, users.get(placeholder, ()), roles)
                scope = {"optimizer": "update/", "metrics": "metrics/"}.get(kind, "")
                value = tf.compat.v1.placeholder(variable.dtype, variable.shape, name=f"initial_value/{name}")
                init_feed[value] = values[id(external)]
                copy = tf.Variable(value, trainable=variable.trainable, name=scope + name)
                variables[name] = copy
                input_map[_renamed(placeholder, roles) + ":0"] = copy.handle
            elif external.dtype == tf.resource:
                raise ConfigError(f"the step captures a resource that is not a variable ({placeholder}); "
                                  "only variables and tensors can be imported")
            else:
                input_map[_renamed(placeholder, roles) + ":0"] = tf.constant(values[id(external)], name=f"captured/{placeholder}")
        renamed = _rename_graph_def(graph_def, roles)
        output_names = [_renamed(tensor.op.name, roles) + ":" + tensor.name.rsplit(":", 1)[1]
                        for tensor in function_graph.outputs]
        control_names = [_renamed(op.name, roles) for op in function_graph.control_outputs]
        imported = tf.compat.v1.import_graph_def(renamed, input_map=input_map,
                                                 return_elements=output_names + control_names, name="")
        outputs = imported[:len(output_names)]
        feeds = [graph.get_tensor_by_name(_renamed(tensor.op.name, roles) + ":0") for tensor in arguments]
        init_op = tf.compat.v1.global_variables_initializer()
    fetches = list(outputs) + [op for op in imported[len(output_names):]]
    return ImportedStep(graph, fetches, outputs, feeds, variables, init_op, init_feed,
                        {_renamed(name, roles): role for name, role in roles.items()})


def feed_dict(step, args):
    """{placeholder: value} for the flattened arguments of one call."""
    import tensorflow as tf

    flat = tf.nest.flatten(args)
    return {placeholder: _numpy(value) for placeholder, value in zip(step.feeds, flat)}


def _numpy(value):
    return value.numpy() if hasattr(value, "numpy") else value
