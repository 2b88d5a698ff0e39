"""Training algorithms by the name used in `--type`.

The names live in definitions/config.py (TRAINING_TYPES), which must import without
TensorFlow; the classes are tied to that list here, at import, so neither can drift.
"""
from definitions.config import TRAINING_TYPES
from definitions.names import by_name
from training.algorithms.base import Algorithm, Step
from training.algorithms.bp import BP
from training.algorithms.bpckpt import BPCKPT
from training.algorithms.dfa import DFA
from training.algorithms.dfamem import DFAMEM
from training.algorithms.drtp import DRTP
from training.algorithms.fa import FA
from training.algorithms.fgrad import FGRAD
from training.algorithms.local import LOCAL
from training.algorithms.mezo import MEZO
from training.algorithms.pepita import PEPITA
from training.algorithms.sign_symmetric import BRSF, FRSF, USF

#: {name: class} in the order of TRAINING_TYPES.
ALGORITHMS = by_name("algorithms", TRAINING_TYPES, (BP, BPCKPT, FA, DFA, DFAMEM, DRTP, PEPITA, LOCAL,
                                                    USF, BRSF, FRSF, FGRAD, MEZO), lambda cls: cls.name)


def get_algorithm(config):
    """The algorithm of a validated config (its type is one of TRAINING_TYPES)."""
    return ALGORITHMS[config.type](config)


__all__ = ["Algorithm", "Step", "ALGORITHMS", "get_algorithm", "BP", "BPCKPT", "FA", "DFA", "DFAMEM", "DRTP",
           "PEPITA", "LOCAL", "USF", "BRSF", "FRSF", "FGRAD", "MEZO"]
