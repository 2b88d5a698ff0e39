"""Which part of the training step a node belongs to: its category and its phase.

The algorithms put the ops of a step under the name scopes input/, forward/, loss/,
backward/, feedback/ and update/ (PEPITA also modulated/, LOCAL auxiliary/, MEZO perturb/; an
imported TensorFlow 2 step also metrics/), possibly nested (DFAMEM recomputes under
recompute/block_3/forward/...). The FIRST path component that is one of these scopes decides.
Grappler may rename or fuse nodes, so names without such a component fall back to:
  1. a component '<Rewrite>_<scope>' where Grappler prefixed its rewrite's CamelCase name
     (ArithmeticOptimizer/AddOpsRewrite_backward/...); lower-case prefixes such as
     eval_forward/ or alignment_forward/ are the trainer's own scopes and do not count,
  2. the op type (iterator ops -> input, Apply/Assign ops -> update, *Grad/*Backprop* ops or
     gradients/ and *_grad/ names -> gradient),
  3. other.
"""
import re

from tracing.graph_facts import GraphFacts

CATEGORIES = ("activation", "gradient", "update", "optimizer_state", "input", "other")
PHASES = ("forward", "backward", "update", "other")

SCOPE_CATEGORY = {
    "input": "input",
    "forward": "activation",
    "loss": "activation",
    "backward": "gradient",
    "feedback": "gradient",
    "update": "update",
    # PEPITA's second forward pass, on the error-modulated input (training/algorithms/pepita.py).
    "modulated": "activation",
    # LOCAL's auxiliary classifiers' forward passes (training/algorithms/local.py).
    "auxiliary": "activation",
    # MEZO moves the weights in place by eps z before each forward pass: updates of the weights.
    "perturb": "update",
    # A TensorFlow 2 step's metric updates (tracing/step_roles.py): neither the model nor its
    # training, and their AssignVariableOps are not updates of weights.
    "metrics": "other",
}
CATEGORY_PHASE = {
    "input": "forward",
    "activation": "forward",
    "gradient": "backward",
    "update": "update",
    "optimizer_state": "update",
    "other": "other",
}

# Slot and state names of the tf.compat.v1.train optimizers (model/w1/Momentum,
# model/w1/Adam_1, update/beta1_power) and the usual names of hand-written ones.
SLOT_NAMES = frozenset(
    """momentum adam adam_1 rmsprop rmsprop_1 adagrad adadelta adadelta_1 ftrl ftrl_1
    m v velocity accumulator accum accum_update slot beta1_power beta2_power""".split()
)

_GRAPPLER_REWRITE = re.compile(r"^[A-Z][A-Za-z0-9]*_(%s)$" % "|".join(SCOPE_CATEGORY))
_INPUT_TYPES = re.compile(r"^(_Arg|Placeholder\w*|\w*Iterator\w*|\w*Dataset(V\d+)?)$")
_UPDATE_TYPES = re.compile(r"^(Resource)?(Sparse)?(Apply\w+|Assign\w*|ScatterUpdate|Scatter\w+)$")
_GRADIENT_TYPES = re.compile(r"(Grad(V\d+)?$|Backprop)")


def step_scope(name):
    """The deciding scope of a node name, or None."""
    components = name.split("/")
    for component in components:
        if component in SCOPE_CATEGORY:
            return component
    for component in components:
        match = _GRAPPLER_REWRITE.match(component)
        if match:
            return match.group(1)
    return None


def _mentions_slot(name):
    """Whether a name under update/ has a slot as one of its scopes (.../w1/Momentum/...).

    The component right under update/ is the optimizer's own name scope ('Momentum' for
    MomentumOptimizer) and the last one is the op's own name (update/Momentum/momentum is the
    momentum hyper-parameter), so neither counts.
    """
    components = name.split("/")
    if "update" not in components:
        return False
    scopes = components[components.index("update") + 2:-1]
    return any(component.lower() in SLOT_NAMES for component in scopes)


def _category_from_op_type(name, op_type):
    if op_type and _INPUT_TYPES.match(op_type):
        return "input"
    if op_type and _UPDATE_TYPES.match(op_type.lstrip("_")):
        return "update"
    components = name.split("/")
    if (op_type and _GRADIENT_TYPES.search(op_type)) or "gradients" in components or any(
        component.endswith("_grad") for component in components
    ):
        return "gradient"
    return "other"


def category_of(name, op_type="", facts=GraphFacts()):
    """One of CATEGORIES. op_type may be the graph's or the runtime kernel's type."""
    scope = step_scope(name)
    if scope == "update":
        # The graph knows which ops touch optimizer variables; names are the fallback for
        # nodes the graph does not have (no graph given, or created by Grappler).
        in_graph = name in facts.op_types
        if name in facts.optimizer_state_ops or (not in_graph and _mentions_slot(name)):
            return "optimizer_state"
        return "update"
    if scope is not None:
        return SCOPE_CATEGORY[scope]
    return _category_from_op_type(name, op_type or facts.op_types.get(name, ""))


def phase_of(name, op_type="", facts=GraphFacts()):
    """One of PHASES: forward (input, forward, loss), backward (backward, feedback), update."""
    return CATEGORY_PHASE[category_of(name, op_type, facts)]


class Classifier:
    """category/phase by node name, knowing the graph's facts and the runtime op types."""

    def __init__(self, facts=GraphFacts(), runtime_op_types=None):
        self.facts = facts
        self.runtime_op_types = dict(runtime_op_types or {})

    def _op_type(self, name):
        # The graph's type says what the node computes; the runtime type is all that is left
        # for nodes Grappler created or renamed.
        return self.facts.op_types.get(name) or self.runtime_op_types.get(name, "")

    def category(self, name):
        return category_of(name, self._op_type(name), self.facts)

    def phase(self, name):
        return CATEGORY_PHASE[self.category(name)]
