"""`experiment plan --png` as researchers asked (issue "A researcher's day", item 20): a readable
size, --log, the largest batch within a budget marked, a far budget named instead of flattening
the curves."""
import struct

from click.testing import CliRunner

from training.cli import main
from training.plan_report import FIGURE_DPI, FIGURE_SIZE, figure


def rows(kind, totals):
    return [{"type": kind, "batch_size": batch, "predicted_total_bytes": total, "planned_for_budget": False}
            for batch, total in totals]


def size_of(png):
    return struct.unpack(">II", png[16:24])  # IHDR: width, height


def test_the_figure_is_the_size_of_compares():
    png = figure(rows("BP", [(8, 2**20), (16, 2**21)]), ["BP"], None, "t")
    assert size_of(png) == (FIGURE_SIZE[0] * FIGURE_DPI, FIGURE_SIZE[1] * FIGURE_DPI)


def test_log_and_a_far_budget_draw_another_figure():
    data = rows("BP", [(8, 2**20), (16, 2**21), (32, 2**22)])
    linear, logarithmic = (figure(data, ["BP"], None, "t", log=log) for log in (False, True))
    assert linear != logarithmic
    # A budget 1000 times the curves is named in a note, not drawn as a line that squeezes them.
    near = figure(data, ["BP"], 2**22 + 2**20, "t", largest={"BP": 40})
    far = figure(data, ["BP"], 2**32, "t", largest={"BP": 40000})
    assert near != far and size_of(far) == size_of(near)


def test_log_needs_a_figure():
    result = CliRunner().invoke(main, ["plan", "--log"])
    assert result.exit_code == 2 and "--png" in result.output
