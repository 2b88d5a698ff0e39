"""Network dicts validated into a frozen NetworkConfig before anything is built.

Every key a network dict may hold is a field below, with its default, its check and a line of
help. An unknown key is an error that names the closest valid key (nanoGPT's rule: a typo
such as `learning_reate` must never be silently ignored).
"""
import dataclasses
import os
from dataclasses import dataclass, field

from definitions import checks
from definitions.errors import ConfigError
from definitions.names import suggestion

# The one list of each. training/algorithms and training/losses tie their implementations to
# TRAINING_TYPES and COST_FUNCTIONS at import; the names stay here, importable without TensorFlow.
TRAINING_TYPES = ("BP", "FA", "DFA", "DFAMEM", "DRTP", "BPCKPT")
# The learning-rule atlas (issue 23): forward-only and local rules, sign-symmetric feedback,
# forward gradients and zeroth-order training.
TRAINING_TYPES += ("PEPITA", "LOCAL", "USF", "BRSF", "FRSF", "FGRAD", "MEZO")
DATASETS = ("digits", "mnist5k", "mnist", "cifar10", "cifar100", "synthetic", "synthetic_tokens", "shakespeare")
#: Token datasets: examples are windows of `context_length` tokens, labels the next token at each position.
TOKEN_DATASETS = ("synthetic_tokens", "shakespeare")
COST_FUNCTIONS = ("softmax_cross_entropy", "sigmoid_cross_entropy", "mean_squared_error")
OPTIMIZERS = ("sgd", "momentum", "adam")
FEEDBACK_MODES = ("stored", "regenerate")
FGRAD_PERTURBATIONS = ("weights", "activity")
# Upper bounds catch typos (an extra zero or three) before they run for ever or exhaust memory;
# counts with no natural bound stop at the largest int32, which any reader of config.json takes.
MAX_EPOCHS = 100_000
MAX_WARMUP = 10_000
MAX_TRACED_STEPS = 100
MAX_CLASSES = 100_000
MAX_SYNTHETIC_SIZE = 10_000_000
MAX_CONTEXT = 65_536


def _field(default, check, help_text):
    return field(default=default, metadata={"check": check, "help": help_text})


def _sequence_check(key, value):
    # Sequences are built from layers, which import TensorFlow: only when a sequence is checked.
    from definitions.registry import get_sequence
    if not isinstance(value, str):
        raise ConfigError(f"config key {key!r} must be a sequence name or 'module:function', got {value!r}")
    get_sequence(value)
    return value


def _definitions_check(key, value):
    """The user's files, absolute (a relative path is the launch directory's: config.json then
    resumes from anywhere), loaded with their networks validated like the shipped ones."""
    from definitions.registry import load_definitions
    paths = [value] if isinstance(value, str) else value
    if not isinstance(paths, (list, tuple)) or \
            not all(isinstance(path, str) and path and "\0" not in path for path in paths):
        checks._fail(key, "a path of a Python file or a list of them", value)
    paths = tuple(dict.fromkeys(os.path.abspath(path) for path in paths))
    for path in paths:
        if not os.path.isfile(path):
            raise ConfigError(f"config key {key!r}: {path!r} is not a file")
    load_definitions(paths, check_network=validate)
    return paths


@dataclass(frozen=True)
class NetworkConfig:
    name: str = _field("custom", lambda k, v: v if isinstance(v, str) else checks._fail(k, "a string", v),
                       "name of the network dict")
    type: str = _field("BP", checks.one_of(TRAINING_TYPES), "training algorithm")
    dataset_name: str = _field("digits", checks.one_of(DATASETS), "dataset to train on")
    sequence: str = _field("fcReLu", _sequence_check,
                           "architecture: a sequence (shipped or of a definitions file) or 'module:function'")
    definitions: tuple = _field((), _definitions_check,
                                "your own Python files of sequences and network dicts (kept absolute)")
    cost_function: str = _field("softmax_cross_entropy", checks.one_of(COST_FUNCTIONS), "loss on the output")
    learning_rate: float = _field(0.01, checks.number(0, 10, low_open=True), "optimizer step size")
    optimizer: str = _field("sgd", checks.one_of(OPTIMIZERS), "sgd, momentum or adam")
    momentum: float = _field(0.9, checks.number(0, 1), "momentum of the momentum optimizer")
    batch_size: int = _field(10, checks.integer(low=1, high=checks.INT32_MAX),
                             "examples per training step (at most the training examples)")
    epochs: int = _field(4, checks.integer(low=1, high=MAX_EPOCHS), "passes over the training split")
    seed: int = _field(None, checks.integer(low=0, high=checks.INT32_MAX, optional=True),
                       "makes a run repeatable; null picks one and records it")
    minimum_accuracy: tuple = _field((), checks.accuracy_thresholds(MAX_EPOCHS),
                                     "[(epoch, percent)]: stop when test accuracy after epoch is below percent")
    eval_period: int = _field(1000, checks.integer(low=0, high=checks.INT32_MAX),
                              "print the training loss every N iterations (0: never)")
    stat_period: int = _field(100, checks.integer(low=1, high=checks.INT32_MAX),
                              "iterations between TensorBoard statistics")
    gather_stats: bool = _field(False, checks.boolean, "write TensorBoard summaries")
    save_graph: bool = _field(False, checks.boolean, "write the graph for TensorBoard")
    feedback: str = _field("stored", checks.one_of(FEEDBACK_MODES),
                           "FA/DFA/DRTP matrices: stored as variables, or regenerated each step (no memory)")
    feedback_scale: float = _field(1.0, checks.number(0, 100, low_open=True),
                                   "scale of the random feedback matrices (1: Glorot-uniform range)")
    mezo_epsilon: float = _field(1e-3, checks.number(0, 1, low_open=True),
                                 "MEZO: the perturbation's scale eps (the paper's 1e-3)")
    fgrad_perturbation: str = _field("weights", checks.one_of(FGRAD_PERTURBATIONS),
                                     "FGRAD: the tangent on the weights (Baydin et al.) or on each example's "
                                     "pre-activations (Ren et al.'s activity perturbation)")
    fgrad_samples: int = _field(1, checks.integer(low=1, high=1024),
                                "FGRAD with activity perturbation: independent perturbations of each example "
                                "averaged per step (the batch run as that many copies)")
    mezo_samples: int = _field(1, checks.integer(low=1, high=1024),
                               "MEZO: perturbations averaged per step (n-SPSA, the paper's n; 1 is its Algorithm 1)")
    memory_only: bool = _field(False, checks.boolean, "trace the memory of one iteration and stop")
    memory_check: bool = _field(True, checks.boolean, "refuse a run whose predicted step memory exceeds the "
                                "device's before training (false: run anyway)")
    memory_warmup: int = _field(3, checks.integer(low=0, high=MAX_WARMUP), "steps run before the traced one")
    memory_steps: int = _field(3, checks.integer(low=1, high=MAX_TRACED_STEPS),
                               "memory_only: steps traced; the report shows their median")
    checkpoint_every: int = _field(None, checks.integer(low=0, high=MAX_EPOCHS, optional=True),
                                   "save a resumable checkpoint every N epochs (null: 1 when epochs > 1; 0: never)")
    checkpoint_steps: int = _field(None, checks.integer(low=0, high=checks.INT32_MAX, optional=True),
                                   "also save one every N iterations inside epochs (null or 0: never)")
    keep_checkpoints: int = _field(1, checks.integer(low=1, high=100000, optional=True),
                                   "checkpoints kept once the run finished (the newest; at least 2 while "
                                   "it runs); null: all")
    update_every: int = _field(1, checks.integer(low=1, high=checks.INT32_MAX),
                               "FA, DFA: apply the updates of this many consecutive blocks together, each block's "
                               "weight gradients held until then (1: each block's as soon as it exists; "
                               "benchmarks.update_every measures its time and peak)")
    segment_size: int = _field(None, checks.integer(low=1, high=checks.INT32_MAX, optional=True),
                               "BPCKPT: blocks per recomputed segment (null: about sqrt(number of blocks))")
    checkpoint_plan: str = _field(None, checks.checkpoint_plan,
                                  "BPCKPT: the plan written as segment lengths, e.g. '(2|2)|4|4' "
                                  "(null: segment_size's uniform plan)")
    memory_budget: str = _field(None, checks.memory_size,
                                "BPCKPT: the most memory a step may hold in total (persistent + transient), "
                                "e.g. '300MiB'; the run plans its checkpoints to fit (null: no budget)")
    budget_profile: str = _field(None, checks.optional_string,
                                 "with memory_budget: a traced run's directory or blocks.csv whose measured "
                                 "block times rank the plans (null: FLOP counts)")
    save_model: bool = _field(False, checks.boolean, "save the trained model")
    save_model_path: str = _field(None, checks.optional_string, "where to save (default: <run dir>/model)")
    restore_model: bool = _field(False, checks.boolean, "start from a saved model")
    restore_model_path: str = _field(None, checks.optional_string, "checkpoint prefix or directory to restore")
    synthetic_shape: tuple = _field((8, 8, 1), checks.int_list(1, max_length=8, high=checks.INT32_MAX),
                                   "input shape of the synthetic dataset")
    synthetic_classes: int = _field(10, checks.integer(low=2, high=MAX_CLASSES),
                                    "classes of the synthetic dataset (vocabulary of synthetic_tokens)")
    synthetic_size: int = _field(512, checks.integer(low=1, high=MAX_SYNTHETIC_SIZE),
                                 "training examples of the synthetic dataset (windows of synthetic_tokens)")
    context_length: int = _field(64, checks.integer(low=2, high=MAX_CONTEXT),
                                 "token datasets (synthetic_tokens, shakespeare): tokens per example window")

    def to_dict(self):
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes):
        return validate({**self.to_dict(), **changes})


def field_help():
    return {f.name: f.metadata["help"] for f in dataclasses.fields(NetworkConfig)}


def validate(network):
    """Check every key and value of a network dict; return the frozen config."""
    if not isinstance(network, dict):
        raise ConfigError(f"a network must be a dict, got {type(network).__name__}")
    known = {f.name: f for f in dataclasses.fields(NetworkConfig)}
    values = {}
    # `definitions` first: its files add the sequences the `sequence` key may name.
    for key, value in sorted(network.items(), key=lambda item: item[0] != "definitions"):
        if key not in known:
            raise ConfigError(f"unknown config key {key!r}{suggestion(key, list(known))}")
        values[key] = known[key].metadata["check"](key, value)
    _check_together(values)
    return NetworkConfig(**values)


def validate_value(key, value):
    """One key's value checked alone, as validate() checks it (a tuner grid's axis, before any run):
    the checks between keys are left to the run, which knows the other keys."""
    known = {f.name: f for f in dataclasses.fields(NetworkConfig)}
    if key not in known:
        raise ConfigError(f"unknown config key {key!r}{suggestion(key, list(known))}")
    return known[key].metadata["check"](key, value)


def _check_together(values):
    """Keys that are valid alone but contradict each other."""
    if values.get("segment_size") is not None and values.get("checkpoint_plan") is not None:
        # Either one says where BPCKPT's checkpoints go: one of the two would be silently ignored.
        raise ConfigError(f"config keys 'segment_size' ({values['segment_size']}) and 'checkpoint_plan' "
                          f"({values['checkpoint_plan']!r}) both place BPCKPT's checkpoints: set one of them")
    check_fgrad_samples(values.get("fgrad_samples", 1), values.get("fgrad_perturbation", "weights"))


def check_fgrad_samples(samples, perturbation):
    """FGRAD's copies of the batch need activity perturbation: one tangent of the weights serves
    the whole batch, so copies would share it (checked here and by FGRAD itself)."""
    if samples > 1 and perturbation != "activity":
        raise ConfigError(f"config key 'fgrad_samples' ({samples}) averages perturbations of each example's "
                          f"activity: set fgrad_perturbation to 'activity' with it")


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


#: The types whose block-by-block updates `update_every` groups (training/algorithms/fa.py, dfa.py).
UPDATE_GROUP_TYPES = ("FA", "DFA")

#: (key, the condition under which it means something, in words, test on a config).
_MEANINGFUL_WHEN = (
    ("momentum", "optimizer momentum", lambda c: c.optimizer == "momentum"),
    ("feedback", "types FA, DFA, DFAMEM, DRTP, PEPITA and FRSF",
     lambda c: c.type in ("FA", "DFA", "DFAMEM", "DRTP", "PEPITA", "FRSF")),
    ("feedback_scale", "types FA, DFA, DFAMEM, DRTP, PEPITA, USF, BRSF and FRSF",
     lambda c: c.type in ("FA", "DFA", "DFAMEM", "DRTP", "PEPITA", "USF", "BRSF", "FRSF")),
    ("segment_size", "type BPCKPT", lambda c: c.type == "BPCKPT"),
    ("update_every", "types FA and DFA", lambda c: c.type in UPDATE_GROUP_TYPES),
    ("mezo_epsilon", "type MEZO", lambda c: c.type == "MEZO"),
    ("fgrad_perturbation", "type FGRAD", lambda c: c.type == "FGRAD"),
    ("fgrad_samples", "type FGRAD", lambda c: c.type == "FGRAD"),
    ("mezo_samples", "type MEZO", lambda c: c.type == "MEZO"),
)


def ignored_settings(config):
    """One line per key set away from its default where it changes nothing (`--momentum` with
    sgd, `feedback=regenerate` with BP, `segment_size` with DFA): accepted, but worth a warning."""
    defaults = {f.name: f.default for f in dataclasses.fields(NetworkConfig)}
    lines = []
    for key, when, matters in _MEANINGFUL_WHEN:
        value = getattr(config, key)
        if value != defaults[key] and not matters(config):
            lines.append(f"config key {key!r} ({_plain(value)}) has no effect here: it is used only with {when} "
                         f"(this run: type {config.type}, optimizer {config.optimizer})")
    return lines
