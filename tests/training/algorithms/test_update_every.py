"""update_every: FA's and DFA's updates of k consecutive blocks applied together. Neither rule's
backward reads the weights it updates, so grouping moves the updates, not their values: the
weights after two steps are those of one block at a time, with momentum and with Adam (one
optimizer per group, each advancing its bias correction once a step)."""
import numpy as np
import pytest

from benchmarks import common
from definitions.config import ignored_settings, validate
from definitions.errors import ConfigError

NETWORKS = [common.mlp(5, width=16), common.conv(3, filters=4)]


def weights_after_two_steps(network, kind, optimizer, every):
    bench = common.Bench(network, kind, batch_size=8, optimizer=optimizer, settings={"update_every": every})
    try:
        bench.run(2)
        return bench.session.run([v for block in bench.blocks for v in block.variables])
    finally:
        bench.close()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("kind", ["FA", "DFA"])
@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.name)
def test_grouped_updates_take_the_same_steps(network, kind, optimizer):
    alone = weights_after_two_steps(network, kind, optimizer, 1)
    for every in (2, 3):
        grouped = weights_after_two_steps(network, kind, optimizer, every)
        for mine, reference in zip(grouped, alone):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-7)
    assert not np.allclose(alone[0], weights_after_two_steps(network, "BP", optimizer, 1)[0])  # not a no-op


def test_update_every_is_checked_and_named_where_it_does_nothing():
    with pytest.raises(ConfigError, match="update_every"):
        validate({"update_every": 0})
    assert ignored_settings(validate({"type": "FA", "update_every": 2})) == []
    warning, = ignored_settings(validate({"type": "BP", "update_every": 2}))
    assert "'update_every' (2) has no effect here: it is used only with types FA and DFA" in warning
