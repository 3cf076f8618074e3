"""How long commands show their progress: a bar on a terminal, plain lines elsewhere.

On a terminal (`stream.isatty()`) a status line at the bottom is redrawn in place — a bar of the
work done where its amount is known, the count, the elapsed time and what is running — and
progress lines are printed above it. Anywhere else (CI, cron, a pipe) only the lines are
written, one per event, with no control characters: logs stay readable and grep-able.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO

BAR_WIDTH = 24


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[#####-------]`: the share of `total` that is `done`."""
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def status_text(done: int, total: int, unit: str, elapsed: float, doing: str) -> str:
    text = f"{bar(done, total)} {done}/{total} {unit} · {elapsed:.0f} s"
    return f"{text} · {doing}" if doing else text


class Progress:
    """Plain lines: what a non-terminal gets. `status` draws nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def status(self, done: int, total: int, unit: str, doing: str = "") -> None:
        return None

    def finish(self) -> None:
        return None


class TerminalProgress(Progress):
    """A status line redrawn in place at the bottom, lines printed above it."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._shown = ""

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self._shown = ""

    def line(self, text: str) -> None:
        shown = self._shown
        self._clear()
        print(text, file=self.stream)
        if shown:
            self.stream.write(shown)
            self._shown = shown
        self.stream.flush()

    def status(self, done: int, total: int, unit: str, doing: str = "") -> None:
        columns = shutil.get_terminal_size((100, 20)).columns
        text = status_text(done, total, unit, self.elapsed, doing)[: max(20, columns - 1)]
        self._clear()
        self.stream.write(text)
        self._shown = text
        self.stream.flush()

    def finish(self) -> None:
        self._clear()
        self.stream.flush()


def progress_for(stream: TextIO) -> Progress:
    return TerminalProgress(stream) if stream.isatty() else Progress(stream)
