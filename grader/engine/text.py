"""Bounds on student-controlled input: every piece of text the grader shows is capped, visibly,
and the grader's own parsing of student files is bounded in time."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

TRUNCATED = "… (truncated)"
LINE_CHARS = 400  # one line of a traceback, a warning
MESSAGE_CHARS = 6000  # a check's message
WARNING_COUNT = 40  # warnings per report


def cap(text: Any, limit: int = MESSAGE_CHARS) -> str:
    """`text` cut to at most `limit` characters (plus the marker) when longer."""
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[:limit] + TRUNCATED


def cap_lines(text: Any, line_limit: int = LINE_CHARS, limit: int = MESSAGE_CHARS) -> str:
    """Each line cut to `line_limit`, the whole to `limit`: a 4 MB traceback line stays one line."""
    s = "" if text is None else str(text)
    if len(s) > 4 * limit:  # never split megabytes into lines only to throw them away
        s = s[: 4 * limit]
    return cap("\n".join(cap(line, line_limit) for line in s.split("\n")), limit)


def cap_list(items: list, count: int = WARNING_COUNT, line_limit: int = LINE_CHARS) -> list[str]:
    out = [cap_lines(i, line_limit, 4 * line_limit) for i in items[:count]]
    if len(items) > count:
        out.append(f"(+{len(items) - count} more) {TRUNCATED}")
    return out


@contextlib.contextmanager
def time_bound(seconds: float):
    """Raise TimeoutError in the block after `seconds` (main thread only; elsewhere no bound).

    For the grader's own parsing of student files (a notebook's code): linear-time work on bounded
    input, so the bound is a second line of defence and never fires on a real submission.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
