"""One experiment from a network dict to result.json, as the CLI and tests run it.

Errors: ConfigError / DatasetError / OutputError are bad input (nothing was trained);
WriteFailed is a write that failed after training started (disk full): the run stopped,
result.json was not written, and the newest checkpoint can be resumed.
"""
import os
import random
import stat

from definitions.config import validate
from definitions.datasets import DEFAULT_DATA_DIR, FILE_DATASETS, check_batch_size, load_dataset
from definitions.errors import ConfigError, DatasetError
from training.run_dir import (OutOfMemory, OutputError, WriteFailed, check_path, check_run_id, check_writable, clear_previous_run,
                              create_run_dir, describe_os_error, lock_run_dir, read_config, read_result, write_config,
                              write_result)

#: Statuses of a run that ended: resuming it only reports its result.
FINISHED = ("completed", "below_minimum_accuracy", "diverged", "memory_only")
#: The synthetic dataset's inputs (training and test examples) and its teacher matrix are each at
#: most this many float32 values (1 GiB): a typo such as synthetic_size=10**8 is an error, not
#: an out-of-memory kill after minutes of allocating.
SYNTHETIC_MAX_VALUES = 2**28


def resolve_config(network, name, overrides):
    """The network dict with overrides (null included: `--set seed=null`), validated, with a concrete seed."""
    values = dict(network)
    values["name"] = name
    values.update(overrides)
    config = validate(values)
    if config.seed is None:
        config = config.replace(seed=random.SystemRandom().randrange(1, 100_000_000))
    return config


def run_experiment(config, output_dir, data_dir=None, run_id=None, log=print, progress=None, started=None):
    """Train `config`; returns (run_dir, result dict). result.json is written atomically.

    `started(run_dir)` is called once the run directory exists (the CLI names it when a run
    is interrupted, so that it can be resumed).
    """
    check_path("--output_dir", output_dir)
    check_run_id(run_id if run_id is not None else f"{config.name}_{config.type}_000",
                 "--id" if run_id is not None else "run directory")  # before anything is built
    dataset, trainer = _prepare(config, data_dir, log, progress)
    lock = None
    try:
        _check_save_model_path(config)
        run_dir = create_run_dir(output_dir, config.name, config.type, run_id)
        # Before clearing: a reused --id directory that another process runs is not touched.
        lock = lock_run_dir(run_dir)
        try:
            clear_previous_run(run_dir)
            write_config(run_dir, trainer.config)  # with memory_budget, the plan chosen for it
        except OSError as error:
            raise OutputError(f"cannot write the run directory: {describe_os_error(error)}") from None
    except BaseException:
        trainer.close()
        if lock is not None:
            lock.release()
        raise
    with lock:
        trainer.run_dir = run_dir
        if started is not None:
            started(run_dir)
        return run_dir, _train(trainer, config, run_dir, resume=False)


def resume_experiment(run_dir, data_dir=None, log=print, progress=None):
    """Continue the run in `run_dir` from its newest valid checkpoint; returns (run_dir, result).

    The config is the run's own config.json, so the resumed run trains exactly what the
    interrupted one would have. A run that already finished is not trained again: its
    result.json is returned as it is.
    """
    check_path("--resume", run_dir)
    if not os.path.isdir(run_dir):
        raise ConfigError(f"cannot resume {run_dir!r}: no such directory")
    config = read_config(run_dir)
    finished = read_result(run_dir)
    if finished is not None and finished.get("status") in FINISHED:  # only read: no lock needed
        log(f"{run_dir} already finished (status {finished['status']}); nothing to resume")
        return run_dir, finished
    check_writable(run_dir)
    # A run still going in another process is refused before anything is built.
    with lock_run_dir(run_dir):
        _, trainer = _prepare(config, data_dir, log, progress)
        trainer.run_dir = run_dir
        return run_dir, _train(trainer, config, run_dir, resume=True)


def _prepare(config, data_dir, log, progress):
    check_path("--data_dir", data_dir)
    _check_synthetic_size(config)
    if config.dataset_name in FILE_DATASETS:
        _check_data_dir(os.path.expanduser(data_dir or DEFAULT_DATA_DIR))
    dataset = load_dataset(config, data_dir)
    check_batch_size(config, config.batch_size, len(dataset.x_train))
    # Imports TensorFlow: after the cheap checks. The trainer builds its graph here, before the run
    # directory exists, and a sequence that does not fit is a ConfigError (training/preflight.py).
    from training.memory_budget import check_memory_budget
    from training.preflight import check_checkpoint_plan
    from training.trainer import Trainer
    check_checkpoint_plan(config, dataset.num_classes)
    check_memory_budget(config)
    trainer = Trainer(config, dataset, run_dir=None, log=log, progress=progress)
    try:  # the built graph's config (with memory_budget, its plan), before its first step allocates
        from training.memory_fit import check_run_fits
        check_run_fits(trainer.config, trainer.model.blocks, dataset)
    except BaseException:
        trainer.close()
        raise
    return dataset, trainer


def _check_synthetic_size(config):
    if config.dataset_name == "synthetic_tokens":
        values = 2 * (config.synthetic_size + max(1, config.synthetic_size // 4)) * config.context_length
        if values > SYNTHETIC_MAX_VALUES:
            raise ConfigError(f"the synthetic_tokens dataset is too large: its windows would hold {values:,} values, "
                              f"more than {SYNTHETIC_MAX_VALUES:,} (synthetic_size {config.synthetic_size}, "
                              f"context_length {config.context_length})")
        return
    if config.dataset_name != "synthetic":
        return
    per_example = 1
    for size in config.synthetic_shape:
        per_example *= size
    examples = config.synthetic_size + max(config.synthetic_classes, config.synthetic_size // 4)  # + the test split
    for what, values in (("inputs", examples * per_example), ("teacher", per_example * config.synthetic_classes)):
        if values > SYNTHETIC_MAX_VALUES:
            raise ConfigError(
                f"the synthetic dataset is too large: its {what} would hold {values:,} values, more than "
                f"{SYNTHETIC_MAX_VALUES:,} (synthetic_size {config.synthetic_size}, synthetic_shape "
                f"{list(config.synthetic_shape)}, synthetic_classes {config.synthetic_classes})")


def _check_data_dir(directory):
    """A --data_dir that cannot hold the dataset files fails here, not inside a download."""
    try:
        is_dir = stat.S_ISDIR(os.stat(directory).st_mode)
    except FileNotFoundError:
        return  # the download creates it
    except OSError as error:  # a file on the way (Not a directory), Permission denied, ...
        raise DatasetError(f"--data_dir {describe_os_error(error, directory)}") from None
    if not is_dir:
        raise DatasetError(f"--data_dir {directory}: Not a directory")


def _check_save_model_path(config):
    """Fail before training, not after it, when the model cannot be saved where asked."""
    if not (config.save_model and config.save_model_path):
        return
    parent = os.path.dirname(os.path.abspath(config.save_model_path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise OutputError(f"save_model_path: cannot create {describe_os_error(error)}") from None
    check_writable(parent)


def _train(trainer, config, run_dir, resume):
    import tensorflow as tf
    try:
        result = trainer.run(resume=resume)
    except (tf.errors.ResourceExhaustedError, MemoryError) as error:
        raise OutOfMemory(error, run_dir) from None
    except OSError as error:
        raise WriteFailed(f"cannot write {describe_os_error(error)}; the run stopped", run_dir) from None
    finally:
        trainer.close()
    result.update(network=config.name, type=config.type, seed=config.seed, dataset=config.dataset_name)
    if result.get("status") in ("completed", "below_minimum_accuracy"):  # a diverged run keeps its past
        from training.checkpoints import prune_finished
        prune_finished(run_dir, trainer.config)
    if trainer.model.memory_plan is not None:
        result["memory_plan"] = trainer.model.memory_plan.to_dict()
    try:
        write_result(run_dir, result)
    except OSError as error:
        raise WriteFailed(f"cannot write the result: {describe_os_error(error)}", run_dir) from None
    return result


def final_line(result):
    """The last stdout line of a run; the tuner parses it."""
    return (f"total accuracy: {_number(result.get('accuracy')):.2f}%, loss: {_number(result.get('loss')):.4f}, "
            f"acc iterations: {result['iterations']}")


def _number(value):
    # result.json stores a NaN as null (JSON has no NaN); the line prints it as nan again.
    return float("nan") if value is None else value
