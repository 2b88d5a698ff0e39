"""history.csv: one row per finished epoch, as Keras' CSVLogger writes it (issue "A researcher's
day", item 14).

Rewritten atomically at each epoch's end, before the epoch's checkpoint: a run killed between
the two redoes the epoch on --resume and its row replaces the old one (rows of that epoch and
later are dropped), so the file always ends at the epoch the run continues after.
"""
import csv
import io
import os

from definitions.files import atomic_write_text

HISTORY = "history.csv"
COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "epoch_seconds",
           "cumulative_seconds")


def record(run_dir, row):
    """Write `row` (a dict of COLUMNS) as the last row, after the rows of earlier epochs."""
    path = os.path.join(run_dir, HISTORY)
    kept = [old for old in read(run_dir) if int(old["epoch"]) < int(row["epoch"])]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    writer.writerow({column: _cell(row.get(column)) for column in COLUMNS})
    atomic_write_text(path, buffer.getvalue())


def read(run_dir):
    try:
        with open(os.path.join(run_dir, HISTORY), encoding="utf-8", newline="") as handle:
            return [row for row in csv.DictReader(handle) if (row.get("epoch") or "").isdigit()]
    except OSError:
        return []


def _cell(value):
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value
