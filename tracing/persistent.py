"""Persistent memory: what the graph's variables hold across steps.

Weights, optimizer slots, feedback matrices and batch-norm moving statistics are allocated
once, before the traced step, so the step's allocation records never show them. Their size
follows from their static shapes and dtypes. Constants embedded in the graph are not counted.
"""
from tracing.graph_facts import GLOBAL_VARIABLES, TRAINABLE_VARIABLES, optimizer_variable_names, variable_name


def variable_bytes(variable):
    elements = variable.shape.num_elements()
    if elements is None:
        raise ValueError(f"variable {variable.name} has no fully defined shape ({variable.shape}); "
                         "its persistent memory cannot be computed")
    return elements * variable.dtype.base_dtype.size


def _global_variables(graph):
    seen, unique = set(), []
    for variable in graph.get_collection(GLOBAL_VARIABLES):
        if variable.name not in seen:
            seen.add(variable.name)
            unique.append(variable)
    return unique


def persistent_bytes(graph):
    """Bytes of all global variables of the graph."""
    return sum(variable_bytes(variable) for variable in _global_variables(graph))


def persistent_breakdown(graph):
    """{'weights', 'optimizer_state', 'other_variables'} -> bytes; other_variables holds
    feedback matrices, moving statistics and anything else that is neither."""
    trainable = {variable_name(v) for v in graph.get_collection(TRAINABLE_VARIABLES)}
    optimizer = optimizer_variable_names(graph)
    breakdown = {"weights": 0, "optimizer_state": 0, "other_variables": 0}
    for variable in _global_variables(graph):
        name = variable_name(variable)
        kind = "weights" if name in trainable else "optimizer_state" if name in optimizer else "other_variables"
        breakdown[kind] += variable_bytes(variable)
    return breakdown
