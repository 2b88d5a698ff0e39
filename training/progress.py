"""An epoch progress bar for terminals; nothing at all when the output is not a terminal.

The per-epoch `finished epoch ...` lines and the final `total accuracy: ...` line are what the
tuner and the logs read, so the bar lives on one line that is redrawn with a carriage return
and erased before any other line is printed: those lines always start at column 0 and never
carry a fragment of the bar.
"""
import sys
import time

WIDTH = 30
REDRAW_SECONDS = 0.1


class EpochBar:
    """`epoch 3/10 [#########.........] 45/144 loss 0.1234 0:12 0.27s/step ETA 0:27`, redrawn in
    place: elapsed time of the epoch, time per step and the time left at that pace (Keras' bar
    shows the same). A resumed epoch is timed from the step it resumed at."""

    def __init__(self, stream, epoch, epochs, steps, clock=time.monotonic):
        self.stream, self.epoch, self.epochs, self.steps = stream, epoch, epochs, max(int(steps), 1)
        self.clock = clock
        self.started = clock()
        self.first_step = None  # the step before the first update: 0, or where a resumed epoch began
        self.shown = 0  # characters on the line now
        self.last_draw = None

    def update(self, step, loss):
        now = self.clock()
        if self.first_step is None:
            self.first_step = step - 1
        if self.last_draw is not None and now - self.last_draw < REDRAW_SECONDS and step < self.steps:
            return
        self.last_draw = now
        filled = min(WIDTH, WIDTH * step // self.steps)
        text = (f"epoch {self.epoch}/{self.epochs} [{'#' * filled}{'.' * (WIDTH - filled)}] "
                f"{step}/{self.steps} loss {loss:.4f} {self._timing(step, now)}")
        self.stream.write("\r" + text + " " * max(self.shown - len(text), 0))
        self.stream.flush()
        self.shown = len(text)

    def _timing(self, step, now):
        elapsed = max(now - self.started, 0.0)
        done = step - self.first_step
        if done <= 0:
            return _clock_text(elapsed)
        per_step = elapsed / done
        unit = f"{per_step:.2f}s/step" if per_step >= 0.01 else f"{per_step * 1000:.1f}ms/step"
        return f"{_clock_text(elapsed)} {unit} ETA {_clock_text(per_step * max(self.steps - step, 0))}"

    def clear(self):
        """Erase the bar so the next line starts at column 0; update() draws it again."""
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0
            self.last_draw = None


def _clock_text(seconds):
    """0:07, 12:34, 1:02:03."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def terminal_bars(stream=None):
    """A factory of EpochBars when `stream` (default stdout) is a terminal, else None."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return lambda epoch, epochs, steps: EpochBar(stream, epoch, epochs, steps)
