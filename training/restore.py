"""restore_model: start a run from another run's model, whatever algorithm and optimizer trained it.

Only the model is restored: every layer's weights and batch-norm moving averages, matched by
name (`model/block_<i>/<j>_<Layer>/<variable>`), block by block. Optimizer slots, feedback
matrices, LOCAL's auxiliary heads and global_step keep this run's initial values, so a
BP-trained model can seed a DFA, DFAMEM or LOCAL run (and a LOCAL-trained one a BP run) and
momentum can be followed by Adam. Every variable of the model must be in the checkpoint with the
same shape, and the checkpoint must hold no model variable the network lacks: anything else is
another architecture, refused with the first variable that differs.
"""
import os

import tensorflow as tf

from definitions.errors import ConfigError
from training import checkpoints


def model_variables(blocks):
    """The model's variables, block by block, layer by layer: weights, then batch-norm averages."""
    return [variable for block in blocks for variable in block.variables + block.non_trainable_variables]


def checkpoint_prefix(path):
    """The checkpoint prefix for a prefix, a save_model directory or a resumable checkpoint directory."""
    if path and os.path.isdir(path):
        # A resumable checkpoint (checkpoints/epoch_E/) has no Saver state file: its prefix is fixed.
        if os.path.exists(os.path.join(path, checkpoints.MANIFEST)):
            return os.path.join(path, checkpoints.PREFIX)
        return tf.train.latest_checkpoint(path)
    return path


def restore_model(session, blocks, path):
    """Load the model's variables from the checkpoint at `path`; returns the prefix it read.

    Raises ConfigError when there is no checkpoint there or it holds another architecture.
    """
    prefix = checkpoint_prefix(path)
    if not prefix or not os.path.isfile(prefix + ".index"):
        raise ConfigError(f"restore_model is set but no checkpoint was found at {path!r}; set "
                          f"restore_model_path to a checkpoint prefix or a directory holding one")
    try:
        saved = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as error:
        raise ConfigError(f"cannot read checkpoint {prefix}: {str(error).strip().splitlines()[0]}") from None
    variables = {variable.op.name: variable for variable in model_variables(blocks)}
    _check_same_model(prefix, saved, {name: variable.shape.as_list() for name, variable in variables.items()})
    # A Saver of these variables only: built once, before training, so no step pays for it.
    tf.compat.v1.train.Saver(var_list=variables).restore(session, prefix)
    return prefix


def _check_same_model(prefix, saved, wanted):
    """Raise ConfigError naming the first model variable missing, of another shape, or extra."""
    for name, shape in wanted.items():
        if name not in saved:
            raise ConfigError(f"cannot restore {prefix}: it has no variable {name} (it was saved from "
                              f"a different architecture)")
        if list(saved[name]) != shape:
            raise ConfigError(f"cannot restore {prefix}: {name} has shape {list(saved[name])} in the "
                              f"checkpoint but {shape} in this network (a different architecture)")
    extra = [name for name in sorted(saved) if _is_model_variable(name, saved) and name not in wanted]
    if extra:
        raise ConfigError(f"cannot restore {prefix}: it holds {extra[0]}, which this network lacks "
                          f"(it was saved from a different architecture)")


def _is_model_variable(name, saved):
    """A layer variable of the saved model: under model/, not a feedback matrix, an auxiliary head
    or the draw counter of BRSF, FGRAD and MEZO (training/draws.py), not an optimizer slot.

    Slots are named after their variable (`<variable>/Momentum`, `<variable>/Adam_1`).
    """
    # Feedback matrices, LOCAL's auxiliary heads (model/auxiliary/) and the draw counter serve
    # training, not the model.
    if not name.startswith("model/") or name.startswith(("model/feedback/", "model/auxiliary/", "model/draws/")):
        return False
    parts = name.split("/")
    return not any("/".join(parts[:end]) in saved for end in range(1, len(parts)))
