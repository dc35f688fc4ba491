"""The late policy's table of cases: tests/test_late_policy.py checks each, and docs/batch.md shows
them ("Late policy"), generated from here: `python tests/late_cases.py` prints the table (and
`--write` puts it into docs/batch.md between its markers); a test checks the two agree.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.instructor.batch.late import (Lateness, SubmissionTime, assess, parse_when,  # noqa: E402
                                          span, zone_of)
from grader.instructor.batch.lateness import LateOptions, resolve_policy  # noqa: E402
from grader.instructor.batch.late import parse_amount, parse_duration, parse_rate  # noqa: E402

DOC = ROOT / "docs" / "batch.md"
BEGIN, END = "<!-- late-cases: begin (python tests/late_cases.py --write) -->", "<!-- late-cases: end -->"
NY = "America/New_York"


@dataclass(frozen=True)
class Case:
    name: str
    submitted: Optional[str]  # wall time in the zone, or ISO 8601; None: unknown
    # expected
    state: str
    periods: int
    penalty: float
    final: float
    says: str  # a phrase the student's explanation holds
    # the policy (the course's default: due 2026-10-01 23:59 New York, 15 min grace, 10%/day)
    due: str = "2026-10-01 23:59"
    zone: Optional[str] = NY
    grace: str = "15m"
    rate: Optional[str] = "10%/day"
    cap: Optional[str] = None
    last_accepted: Optional[str] = None
    extensions: dict[str, str] = field(default_factory=dict)
    student: tuple[str, ...] = ("alice", "1001", "alice@uni.example")  # student id, LMS id, email
    source: str = "gradescope"
    advisory: bool = False
    marker: bool = False  # Canvas's LATE_ in the file name
    raw: float = 80.0
    max_score: float = 100.0

    def run(self) -> Lateness:
        policy = resolve_policy(LateOptions(
            due=self.due, timezone=self.zone, grace=parse_duration(self.grace),
            penalty=parse_rate(self.rate) if self.rate else None,
            max_penalty=parse_amount(self.cap) if self.cap else None, last_accepted=self.last_accepted), None)
        policy = policy.with_(extensions={k: parse_when(v, policy.tz) for k, v in self.extensions.items()})
        at = parse_when(self.submitted, policy.tz) if self.submitted else None
        due, extended = policy.due_for(self.student)
        return assess(policy, self.raw, self.max_score,
                      SubmissionTime(at, self.source if at else "", self.advisory, self.marker), due, extended)

    def policy_words(self) -> str:
        words = [f"due {self.due}" + (f" {self.zone}" if self.zone else ""), f"grace {self.grace}",
                 f"{self.rate}" if self.rate else "no penalty"]
        if self.cap:
            words.append(f"cap {self.cap}")
        if self.last_accepted:
            words.append(f"last accepted {self.last_accepted}")
        words += [f"extension {k}: {v}" for k, v in self.extensions.items()]
        return ", ".join(words)


CASES = [
    Case("on time", "2026-10-01 22:00", "on_time", 0, 0, 80, "1 h 59 min before the due date"),
    Case("inside the grace period", "2026-10-02 00:10", "grace", 0, 0, 80,
         "11 min after the due date 2026-10-01 23:59 America/New_York; inside the 15 min grace period"),
    Case("1 h late, per hour", "2026-10-02 00:59", "late", 1, 5, 75, "1 started hour late × 5% of 100 points",
         rate="5%/hour"),
    Case("1 h 31 min late, per hour", "2026-10-02 01:30", "late", 2, 10, 70,
         "1 h 31 min after the due date 2026-10-01 23:59 America/New_York; not inside the 15 min grace period; "
         "2 started hours late × 5% of 100 points = 10 points", rate="5%/hour"),
    Case("3 days late", "2026-10-04 23:00", "late", 3, 30, 50, "3 started days late × 10% of 100 points = 30 points"),
    Case("points per hour", "2026-10-02 03:10", "late", 4, 8, 72, "4 started hours late × 2 points = 8 points",
         rate="2pt/hour"),
    Case("capped", "2026-10-07 12:00", "late", 6, 20, 60, "capped at 20% of 100 points = 20 points", cap="20%"),
    Case("penalty above the raw score", "2026-10-04 23:00", "late", 3, 5, 0, "at most the raw score 5", raw=5),
    Case("after the last accepted date", "2026-10-06 08:00", "not_accepted", 0, 80, 0,
         "after the last accepted date 2026-10-05 23:59 America/New_York: not accepted",
         last_accepted="2026-10-05 23:59"),
    Case("extension (by student id)", "2026-10-03 12:00", "on_time", 0, 0, 80, "(extended): on time",
         extensions={"alice": "2026-10-03 23:59"}),
    Case("extension (by email)", "2026-10-04 01:00", "late", 1, 10, 70,
         "1 h 1 min after the due date 2026-10-03 23:59 America/New_York (extended)",
         extensions={"alice@uni.example": "2026-10-03 23:59"}),
    Case("extension for someone else", "2026-10-03 12:00", "late", 2, 20, 60, "2 started days late",
         extensions={"bob": "2026-10-03 23:59"}),
    Case("DST starts: 23 h 30 min elapsed, past the next day's due time", "2026-03-29 12:30", "late", 2, 20, 60,
         "23 h 30 min after the due date 2026-03-28 12:00 Europe/Amsterdam; not inside the 15 min grace period; "
         "2 started days late", due="2026-03-28 12:00", zone="Europe/Amsterdam"),
    Case("DST starts: one calendar day later (23 h elapsed)", "2026-03-29 12:00", "late", 1, 10, 70,
         "23 h after the due date 2026-03-28 12:00 Europe/Amsterdam; not inside the 15 min grace period; "
         "1 started day late", due="2026-03-28 12:00", zone="Europe/Amsterdam"),
    Case("DST starts: 24 h elapsed (a calendar day and an hour)", "2026-03-29 13:00", "late", 2, 20, 60,
         "1 d after the due date 2026-03-28 12:00 Europe/Amsterdam; not inside the 15 min grace period; "
         "2 started days late", due="2026-03-28 12:00", zone="Europe/Amsterdam"),
    Case("DST starts: 22 h 30 min elapsed, before the next day's due time", "2026-03-29 11:30", "late", 1, 10, 70,
         "1 started day late", due="2026-03-28 12:00", zone="Europe/Amsterdam"),
    Case("DST ends: 24 h 30 min elapsed, before the next day's due time", "2026-11-01 11:30", "late", 1, 10, 70,
         "1 d 30 min after the due date 2026-10-31 12:00 America/New_York; not inside the 15 min grace period; "
         "1 started day late", due="2026-10-31 12:00"),
    Case("due date with an offset, no zone", "2026-10-02T01:00:00-04:00", "late", 1, 10, 70,
         "1 h 1 min after the due date 2026-10-01 23:59 -04:00", due="2026-10-01T23:59:00-04:00", zone=None),
    Case("time unknown", None, "unknown", 0, 0, 80, "time unknown: counted as on time"),
    Case("Canvas LATE_ marker, time unknown", None, "marker", 1, 10, 70,
         "Canvas marked it late: counted as 1 started day late", source="", marker=True),
    Case("Canvas LATE_ marker with the times CSV's time", "2026-10-02 00:05", "grace", 0, 0, 80,
         "(from the submission-times list), 6 min after the due date", source="times-csv", marker=True),
    Case("Canvas LATE_ marker with an extension", None, "unknown", 0, 0, 80, "time unknown",
         source="", marker=True, extensions={"1001": "2026-10-05 23:59"}),
    Case("commit time (advisory)", "2026-10-02 03:00", "late", 1, 10, 70,
         "(from the commit's time: advisory, the student's computer sets it)", source="commit", advisory=True),
    Case("no penalty rule, late", "2026-10-03 03:00", "late", 0, 0, 80, "no late penalty in this course", rate=None),
]


def markdown_table() -> str:
    lines = ["| case | policy | submitted | lateness | penalty | final (raw 80 / 100 unless said) |",
             "| --- | --- | --- | --- | ---: | ---: |"]
    for c in CASES:
        r = c.run()
        if r.late_seconds is None:
            late = "unknown" + (f", {r.periods} period (LATE_ marker)" if r.state == "marker" else "")
        elif r.late_seconds <= 0:
            late = "on time"
        else:
            per = (c.rate or "/").split("/")[1]
            late = f"{span(r.late_seconds)}: {r.state.replace('_', ' ')}" + (
                f", {r.periods} started {per}" + ("s" if r.periods > 1 else "") if r.periods else "")
        raw = "" if c.raw == 80 else f" (raw {c.raw:g})"
        submitted = c.submitted or ("Canvas LATE_, no time" if c.marker else "unknown")
        submitted += {"commit": " (commit, advisory)", "times-csv": " (times CSV)"}.get(c.source, "") if c.submitted else ""
        lines.append(f"| {c.name} | {c.policy_words()} | {submitted} | {late} | {r.penalty:g} | {r.final:g}{raw} |")
    return "\n".join(lines)


def doc_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


if __name__ == "__main__":
    table = markdown_table()
    if "--write" in sys.argv:
        text = DOC.read_text(encoding="utf-8")
        head, rest = text.split(BEGIN, 1)
        DOC.write_text(head + BEGIN + "\n" + table + "\n" + END + rest.split(END, 1)[1], encoding="utf-8")
    print(table)
    _ = zone_of  # re-exported for callers
