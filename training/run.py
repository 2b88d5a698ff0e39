"""One experiment from a network dict to result.json, as the CLI and tests run it."""
import os
import random

from definitions.config import validate
from definitions.datasets import load_dataset
from definitions.errors import ConfigError
from training.run_dir import clear_previous_run, create_run_dir, read_config, read_result, write_config, write_result

#: Statuses of a run that ended: resuming it only reports its result.
FINISHED = ("completed", "below_minimum_accuracy", "diverged", "memory_only")


def resolve_config(network, name, overrides):
    """The network dict with CLI overrides, validated, with a concrete seed recorded."""
    values = dict(network)
    values["name"] = name
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = validate(values)
    if config.seed is None:
        config = config.replace(seed=random.SystemRandom().randrange(1, 100_000_000))
    return config


def run_experiment(config, output_dir, data_dir=None, run_id=None, log=print, progress=None, started=None):
    """Train `config`; returns (run_dir, result dict). result.json is written atomically.

    `started(run_dir)` is called once the run directory exists (the CLI names it when a run
    is interrupted, so that it can be resumed).
    """
    dataset, trainer = _prepare(config, data_dir, log, progress)
    run_dir = create_run_dir(output_dir, config.name, config.type, run_id)
    trainer.run_dir = run_dir
    clear_previous_run(run_dir)
    write_config(run_dir, config)
    if started is not None:
        started(run_dir)
    return run_dir, _train(trainer, config, run_dir, resume=False)


def resume_experiment(run_dir, data_dir=None, log=print, progress=None):
    """Continue the run in `run_dir` from its newest valid checkpoint; returns (run_dir, result).

    The config is the run's own config.json, so the resumed run trains exactly what the
    interrupted one would have. A run that already finished is not trained again: its
    result.json is returned as it is.
    """
    if not os.path.isdir(run_dir):
        raise ConfigError(f"cannot resume {run_dir!r}: no such directory")
    config = read_config(run_dir)
    finished = read_result(run_dir)
    if finished is not None and finished.get("status") in FINISHED:
        log(f"{run_dir} already finished (status {finished['status']}); nothing to resume")
        return run_dir, finished
    _, trainer = _prepare(config, data_dir, log, progress)
    trainer.run_dir = run_dir
    return run_dir, _train(trainer, config, run_dir, resume=True)


def _prepare(config, data_dir, log, progress):
    dataset = load_dataset(config, data_dir)
    # Imports TensorFlow: after the cheap checks. The trainer builds its graph here, before the run
    # directory exists, and a sequence that does not fit is a ConfigError (training/preflight.py).
    from training.trainer import Trainer
    return dataset, Trainer(config, dataset, run_dir=None, log=log, progress=progress)


def _train(trainer, config, run_dir, resume):
    try:
        result = trainer.run(resume=resume)
    finally:
        trainer.close()
    result.update(network=config.name, type=config.type, seed=config.seed, dataset=config.dataset_name)
    write_result(run_dir, result)
    return result


def final_line(result):
    """The last stdout line of a run; the tuner parses it."""
    return (f"total accuracy: {_number(result.get('accuracy')):.2f}%, loss: {_number(result.get('loss')):.4f}, "
            f"acc iterations: {result['iterations']}")


def _number(value):
    # result.json stores a NaN as null (JSON has no NaN); the line prints it as nan again.
    return float("nan") if value is None else value
