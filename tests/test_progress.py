"""Progress of long commands: a bar redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

import pytest

from orchestration.progress import Progress, TerminalProgress, bar, progress_for, status_text

pytestmark = pytest.mark.unit


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_shows_the_share_done() -> None:
    assert bar(0, 4, width=8) == "[--------]"
    assert bar(1, 4, width=8) == "[##------]"
    assert bar(4, 4, width=8) == "[########]"
    assert bar(3, 0, width=4) == "[----]"  # no known amount: an empty bar, never a crash
    assert status_text(12, 45, "steps", 23.4, "raw__mall_orders") == (
        "[######------------------] 12/45 steps · 23 s · raw__mall_orders"
    )


def test_a_terminal_gets_a_status_line_redrawn_under_the_lines() -> None:
    terminal = FakeTerminal()
    progress = progress_for(terminal)
    assert isinstance(progress, TerminalProgress)
    progress.status(1, 4, "steps", "raw__mall_orders")
    progress.line("raw__mall_orders done in 2.0 s (1 of 4 steps)")
    progress.status(2, 4, "steps")
    progress.finish()
    out = terminal.getvalue()
    # the line is printed after clearing the status, which is drawn again below it
    assert out.index("\r\x1b[2K") < out.index("raw__mall_orders done")
    assert "[######------------------] 1/4 steps" in out
    assert "[############------------] 2/4 steps" in out
    assert out.endswith("\r\x1b[2K")  # finish leaves a clean line for what follows


def test_elsewhere_only_plain_lines() -> None:
    pipe = io.StringIO()
    progress = progress_for(pipe)
    assert type(progress) is Progress
    progress.status(1, 4, "steps", "raw__mall_orders")
    progress.line("raw__mall_orders done in 2.0 s (1 of 4 steps)")
    progress.finish()
    assert pipe.getvalue() == "raw__mall_orders done in 2.0 s (1 of 4 steps)\n"
