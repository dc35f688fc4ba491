"""The late policy: a due date, a grace period, a penalty per started hour or day, a cap or a last
accepted date, per-student extensions; and what it makes of one submission (`assess`).

Pure: no file, no gradebook (lateness.py applies it to a gradebook, times.py finds the times).

Rules (docs/batch.md, "Late policy", has them with a table of cases that tests/test_late_policy.py
checks):
  * lateness is counted from the (extended) due date; inside the grace period there is no penalty,
    past it the whole lateness counts (the grace forgives, it does not move the due date);
  * a started period counts as a whole one, as Canvas's late policy counts them (its
    `LatePolicy#points_deducted`: `(late_for / interval_seconds).ceil`);
  * an hour is 3,600 s; a day is a calendar day on the course's clock (the k-th day late ends
    when the due time comes round k days later in the policy's time zone), so across a daylight
    saving change a day is 23 or 25 hours: a student who hands in before the due time of the next
    day is one day late whatever the clocks did (Canvas counts 86,400 s; the two differ only then);
  * the penalty is a share of the maximum points (`10%/day`) or points (`2pt/hour`), capped by
    `max_penalty`, never more than the raw score;
  * after the last accepted date: not accepted, final score 0;
  * an unknown time counts as on time, and the explanation says "time unknown";
  * Canvas's `LATE_` marker without a time counts as one period late (a grace period cannot be
    checked without the time: give a submission-times CSV for that); with an extension it is
    ignored (Canvas marked it against Canvas's due date, which the extension replaces).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIOD_SECONDS = {"hour": 3600, "day": 86400}
SOURCE_WORDS = {
    "gradescope": "Gradescope's submission time",
    "moodle": "Moodle's worksheet (last modified)",
    "times-csv": "the submission-times list",
    "commit": "the commit's time: advisory, the student's computer sets it",
    "canvas-late": "Canvas's LATE_ marker",
}


# ---------------------------------------------------------------------------- parsing
def zone_of(name: str) -> tzinfo:
    """An IANA zone (`Europe/Amsterdam`), `UTC`, or a fixed offset `+02:00`; ValueError otherwise."""
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if m:
        sign = 1 if m[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(m[2]), minutes=int(m[3])))
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (an IANA name such as Europe/Amsterdam, or +02:00)") from None


def zone_name(tz: tzinfo) -> str:
    """The name `zone_of` reads back."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    off = tz.utcoffset(None) or timedelta(0)
    sign, off = ("-", -off) if off < timedelta(0) else ("+", off)
    return f"{sign}{int(off.total_seconds()) // 3600:02d}:{int(off.total_seconds()) % 3600 // 60:02d}"


def parse_when(text: str, tz: Optional[tzinfo]) -> datetime:
    """A date and time: ISO 8601 with an offset, or a wall time ("2026-10-01 23:59") in `tz`.

    ValueError for no time of day, a time that does not exist in `tz` (skipped by a daylight
    saving change) or a wall time without a zone. An ambiguous wall time (clocks turned back) is
    the first of the two."""
    s = str(text).strip()
    try:
        dt = datetime.fromisoformat(s.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", s) else s)
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time (e.g. '2026-10-01 23:59' or "
                         "'2026-10-01T23:59:00+02:00')") from None
    if re.fullmatch(r"\d{4}-?\d\d-?\d\d", s):
        raise ValueError(f"{text!r} has no time of day: write e.g. '{s} 23:59'")
    if dt.tzinfo is not None:
        return dt
    if tz is None:
        raise ValueError(f"{text!r} has no offset: give --timezone (or write it as 2026-10-01T23:59:00+02:00)")
    local = dt.replace(tzinfo=tz)
    back = local.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != dt:
        raise ValueError(f"{text!r} does not exist in {zone_name(tz)} (the clocks skip it)")
    return local


_DURATION_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "hours": 3600,
                   "d": 86400, "day": 86400, "days": 86400}


def parse_duration(text: str) -> timedelta:
    """"15m", "90s", "2h", "1d", "1h30m", "0" → a timedelta; ValueError otherwise."""
    s = str(text).strip().lower().replace(" ", "")
    if s == "0":
        return timedelta(0)
    parts = re.findall(r"(\d+(?:\.\d+)?)([a-z]+)", s)
    if not parts or "".join(n + u for n, u in parts) != s or any(u not in _DURATION_UNITS for _, u in parts):
        raise ValueError(f"{text!r} is not a duration (e.g. 15m, 2h, 1d, 1h30m)")
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


@dataclass(frozen=True)
class Amount:
    """A share of the maximum points (`unit` "%") or points ("pt")."""

    value: float
    unit: str

    def points(self, max_score: float) -> float:
        return self.value / 100.0 * max_score if self.unit == "%" else self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.unit == "%" else f"{self.value:g} point" + ("" if self.value == 1 else "s")


def parse_amount(text: str) -> Amount:
    """"50%", "20pt", "20 points" → an Amount; ValueError otherwise."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(%|pts?|points?)", str(text).strip().lower())
    if not m:
        raise ValueError(f"{text!r} is not an amount (e.g. 50% of the points, or 20pt)")
    unit = "%" if m[2] == "%" else "pt"
    if unit == "%" and float(m[1]) > 100:
        raise ValueError(f"{text!r}: more than 100%")
    return Amount(float(m[1]), unit)


@dataclass(frozen=True)
class Rate:
    """A penalty per started period: `amount` per `per` ("hour" or "day")."""

    amount: Amount
    per: str

    def __str__(self) -> str:
        return f"{self.amount}/{self.per}"


def parse_rate(text: str) -> Rate:
    """"10%/day", "2pt/hour", "5%/h", "1 point/day" → a Rate; ValueError otherwise."""
    amount, sep, per = str(text).strip().lower().partition("/")
    period = {"h": "hour", "hr": "hour", "hour": "hour", "d": "day", "day": "day"}.get(per.strip())
    if not sep or period is None:
        raise ValueError(f"{text!r} is not a penalty per hour or per day (e.g. 10%/day, 2pt/hour)")
    return Rate(parse_amount(amount), period)


# ---------------------------------------------------------------------------- the policy
@dataclass(frozen=True)
class LatePolicy:
    due: datetime  # aware
    zone: str = "UTC"  # IANA name or +HH:MM: how times are shown, what a day is
    grace: timedelta = timedelta(0)
    penalty: Optional[Rate] = None  # None: lateness recorded, no deduction (a last accepted date still applies)
    max_penalty: Optional[Amount] = None
    last_accepted: Optional[datetime] = None
    extensions: dict[str, datetime] = field(default_factory=dict)  # lower-cased student identifier -> due

    @property
    def tz(self) -> tzinfo:
        return zone_of(self.zone)

    def due_for(self, identifiers: Iterable[str]) -> tuple[datetime, bool]:
        """(the due date of a student known by these identifiers, whether it is an extension)."""
        for key in identifiers:
            k = str(key).strip().lower()
            if k and k in self.extensions:
                return self.extensions[k], True
        return self.due, False

    def to_json(self) -> dict[str, Any]:
        return {"due": self.due.isoformat(), "zone": self.zone, "grace_seconds": self.grace.total_seconds(),
                "penalty": None if self.penalty is None else
                [self.penalty.amount.value, self.penalty.amount.unit, self.penalty.per],
                "max_penalty": None if self.max_penalty is None else [self.max_penalty.value, self.max_penalty.unit],
                "last_accepted": None if self.last_accepted is None else self.last_accepted.isoformat(),
                "extensions": {k: v.isoformat() for k, v in sorted(self.extensions.items())}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "LatePolicy":
        p, cap = d.get("penalty"), d.get("max_penalty")
        return cls(due=datetime.fromisoformat(d["due"]), zone=d.get("zone", "UTC"),
                   grace=timedelta(seconds=float(d.get("grace_seconds", 0))),
                   penalty=None if not p else Rate(Amount(float(p[0]), p[1]), p[2]),
                   max_penalty=None if not cap else Amount(float(cap[0]), cap[1]),
                   last_accepted=datetime.fromisoformat(d["last_accepted"]) if d.get("last_accepted") else None,
                   extensions={k: datetime.fromisoformat(v) for k, v in (d.get("extensions") or {}).items()})

    def with_(self, **changes: Any) -> "LatePolicy":
        return replace(self, **changes)


@dataclass(frozen=True)
class SubmissionTime:
    """When a submission was handed in, as far as the platform tells."""

    at: Optional[datetime] = None  # aware; None: unknown
    source: str = ""  # a key of SOURCE_WORDS; "" unknown
    advisory: bool = False  # a client-set time (a commit's)
    late_marker: bool = False  # Canvas's LATE_ in the file name


@dataclass(frozen=True)
class Lateness:
    """What the policy made of one submission."""

    due: datetime  # the effective due date (after an extension)
    late_seconds: Optional[float]  # None: time unknown; negative: early
    periods: int  # started periods counted
    penalty: float  # points deducted: raw - final
    final: float
    state: str  # on_time | grace | late | not_accepted | unknown | marker
    explanation: str


# ---------------------------------------------------------------------------- words
def local(dt: datetime, tz: tzinfo) -> str:
    """"2026-10-02 01:30" on the course's clock (seconds only when there are some)."""
    t = dt.astimezone(tz)
    return t.strftime("%Y-%m-%d %H:%M:%S" if t.second else "%Y-%m-%d %H:%M")


def span(seconds: float) -> str:
    """1 h 31 min, 3 d 2 h, 45 s."""
    s = int(round(abs(seconds)))
    parts = [(s // 86400, "d"), (s % 86400 // 3600, "h"), (s % 3600 // 60, "min"), (s % 60, "s")]
    words = [f"{n} {u}" for n, u in parts if n]
    return " ".join(words) or "0 s"


def pts(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") or "0"


def _plural(n: int, word: str) -> str:
    return f"{n} started {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------- counting
def calendar_days_late(submitted: datetime, due: datetime, tz: tzinfo) -> int:
    """Started calendar days after `due` on the course's clock (k: submitted ≤ due + k days, wall time)."""
    due_local = due.astimezone(tz)
    utc = submitted.astimezone(timezone.utc)

    def boundary(k: int) -> datetime:  # wall-clock arithmetic in tz, compared in UTC
        return (due_local + timedelta(days=k)).astimezone(timezone.utc)

    k = max(1, int((utc - due.astimezone(timezone.utc)).total_seconds() // 86400))
    while boundary(k) < utc:
        k += 1
    while k > 1 and boundary(k - 1) >= utc:
        k -= 1
    return k


def elapsed(a: datetime, b: datetime) -> float:
    """Seconds from b to a, in UTC: Python subtracts wall times when both share one tzinfo."""
    return (a.astimezone(timezone.utc) - b.astimezone(timezone.utc)).total_seconds()


def periods_late(submitted: datetime, due: datetime, per: str, tz: tzinfo) -> int:
    late = elapsed(submitted, due)
    if late <= 0:
        return 0
    if per == "hour":
        return math.ceil(late / 3600)
    return calendar_days_late(submitted, due, tz)


def assess(policy: LatePolicy, raw: float, max_score: float, when: SubmissionTime,
           due: Optional[datetime] = None, extended: bool = False) -> Lateness:
    """Lateness, penalty and final score of one submission; `due`: its due date after an extension."""
    tz = policy.tz
    due = policy.due if due is None else due
    raw = max(0.0, float(raw))
    zname = zone_name(tz)
    due_words = f"the due date {local(due, tz)} {zname}" + (" (extended)" if extended else "")
    rule = policy.penalty

    def final_words(final: float, pen: float) -> str:
        out = f"final score {pts(final)} / {pts(max_score)}"
        return out + (f" (raw {pts(raw)} − {pts(pen)} late penalty)" if pen else "")

    if when.at is None and when.late_marker and not extended and rule is not None:
        periods = 1
        penalty, how = _penalty(rule, periods, max_score, policy.max_penalty, raw)
        text = (f"submission time unknown, but Canvas marked it late: counted as 1 started {rule.per} late "
                f"(the course's rule for Canvas's LATE_ marker without a time); {how}; "
                f"{final_words(raw - penalty, penalty)}")
        return Lateness(due, None, periods, penalty, round(raw - penalty, 6), "marker", _cap(text))
    if when.at is None:
        text = f"submission time unknown: counted as on time ({due_words}); {final_words(raw, 0)}"
        return Lateness(due, None, 0, 0.0, raw, "unknown", _cap(text))

    at = when.at
    late = elapsed(at, due)
    said = f"submitted {local(at, tz)} {zname}"
    if when.source in SOURCE_WORDS:
        said += f" (from {SOURCE_WORDS[when.source]})"
    last = policy.last_accepted
    if last is not None and extended:  # an extension moves the last accepted date with it
        last = last + timedelta(seconds=elapsed(due, policy.due))
    if last is not None and elapsed(at, last) > 0:
        text = (f"{said}, after the last accepted date {local(last, tz)} {zname}: not accepted; "
                f"final score 0 / {pts(max_score)} (raw {pts(raw)})")
        return Lateness(due, late, 0, raw, 0.0, "not_accepted", _cap(text))
    if late <= 0:
        text = f"{said}, {span(late)} before {due_words}: on time; {final_words(raw, 0)}" if late < 0 else \
            f"{said}, at {due_words}: on time; {final_words(raw, 0)}"
        return Lateness(due, late, 0, 0.0, raw, "on_time", _cap(text))
    grace = policy.grace.total_seconds()
    after = f"{said}, {span(late)} after {due_words}"
    if late <= grace:
        text = f"{after}; inside the {span(grace)} grace period: no penalty; {final_words(raw, 0)}"
        return Lateness(due, late, 0, 0.0, raw, "grace", _cap(text))
    in_grace = f"; not inside the {span(grace)} grace period" if grace else ""
    if rule is None:
        text = f"{after}{in_grace}; no late penalty in this course; {final_words(raw, 0)}"
        return Lateness(due, late, 0, 0.0, raw, "late", _cap(text))
    periods = periods_late(at, due, rule.per, tz)
    penalty, how = _penalty(rule, periods, max_score, policy.max_penalty, raw)
    counted = f"a started {rule.per} counts as a whole one, as in Canvas's late policy" + (
        "" if rule.per == "hour" else f"; a day ends when the due time comes round on the {zname} clock")
    text = f"{after}{in_grace}; {how} ({counted}); {final_words(raw - penalty, penalty)}"
    return Lateness(due, late, periods, penalty, round(raw - penalty, 6), "late", _cap(text))


def _penalty(rule: Rate, periods: int, max_score: float, cap: Optional[Amount], raw: float) -> tuple[float, str]:
    """(points deducted, how in words)."""
    each = rule.amount.points(max_score)
    of = f" of {pts(max_score)} points" if rule.amount.unit == "%" else ""
    total = periods * each
    how = f"{_plural(periods, rule.per)} late × {rule.amount}{of} = {pts(total)} points"
    if cap is not None and total > cap.points(max_score):
        total = cap.points(max_score)
        how += f", capped at {cap}" + (f" of {pts(max_score)} points = {pts(total)} points" if cap.unit == "%" else "")
    if total > raw:
        how += f", at most the raw score {pts(raw)}"
        total = raw
    return round(total, 6), how


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
