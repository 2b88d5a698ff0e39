"""Checks shared by the hand-built and the TensorFlow report tests."""
import csv
import math

from matplotlib.image import imread

from tracing.liveness import ACTIVATION_COLUMNS
from tracing.node_table import NODE_COLUMNS
from tracing.plots import DPI, TIMELINE_FIGURE_SIZE

ISSUE_NODE_COLUMNS = ["rank", "node_name", "category", "phase", "device", "run_time_us", "bytes_allocated",
                      "peak_bytes_during_node", "active_bytes_before_node"]
ISSUE_ACTIVATION_COLUMNS = ["activation_name", "creation_rank", "last_fw_use_rank", "first_bw_use_rank",
                            "last_bw_use_rank", "size_bytes", "inactive_time_us", "recomp_time_us",
                            "recomp_memory_bytes"]
assert list(NODE_COLUMNS) == ISSUE_NODE_COLUMNS and list(ACTIVATION_COLUMNS) == ISSUE_ACTIVATION_COLUMNS


def read_csv(path, header):
    """Rows of a CSV whose first line must be `header`, each cell non-empty and not NaN."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == header
    for row in rows[1:]:
        assert len(row) == len(header), row
        for cell in row:
            assert cell.strip() != "", row
            try:
                assert not math.isnan(float(cell)), row
            except ValueError:
                pass  # a name, not a number
    return [dict(zip(header, row)) for row in rows[1:]]


def check_png(path, size=TIMELINE_FIGURE_SIZE):
    image = imread(path)
    height, width = image.shape[:2]
    assert (width, height) == (size[0] * DPI, size[1] * DPI)
    assert image.std() > 0  # something was drawn


def timeline_column(path, column):
    with open(path, encoding="utf-8") as handle:
        return [int(line.split(" ", 3)[column]) for line in handle if line.strip()]
