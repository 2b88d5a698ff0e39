"""Training algorithms by the name used in `--type`."""
from definitions.errors import ConfigError
from training.algorithms.base import Algorithm, Step
from training.algorithms.bp import BP
from training.algorithms.bpckpt import BPCKPT
from training.algorithms.dfa import DFA
from training.algorithms.dfamem import DFAMEM
from training.algorithms.drtp import DRTP
from training.algorithms.fa import FA

ALGORITHMS = {cls.name: cls for cls in (BP, BPCKPT, FA, DFA, DFAMEM, DRTP)}


def get_algorithm(config):
    if config.type not in ALGORITHMS:
        raise ConfigError(f"training type {config.type!r} is not available yet; available: "
                          f"{', '.join(ALGORITHMS)}")
    return ALGORITHMS[config.type](config)


__all__ = ["Algorithm", "Step", "ALGORITHMS", "get_algorithm", "BP", "BPCKPT", "FA", "DFA", "DFAMEM", "DRTP"]
