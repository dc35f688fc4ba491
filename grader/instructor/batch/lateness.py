"""The late policy of a gradebook, from what the instructor asked (`grade batch`, `grade report`,
an export): which policy holds, the times the instructor's files give, the final scores.

    opts = LateOptions(due="2026-10-01 23:59", timezone="Europe/Amsterdam", penalty=parse_rate("10%/day"))
    policy, notes = settle(gb, opts)        # store the policy, read the files, recompute final scores

`LateOptions` is what the CLI collected (grader/instructor/late_options.py turns click options into
one). A policy given once is kept in the gradebook (meta `late_policy`): a later run without late
options keeps it, options given later change just those fields, `remove` drops it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Iterable, Optional

from .gradebook import Gradebook, apply_late_policy
from .late import Amount, LatePolicy, Rate, parse_when, zone_name, zone_of
from .times import (WorksheetRow, identifiers, match_times, read_moodle_worksheet,
                    read_csv, read_submission_times)


@dataclass
class LateOptions:
    """The late options of one command (None: not given)."""

    due: Optional[str] = None  # wall time in `timezone`, or ISO 8601 with an offset
    timezone: Optional[str] = None
    grace: Optional[timedelta] = None
    penalty: Optional[Rate] = None
    max_penalty: Optional[Amount] = None
    last_accepted: Optional[str] = None
    extensions: Optional[Path] = None  # CSV: student, due
    submission_times: Optional[Path] = None  # CSV: student (or user_id, email, ...), submitted_at
    moodle_worksheet: Optional[Path] = None  # Moodle's offline grading worksheet
    remove: bool = False  # --no-late-policy

    def rules_given(self) -> bool:
        """Whether a rule of the policy is given (a time zone alone, or the times' files, change none)."""
        return any(getattr(self, f.name) is not None for f in fields(self)
                   if f.name not in ("timezone", "submission_times", "moodle_worksheet", "remove"))


def read_extensions(path: Path, tz: Optional[tzinfo]) -> dict[str, datetime]:
    """{lower-cased student identifier: new due date} from a CSV with columns `student`, `due`."""
    header, rows = read_csv(path)
    if not {"student", "due"} <= set(header):
        raise ValueError(f"{path}: needs the columns student, due")
    out = {}
    for n, r in enumerate(rows, start=2):
        if r["student"]:
            try:
                out[r["student"].lower()] = parse_when(r["due"], tz)
            except ValueError as exc:
                raise ValueError(f"{path}, line {n}: {exc}") from None
    return out


def resolve_policy(opts: LateOptions, stored: Optional[LatePolicy]) -> Optional[LatePolicy]:
    """The policy that holds after these options: the stored one, changed by what was given; None
    when removed or never given. ValueError for options that do not make a policy."""
    if opts.remove:
        return None
    if not opts.rules_given():  # a zone alone changes how the stored policy shows dates and counts days
        return stored.with_(zone=zone_name(zone_of(opts.timezone))) if stored and opts.timezone else stored
    if opts.due is None and stored is None:
        raise ValueError("--due is needed to set a late policy (none is stored in this gradebook)")
    tz: Optional[tzinfo] = zone_of(opts.timezone) if opts.timezone else None
    if opts.due is not None:
        if tz is None:
            tz = stored.tz if stored is not None else None
        due = parse_when(opts.due, tz)
        if tz is None:  # "2026-10-01T23:59:00+02:00" alone: its offset is the course's clock
            tz = due.tzinfo
        policy = LatePolicy(due=due, zone=zone_name(tz)) if stored is None else stored.with_(due=due, zone=zone_name(tz))
    else:
        policy = stored if tz is None else stored.with_(zone=zone_name(tz))
        tz = policy.tz
    changes: dict[str, Any] = {}
    if opts.grace is not None:
        changes["grace"] = opts.grace
    if opts.penalty is not None:
        changes["penalty"] = opts.penalty
    if opts.max_penalty is not None:
        changes["max_penalty"] = opts.max_penalty
    if opts.last_accepted is not None:
        changes["last_accepted"] = parse_when(opts.last_accepted, tz)
    if opts.extensions is not None:
        changes["extensions"] = read_extensions(opts.extensions, tz)
    policy = policy.with_(**changes)
    if policy.last_accepted is not None and policy.last_accepted < policy.due:
        raise ValueError("--last-accepted is before --due")
    return policy


def instructor_times(opts: LateOptions, policy: Optional[LatePolicy]) -> tuple[dict[str, datetime], list[WorksheetRow]]:
    """The submission-times CSV and Moodle worksheet, read in the course's time zone."""
    tz = zone_of(opts.timezone) if opts.timezone else (policy.tz if policy is not None else None)
    listed = read_submission_times(opts.submission_times, tz) if opts.submission_times else {}
    if opts.moodle_worksheet and tz is None:
        raise ValueError("--moodle-worksheet needs --timezone (Moodle writes local times without a zone)")
    sheet = read_moodle_worksheet(opts.moodle_worksheet, tz) if opts.moodle_worksheet else []
    return listed, sheet


def unmatched_extensions(policy: Optional[LatePolicy], rows: Iterable[dict[str, Any]]) -> list[str]:
    if policy is None:
        return []
    known = {k for r in rows for k in identifiers(r)}
    return [f"extension for {k!r} matches no submission" for k in sorted(set(policy.extensions) - known)]


def settle(gb: Gradebook, opts: LateOptions) -> tuple[Optional[LatePolicy], list[str]]:
    """Apply these options to a graded gradebook: the policy stored, the instructor's times recorded,
    every final score recomputed. (policy in force, notes for the instructor); ValueError for bad input."""
    policy = resolve_policy(opts, gb.late_policy())
    listed, sheet = instructor_times(opts, policy)
    rows = gb.submissions()
    notes: list[str] = []
    if listed or sheet:
        found, notes = match_times(rows, listed, sheet)
        gb.set_times(found)
    apply_late_policy(gb, policy)
    return policy, notes + unmatched_extensions(policy, rows)
