"""One experiment from a network dict to result.json, as the CLI and tests run it."""
import random

from definitions.config import validate
from definitions.datasets import load_dataset
from training.run_dir import create_run_dir, write_config, write_result


def resolve_config(network, name, overrides):
    """The network dict with CLI overrides, validated, with a concrete seed recorded."""
    values = dict(network)
    values["name"] = name
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = validate(values)
    if config.seed is None:
        config = config.replace(seed=random.SystemRandom().randrange(1, 100_000_000))
    return config


def run_experiment(config, output_dir, data_dir=None, run_id=None, log=print):
    """Train `config`; returns (run_dir, result dict). result.json is written atomically."""
    dataset = load_dataset(config, data_dir)
    from training.trainer import Trainer  # imports TensorFlow: after the cheap checks
    trainer = Trainer(config, dataset, run_dir=None, log=log)
    run_dir = create_run_dir(output_dir, config.name, config.type, run_id)
    trainer.run_dir = run_dir
    write_config(run_dir, config)
    try:
        result = trainer.run()
    finally:
        trainer.close()
    result.update(network=config.name, type=config.type, seed=config.seed, dataset=config.dataset_name)
    write_result(run_dir, result)
    return run_dir, result


def final_line(result):
    """The last stdout line of a run; the tuner parses it."""
    return (f"total accuracy: {result['accuracy']:.2f}%, loss: {result['loss']:.4f}, "
            f"acc iterations: {result['iterations']}")
