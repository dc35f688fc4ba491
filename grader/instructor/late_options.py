"""The late policy's command-line options, for every command that publishes grades.

    @click.command()
    @late_policy_options
    def report(out, late: LateOptions): ...

adds `--due`, `--timezone`, `--grace`, `--late-penalty`, `--max-penalty`, `--last-accepted`,
`--extensions`, `--submission-times`, `--moodle-worksheet`, `--no-late-policy`, and hands the
command one `late` argument (grader.instructor.batch.lateness.LateOptions): parsed and checked, with
click.BadParameter naming the option for a malformed value. `lateness.settle(gb, late)` (or the
batch) then stores and applies it.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Optional

import click

from .batch.late import parse_amount, parse_duration, parse_rate, parse_when, zone_of
from .batch.lateness import LateOptions

NAMES = ("due", "timezone", "grace", "late_penalty", "max_penalty", "last_accepted", "extensions",
         "submission_times", "moodle_worksheet", "no_late_policy")


def _parsed(parse: Callable[[str], Any]) -> Callable:
    def callback(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return callback


def _when_format(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """Checked now (a wall time or ISO 8601); read in the course's zone once it is known."""
    if value is not None:
        try:
            parse_when(value, zone_of("UTC"))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


_CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
OPTIONS = [
    click.option("--due", callback=_when_format, metavar="DATE",
                 help="Due date: '2026-10-01 23:59' in --timezone, or ISO 8601 with an offset. Sets a late "
                      "policy, kept in the gradebook (docs/batch.md, \"Late policy\")."),
    click.option("--timezone", callback=_parsed(lambda v: (zone_of(v), v)[1]), metavar="ZONE",
                 help="The course's time zone, e.g. Europe/Amsterdam: how dates are read and shown, what a day is."),
    click.option("--grace", callback=_parsed(parse_duration), metavar="DURATION",
                 help="No penalty this long after the due date: 15m, 2h, 1d."),
    click.option("--late-penalty", callback=_parsed(parse_rate), metavar="RATE",
                 help="Per started hour or day late: 10%/day (of the maximum points), 2pt/hour."),
    click.option("--max-penalty", callback=_parsed(parse_amount), metavar="AMOUNT",
                 help="Cap on the late penalty: 50% (of the maximum points) or 20pt."),
    click.option("--last-accepted", callback=_when_format, metavar="DATE",
                 help="Submissions after this date score 0 (not accepted)."),
    click.option("--extensions", type=_CSV, metavar="CSV",
                 help="Per-student due dates: columns student (id, LMS id, email or GitHub username), due."),
    click.option("--submission-times", type=_CSV, metavar="CSV",
                 help="Submission times: columns student (or user_id, email, ...), submitted_at (ISO 8601, "
                      "e.g. Canvas's API). Wins over every other source."),
    click.option("--moodle-worksheet", type=_CSV, metavar="CSV",
                 help="Moodle's offline grading worksheet: 'Last modified (submission)' is the time "
                      "(read in --timezone)."),
    click.option("--no-late-policy", is_flag=True, help="Remove the stored late policy: final score = raw score."),
]


def late_policy_options(command: Callable) -> Callable:
    """Add the late options to a click command; it receives them as one `late: LateOptions`."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {n: kwargs.pop(n, None) for n in NAMES}
        if given["no_late_policy"] and any(v for n, v in given.items()
                                           if n not in ("no_late_policy", "submission_times", "moodle_worksheet")):
            raise click.UsageError("--no-late-policy removes the policy: give no other policy option with it")
        kwargs["late"] = LateOptions(
            due=given["due"], timezone=given["timezone"], grace=given["grace"], penalty=given["late_penalty"],
            max_penalty=given["max_penalty"], last_accepted=given["last_accepted"], extensions=given["extensions"],
            submission_times=given["submission_times"], moodle_worksheet=given["moodle_worksheet"],
            remove=bool(given["no_late_policy"]))
        return command(*args, **kwargs)

    for option in reversed(OPTIONS):
        wrapper = option(wrapper)
    return wrapper
