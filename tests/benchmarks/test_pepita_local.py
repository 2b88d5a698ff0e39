"""benchmarks/pepita_local.py's choices and targets, on rows given by hand."""
from benchmarks import pepita_local


def row(stage, kind, rate, seed, accuracy, loss=0.2):
    return {"stage": stage, "type": kind, "learning_rate": rate, "seed": seed, "accuracy": accuracy, "loss": loss,
            "status": "completed"}


def test_the_best_rate_is_the_best_accuracy_and_the_lower_loss_breaks_a_tie():
    rows = [row("sweep", "PEPITA", 0.01, 1, 94.0), row("sweep", "PEPITA", 0.02, 1, 95.5, 0.21),
            row("sweep", "PEPITA", 0.05, 1, 95.5, 0.18), row("sweep", "LOCAL", 0.01, 1, 97.0),
            row("sweep", "LOCAL", 0.05, 1, 94.0)]
    assert pepita_local.best_rates(rows) == {"PEPITA": 0.05, "LOCAL": 0.01}


def test_targets_compare_worst_seeds(tmp_path):
    rows = [row("seeds", "BP", 0.01, 7, 96.5), row("seeds", "BP", 0.01, 1, 96.0),
            row("seeds", "PEPITA", 0.05, 7, 91.0), row("seeds", "PEPITA", 0.05, 1, 89.9),
            row("seeds", "LOCAL", 0.01, 7, 93.4), row("seeds", "LOCAL", 0.01, 1, 97.0)]
    (pepita, pepita_value, _, pepita_met), (local, gap, _, local_met) = pepita_local.targets(rows)
    assert (pepita_value, pepita_met) == (89.9, False)
    assert (gap, local_met) == (2.6, False)
    pepita_local.report(rows + [row("sweep", "PEPITA", 0.05, 1, 95.0), row("sweep", "LOCAL", 0.01, 1, 96.0)],
                        out_dir=str(tmp_path), log=lambda *_: None)
    text = (tmp_path / "pepita_local.md").read_text()
    assert "| seed | BP (0.01) | PEPITA (0.05) | LOCAL (0.01) |" in text and "**missed**" in text
