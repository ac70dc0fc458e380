"""Progress of a long command, on stderr so that stdout stays the command's result.

On a terminal: a bar with the share done, the time spent and the time left. Anywhere else (a log,
a pipe, CI): one plain line per stage, and for measured work one line per step with the expected
time left, estimated from the rate so far (work units of about equal cost: parts of a book split
by trading days to maturity, Monte Carlo tasks).
"""
from __future__ import annotations

import sys
import time


def _fmt_s(seconds: float) -> str:
    """``12.3 s`` under two minutes, else ``4 min 05 s``."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"


class Progress:
    """Work of ``total`` units (floats allowed) in steps; ``label`` starts every line.

    ``tty``: draw a bar (default: whether ``stream`` is a terminal). ``every``: without a bar, the
    smallest share of the total between two step lines (0: a line per step), so that a pass of
    thousands of tasks logs about ten lines, not thousands.
    """

    def __init__(self, label: str, total: float, unit: str = "", stream=None, tty: bool | None = None,
                 every: float = 0.0, clock=time.perf_counter):
        self.label, self.total, self.unit = label, float(total), unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every
        self.clock = clock
        self.t0 = clock()
        self.done = 0.0
        self._last_line = -1.0
        self._bar = None

    def note(self, text: str) -> None:
        """One stage line (above the bar on a terminal)."""
        if self._bar is not None:
            self._bar.console.print(f"{self.label}: {text}", highlight=False)
        else:
            print(f"{self.label}: {text}", file=self.stream, flush=True)

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def left(self) -> float | None:
        """Seconds expected until the total is done, at the rate so far (None before any work)."""
        if self.done <= 0:
            return None
        return self.elapsed() * max(self.total - self.done, 0.0) / self.done

    def update(self, done: float, what: str = "") -> None:
        """``done`` units of the total are finished (``what`` names the step for the log line)."""
        self.done = float(done)
        if self.tty:
            self._draw()
            return
        share = self.done / self.total if self.total else 1.0
        if self.done < self.total and share - self._last_line < self.every:
            return
        self._last_line = share
        left = self.left()
        # the rate of the first few percent says little (start-up, the first compiles)
        tail = f", about {_fmt_s(left)} left" if left is not None and self.done < self.total and share >= 0.05 else ""
        step = f"{what} done" if what else f"{self.done:,.0f}/{self.total:,.0f}{' ' + self.unit if self.unit else ''}"
        print(f"{self.label}: {step} ({share:.0%}), {_fmt_s(self.elapsed())} so far{tail}", file=self.stream,
              flush=True)

    def _draw(self) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (BarColumn, Progress as Bar, TaskProgressColumn, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(TextColumn(self.label), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                            TextColumn("left"), TimeRemainingColumn(), console=Console(file=self.stream),
                            transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        self._bar.update(self._task, completed=self.done)

    def finish(self, text: str) -> None:
        """Close the bar and say how it ended (with the time taken)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        print(f"{self.label}: {text} in {_fmt_s(self.elapsed())}", file=self.stream, flush=True)

    def tasks(self):
        """A ``(done, total)`` callback (the CPU fused pass calls it per task) driving this progress;
        the total it reports replaces ``self.total``."""
        def cb(done, total):
            self.total = float(total)
            self.update(done)
        return cb
