"""Progress of a batch: a rich bar at a terminal, plain log lines otherwise (or with --quiet)."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """done / total, errors and timeouts so far, elapsed time and the time left (rich estimates it)."""

    def __init__(self, total: int, skipped: int, *, quiet: bool = False, stream: Optional[TextIO] = None):
        self.total, self.skipped = total, skipped
        self.done = self.errors = self.timeouts = 0
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self.quiet = quiet
        self._bar = None
        if not quiet and self.stream.isatty() and sys.stdout.isatty() and total:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), TextColumn("left"),
                            TimeRemainingColumn(), console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("grading", total=total, counts=self._counts())
        elif not quiet:
            self.log(f"{total} submission(s) to grade, {skipped} up to date in the gradebook")

    def _counts(self) -> str:
        return f"errors {self.errors} · timeouts {self.timeouts}"

    def log(self, line: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def advance(self, student: str, status: str, score: float, max_score: float, seconds: float) -> None:
        self.done += 1
        self.errors += status in ("error", "rejected", "unrecognised")
        self.timeouts += status == "timeout"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, counts=self._counts())
            return
        if self.quiet:
            return
        elapsed = time.monotonic() - self.t0
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        self.log(f"[{self.done}/{self.total}] {student}: {status} {score:g}/{max_score:g} in {seconds:.1f} s "
                 f"({self._counts()}; elapsed {elapsed:.0f} s, about {left:.0f} s left)")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
