"""The memory model against the trace on a small transformer (embedding, an attention and an MLP
block, the head), and on two layers in Launay et al.'s layout (post-norm, a block per layer, the
embedding inside the first), on the kernels this process runs (`make test` runs it under both
families)."""
import pytest

from definitions.config import validate
from training.memory_check import measure
from training.memory_model import memory_model

pytestmark = pytest.mark.kernels

NETWORK = {"name": "t", "dataset_name": "synthetic_tokens",
           "context_length": 64, "synthetic_classes": 16, "batch_size": 8, "optimizer": "adam", "seed": 1,
           "memory_warmup": 2}
#: Issue "predictions on the kernels the machine runs": the transient peak within 15% (worst case).
TRANSIENT_WORST = 0.15


def small(output_size):
    from definitions.sequences import transformer
    return transformer(output_size, layers=1, dim=64, heads=4, context=64)


def small_launay(output_size):
    from definitions.sequences import transformer
    return transformer(output_size, layers=2, dim=64, heads=4, context=64, norm="post", blocks="layer",
                       embedding_block=False)


@pytest.mark.parametrize("sequence", ["small", "small_launay"])
@pytest.mark.parametrize("algorithm", ["BP", "FA", "DFA", "DFAMEM", "DRTP", "BPCKPT"])
def test_predicted_peak_and_persistent_bytes_match_the_trace(algorithm, sequence):
    config = validate({**NETWORK, "type": algorithm, "sequence": f"tests.training.test_transformer_memory:{sequence}"})
    prediction = memory_model(config).predict(algorithm, config.batch_size)
    peak, persistent = measure(config, steps=3)
    assert prediction.persistent_bytes == persistent  # weights, Adam's slots, per-position feedback matrices
    assert abs(prediction.peak_bytes - peak) <= TRANSIENT_WORST * peak, (prediction.peak_bytes, peak)
