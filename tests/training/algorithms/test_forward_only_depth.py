"""MEZO's and FGRAD's traced peaks are flat in depth (issue 23: long_fc, 20 blocks against 5, at most
1.10): nothing of a block outlives the next one. BP's grows with depth, the contrast that makes the
test able to fail."""
import pytest

from definitions.sequences import long_fc
from tests.planning.test_model import measured_peak

pytestmark = pytest.mark.kernels


def depth_ratio(kind):
    peaks = {blocks: measured_peak(lambda: long_fc(10, blocks=blocks, width=256), (32,), kind, traces=3)[0]
             for blocks in (5, 20)}
    return peaks[20] / peaks[5]


@pytest.mark.parametrize("kind", ["MEZO", "FGRAD"])
def test_peak_is_flat_in_depth(kind):
    assert depth_ratio(kind) <= 1.10


def test_bp_is_not():
    assert depth_ratio("BP") > 2
