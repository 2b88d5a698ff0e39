"""The epoch progress bar: drawn on a terminal, erased before every line, absent otherwise."""
import io

from training.progress import EpochBar, terminal_bars
from training.run import resolve_config, run_experiment

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 120,
         "sequence": "fcReLu", "batch_size": 20, "epochs": 2, "learning_rate": 0.1, "optimizer": "momentum",
         "seed": 5, "eval_period": 4}


class Terminal(io.StringIO):
    """A stream that says it is a terminal and can show what a terminal would display."""

    def isatty(self):
        return True

    def screen(self):
        """The lines left on screen: \\r returns to column 0 and later characters overwrite."""
        lines, line, column = [], [], 0
        for char in self.getvalue():
            if char == "\n":
                lines.append("".join(line).rstrip())
                line, column = [], 0
            elif char == "\r":
                column = 0
            else:
                line[column:column + 1] = [char]
                column += 1
        return lines + ([("".join(line)).rstrip()] if "".join(line).strip() else [])


def test_bar_draws_in_place_and_clear_erases_it():
    terminal = Terminal()
    clock = iter(range(100)).__next__  # one second per call: every update is drawn
    bar = EpochBar(terminal, epoch=2, epochs=5, steps=4, clock=clock)
    bar.update(1, 0.5)
    bar.update(4, 0.25)
    assert terminal.getvalue().count("\r") == 2 and "\n" not in terminal.getvalue()
    # Made at second 0, drawn at 1 and 2: 4 steps in 2 s, nothing left.
    assert terminal.screen() == ["epoch 2/5 [##############################] 4/4 loss 0.2500 0:02 0.50s/step ETA 0:00"]
    bar.clear()
    assert terminal.screen() == []


def test_bar_is_throttled():
    terminal = Terminal()
    bar = EpochBar(terminal, epoch=1, epochs=1, steps=1000, clock=lambda: 7.0)
    for step in range(1, 500):
        bar.update(step, 1.0)
    assert terminal.getvalue().count("\r") == 1


def test_on_a_terminal_the_lines_stay_whole(tmp_path):
    terminal = Terminal()
    log_lines = []

    def log(line):
        log_lines.append(line)
        terminal.write(line + "\n")

    config = resolve_config(SMALL, "small", {})
    run_experiment(config, str(tmp_path), log=log, progress=terminal_bars(terminal))
    assert "[" in terminal.getvalue() and "\r" in terminal.getvalue()  # a bar was drawn
    # What remains on the screen is exactly the logged lines: no bar fragment in any of them.
    assert terminal.screen() == log_lines
    assert [line.split(",")[0] for line in log_lines if line.startswith("finished")] == \
        ["finished epoch 1", "finished epoch 2"]
    raw_lines = terminal.getvalue().split("\n")
    for line in log_lines:
        if line.startswith("finished epoch"):
            # In the raw bytes too, the line is preceded by the bar's erase and holds no \r itself.
            assert any(raw.endswith("\r" + line) or raw == line for raw in raw_lines)


def test_not_a_terminal_means_no_bar():
    assert terminal_bars(io.StringIO()) is None



def test_bar_shows_elapsed_time_per_step_and_eta():
    terminal = Terminal()
    times = iter([100.0, 103.0, 130.0])  # made at 100 s; 30 s later, 10 of 100 steps are done
    bar = EpochBar(terminal, epoch=1, epochs=1, steps=100, clock=lambda: next(times))
    bar.update(1, 1.0)
    bar.update(10, 1.0)
    assert terminal.screen()[0].endswith("loss 1.0000 0:30 3.00s/step ETA 4:30")


def test_a_resumed_epoch_is_timed_from_where_it_resumed():
    terminal = Terminal()
    times = iter([0.0, 10.0, 20.0])
    bar = EpochBar(terminal, epoch=1, epochs=1, steps=100, clock=lambda: next(times))
    bar.update(51, 1.0)  # resumed after 50 steps: one step in 10 s
    bar.update(52, 1.0)  # two steps in 20 s: 48 left
    assert terminal.screen()[0].endswith("0:20 10.00s/step ETA 8:00")
