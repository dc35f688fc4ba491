"""Which assignment CI self-tests today: one whole self-test per run, in turn (docs/selftest.md).

    python -m grader.instructor.selftest.rotation      # prints the name

$CI_SELFTEST_ASSIGNMENT chooses one; otherwise the day of the year picks among the assignments in
name order, so every assignment is self-tested in full every few days and no run pays for all.
"""
from __future__ import annotations

import datetime
import os
from typing import Optional, Sequence

ENV = "CI_SELFTEST_ASSIGNMENT"


def todays_assignment(names: Sequence[str], day: Optional[datetime.date] = None) -> str:
    """$CI_SELFTEST_ASSIGNMENT, or names[day of the year mod len(names)] (in name order)."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen:
        return chosen
    ordered = sorted(names)
    if not ordered:
        raise ValueError("no assignments to self-test")
    day = day or datetime.datetime.now(datetime.timezone.utc).date()
    return ordered[day.timetuple().tm_yday % len(ordered)]


if __name__ == "__main__":
    from grader.engine import assignment as assignments

    print(todays_assignment(assignments.available()))
