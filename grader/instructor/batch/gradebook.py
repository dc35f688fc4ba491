"""The gradebook: one SQLite file, `gradebook.sqlite`, in the batch's output folder.

Schema (docs/batch.md explains each column; open it with `sqlite3 DIR/gradebook.sqlite`):

  meta(key, value)                       assignment, schema version, selection of the last run
  submissions(student PRIMARY KEY, ...)  one row per entry of SUBMISSIONS, whatever happened to it
  check_results(student, check_id, ...)  every field of the JSON report's check, one row per check
  similarity_pairs, similarity_code      the last run's similarity screen: flagged pairs, their code

A finished submission (its row and all its check rows) is written in one transaction: a batch
killed at any moment, SIGKILL included, keeps every submission that had finished and none half.
Reports go in and come out through `Report.to_dict(internal=True)` / `Report.from_dict`
(`check_rows`, `report_of`): the instructor-only `internal` details are kept here, and the
feedback decides what a student sees. All SQL of the batch is in this module.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from grader.engine.model import REPORT_SCHEMA_VERSION, Report

from .late import LatePolicy, SubmissionTime, assess
from .times import identifiers, to_utc_text

SCHEMA_VERSION = 1
FILENAME = "gradebook.sqlite"

# submission statuses: graded (the checks ran: look at them), error (the grading of this submission
# crashed: see traceback), timeout (its wall-clock budget ran out), rejected (an archive or folder
# refused before grading), unrecognised (an entry that fits no layout). An engine that reports a
# submission-level status of its own (Report.status) has it recorded here instead of "graded".
FINISHED = ("graded", "error", "timeout", "rejected", "unrecognised")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    student         TEXT PRIMARY KEY,   -- unique id in the batch; folder under reports/
    name            TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    lms_id          TEXT NOT NULL DEFAULT '',   -- Canvas/Moodle user id, Gradescope submission id
    layout          TEXT NOT NULL,      -- folder, classroom, zip, canvas, moodle, gradescope, unrecognised
    source          TEXT NOT NULL,      -- path of the entry in SUBMISSIONS
    late            INTEGER NOT NULL DEFAULT 0,  -- Canvas _LATE_
    content_hash    TEXT NOT NULL DEFAULT '',    -- sha256 of the submission's files (paths and bytes)
    assignment      TEXT NOT NULL,
    grader_version  TEXT NOT NULL,
    status          TEXT NOT NULL,      -- graded, error, timeout, rejected, unrecognised (or the engine's)
    message         TEXT NOT NULL DEFAULT '',
    traceback       TEXT NOT NULL DEFAULT '',    -- instructor only: why the grading crashed
    score           REAL NOT NULL DEFAULT 0,
    max_score       REAL NOT NULL DEFAULT 0,
    percent         REAL NOT NULL DEFAULT 0,
    isolation       TEXT NOT NULL DEFAULT '',
    warnings        TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    hidden_included INTEGER NOT NULL DEFAULT 1,
    started_at      TEXT NOT NULL,      -- ISO 8601 UTC
    finished_at     TEXT NOT NULL,
    duration        REAL NOT NULL DEFAULT 0,     -- seconds, wall clock, for this submission's grading
    attempts        INTEGER NOT NULL DEFAULT 1,  -- how many times it was graded (resume does not add)
    -- the late policy (late.py; meta 'late_policy'); score is the raw score, final_score is derived
    submitted_at    TEXT NOT NULL DEFAULT '',    -- ISO 8601 UTC; '' unknown
    time_source     TEXT NOT NULL DEFAULT '',    -- gradescope, moodle, times-csv, commit; '' unknown
    time_advisory   INTEGER NOT NULL DEFAULT 0,  -- 1: a client-set time (a commit's)
    due_at          TEXT NOT NULL DEFAULT '',    -- the effective due date (after an extension), ISO 8601 UTC
    late_seconds    REAL,                        -- submitted_at - due_at; NULL: no policy or time unknown
    late_state      TEXT NOT NULL DEFAULT '',    -- on_time, grace, late, not_accepted, unknown, marker; '' no policy
    late_penalty    REAL NOT NULL DEFAULT 0,     -- points deducted: score - final_score
    final_score     REAL NOT NULL DEFAULT 0,     -- after the late policy (= score without one)
    late_explanation TEXT NOT NULL DEFAULT ''    -- how lateness was counted, in words, for the student
);
CREATE TABLE IF NOT EXISTS check_results (
    student     TEXT NOT NULL REFERENCES submissions(student) ON DELETE CASCADE,
    check_id    TEXT NOT NULL,
    position    INTEGER NOT NULL,   -- the check's place in the assignment
    task        TEXT NOT NULL,
    module      TEXT NOT NULL DEFAULT '',  -- the student's module (file stem) the check imports
    title       TEXT NOT NULL,
    score       REAL NOT NULL,
    max_score   REAL NOT NULL,
    status      TEXT NOT NULL,      -- passed, failed, error, timeout, out_of_memory, out_of_disk, missing
    visibility  TEXT NOT NULL,      -- public, hidden
    message     TEXT NOT NULL DEFAULT '',
    output      TEXT NOT NULL DEFAULT '',
    duration    REAL NOT NULL DEFAULT 0,
    tolerance   TEXT NOT NULL DEFAULT '',
    internal    TEXT NOT NULL DEFAULT '',  -- instructor-only notes from the engine, never in feedback
    figures     TEXT NOT NULL DEFAULT '[]',  -- JSON list of the check's plot data (grader/engine/figures.py)
    graded_at   TEXT NOT NULL,
    PRIMARY KEY (student, check_id)
);
CREATE INDEX IF NOT EXISTS check_results_by_check ON check_results(check_id);
-- the similarity screen of the last `grade batch` (meta 'similarity' holds its summary as JSON)
CREATE TABLE IF NOT EXISTS similarity_pairs (
    student_a    TEXT NOT NULL,
    student_b    TEXT NOT NULL,
    module       TEXT NOT NULL,
    similarity_a REAL NOT NULL,     -- share of a's fingerprints found in b's file
    similarity_b REAL NOT NULL,
    overlap      INTEGER NOT NULL,  -- tokens in common
    spans_a      TEXT NOT NULL DEFAULT '[]',  -- JSON [[start, end], ...]: copied characters of a's code
    spans_b      TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (student_a, student_b, module)
);
CREATE TABLE IF NOT EXISTS similarity_code (
    student TEXT NOT NULL,
    module  TEXT NOT NULL,
    code    TEXT NOT NULL,           -- the code compared (a notebook's code cells), for the side-by-side pages
    PRIMARY KEY (student, module)
);
"""

# added after the first gradebooks: (column, declaration) for ALTER TABLE
LATE_COLUMNS = (("submitted_at", "TEXT NOT NULL DEFAULT ''"), ("time_source", "TEXT NOT NULL DEFAULT ''"),
                ("time_advisory", "INTEGER NOT NULL DEFAULT 0"), ("due_at", "TEXT NOT NULL DEFAULT ''"),
                ("late_seconds", "REAL"), ("late_state", "TEXT NOT NULL DEFAULT ''"),
                ("late_penalty", "REAL NOT NULL DEFAULT 0"), ("final_score", "REAL NOT NULL DEFAULT 0"),
                ("late_explanation", "TEXT NOT NULL DEFAULT ''"))
CHECK_COLUMNS = ("check_id", "position", "task", "module", "title", "score", "max_score", "status", "visibility",
                 "message", "output", "duration", "tolerance", "internal", "figures", "graded_at")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def check_rows(report: Report, order: dict[str, int], at: str) -> list[dict[str, Any]]:
    """The check_results rows of a report (instructor-only `internal` included); `order`: check id -> position."""
    rows = []
    for c in report.to_dict(internal=True)["checks"]:
        rows.append({"check_id": c["id"], "position": order.get(c["id"], len(order)), "task": c["task"],
                     "title": c["title"], "score": c["score"], "max_score": c["max_score"], "status": c["status"],
                     "visibility": c["visibility"], "message": c["message"], "output": c["output"],
                     "duration": c["duration"], "tolerance": c["tolerance"], "module": c["module"],
                     "figures": json.dumps(c["figures"]), "internal": c["internal"], "graded_at": at})
    return rows


def _figures(value: Any) -> list[dict]:
    """A row's JSON list of figures (older rows: none)."""
    try:
        figs = json.loads(value) if isinstance(value, str) and value else []
    except ValueError:
        return []
    return [f for f in figs if isinstance(f, dict)] if isinstance(figs, list) else []


def report_of(sub: dict[str, Any], checks: Iterable[dict[str, Any]]) -> Report:
    """The instructor's Report of one submission row and its check rows (every field they hold)."""
    return Report.from_dict({
        "schema_version": REPORT_SCHEMA_VERSION, "assignment": sub["assignment"], "submission": sub["student"],
        "isolation": sub.get("isolation", ""), "execution_time": sub.get("duration", 0.0),
        "hidden_included": bool(sub.get("hidden_included", 1)), "warnings": json.loads(sub.get("warnings") or "[]"),
        "checks": [{"id": c["check_id"], "task": c["task"], "title": c["title"], "score": c["score"],
                    "max_score": c["max_score"], "status": c["status"], "visibility": c["visibility"],
                    "message": c["message"], "output": c["output"], "duration": c["duration"],
                    "tolerance": c["tolerance"], "module": c.get("module", ""),
                    "figures": _figures(c.get("figures")), "internal": c.get("internal", "")}
                   for c in checks]})


def submission_time(row: dict[str, Any]) -> SubmissionTime:
    """The recorded time of a submission row (and Canvas's LATE_ marker)."""
    at = datetime.fromisoformat(row["submitted_at"]) if row.get("submitted_at") else None
    return SubmissionTime(at, row.get("time_source") or "", bool(row.get("time_advisory")), bool(row.get("late")))


def late_columns(row: dict[str, Any], policy: Optional[LatePolicy]) -> tuple:
    """(due_at, late_seconds, late_state, late_penalty, final_score, late_explanation) of a row."""
    raw = float(row.get("score") or 0.0)
    if policy is None:
        return "", None, "", 0.0, raw, ""
    due, extended = policy.due_for(identifiers(row))
    res = assess(policy, raw, float(row.get("max_score") or 0.0), submission_time(row), due, extended)
    return (to_utc_text(res.due), res.late_seconds, res.state, res.penalty, res.final, res.explanation)


def apply_late_policy(gb: "Gradebook", policy: Optional[LatePolicy]) -> None:
    """Store `policy` (None: remove it) and recompute every submission's final score from its raw one.

    What `grade batch`, `grade report` and an export call: `final_score` of `gb.submissions()`
    is then the score to publish (= `score` without a policy)."""
    with gb.transaction():
        if policy is None:
            gb.db.execute("DELETE FROM meta WHERE key = 'late_policy'")
        else:
            gb.set_meta("late_policy", json.dumps(policy.to_json()))
        gb._recompute_late(policy, None)


@dataclass
class SubmissionRow:
    student: str
    status: str
    content_hash: str
    assignment: str
    grader_version: str
    check_ids: set[str]
    started_at: str
    attempts: int
    message: str = ""


class Gradebook:
    """The SQLite gradebook of one output folder. Written from one thread (the batch's main loop)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT) below
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = FULL")  # a committed submission survives a power cut
        self.db.executescript(SCHEMA)
        columns = {r["name"] for r in self.db.execute("PRAGMA table_info(check_results)")}
        if "module" not in columns:  # a gradebook written before checks carried their module
            self.db.execute("ALTER TABLE check_results ADD COLUMN module TEXT NOT NULL DEFAULT ''")
        if "figures" not in columns:  # a gradebook written before checks carried figures
            self.db.execute("ALTER TABLE check_results ADD COLUMN figures TEXT NOT NULL DEFAULT '[]'")
        have = {r["name"] for r in self.db.execute("PRAGMA table_info(submissions)")}
        missing = [(c, decl) for c, decl in LATE_COLUMNS if c not in have]
        for c, decl in missing:  # a gradebook written before the late policy
            self.db.execute(f"ALTER TABLE submissions ADD COLUMN {c} {decl}")
        if missing:
            self.recompute_late()  # final_score is derived: fill it
        found = self.get_meta("schema_version")
        if found is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif found != str(SCHEMA_VERSION):
            raise ValueError(f"{self.path}: gradebook schema {found} is not supported (expected {SCHEMA_VERSION})")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT around the block (ROLLBACK when it raises): all of it or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- meta ------------------------------------------------------------------------------
    def get_meta(self, key: str) -> Optional[str]:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value))

    def claim(self, assignment: str, feedback: str, selection: list[str]) -> None:
        """Mark the gradebook as this assignment's, with the run's feedback policy and selection of checks.

        ValueError when it holds another assignment's grades (another --out is needed)."""
        recorded = self.get_meta("assignment")
        if recorded is not None and recorded != assignment:
            raise ValueError(f"{self.path.parent} holds the gradebook of {recorded!r}, not {assignment!r}: "
                             "use another --out")
        self.set_meta("assignment", assignment)
        self.set_meta("feedback", feedback)
        self.set_meta("selection", json.dumps(selection))

    # --- reading ---------------------------------------------------------------------------
    def existing(self) -> dict[str, SubmissionRow]:
        ids: dict[str, set[str]] = {}
        for r in self.db.execute("SELECT student, check_id FROM check_results"):
            ids.setdefault(r["student"], set()).add(r["check_id"])
        return {r["student"]: SubmissionRow(r["student"], r["status"], r["content_hash"], r["assignment"],
                                            r["grader_version"], ids.get(r["student"], set()),
                                            r["started_at"], r["attempts"], r["message"])
                for r in self.db.execute("SELECT * FROM submissions")}

    def submission(self, student: str) -> dict[str, Any]:
        """The row of a recorded student."""
        return dict(self.db.execute("SELECT * FROM submissions WHERE student = ?", (student,)).fetchone())

    def submissions(self) -> list[dict[str, Any]]:
        """Every submission row, by student: `score` is the raw score, `final_score` the one to publish
        (after the late policy; = `score` without one), with the columns of the schema above."""
        return [dict(r) for r in self.db.execute("SELECT * FROM submissions ORDER BY student")]

    def checks(self, student: Optional[str] = None) -> list[dict[str, Any]]:
        if student is None:
            q = self.db.execute("SELECT * FROM check_results ORDER BY student, position, check_id")
        else:
            q = self.db.execute("SELECT * FROM check_results WHERE student = ? ORDER BY position, check_id",
                                (student,))
        return [dict(r) for r in q]

    def total(self, student: str) -> tuple[float, float]:
        """(score, max_score) recorded for the student."""
        row = self.db.execute("SELECT score, max_score FROM submissions WHERE student = ?", (student,)).fetchone()
        return (row["score"], row["max_score"]) if row else (0.0, 0.0)

    def scores(self) -> dict[str, tuple[str, float, dict[str, float]]]:
        """{student: (status, score, {check_id: score})}: what two runs must agree on."""
        per: dict[str, dict[str, float]] = {}
        for r in self.db.execute("SELECT student, check_id, score FROM check_results"):
            per.setdefault(r["student"], {})[r["check_id"]] = r["score"]
        return {r["student"]: (r["status"], r["score"], per.get(r["student"], {}))
                for r in self.db.execute("SELECT student, status, score FROM submissions")}

    # --- writing: one transaction per finished submission -----------------------------------
    def record(self, sub: dict[str, Any], checks: Iterable[dict[str, Any]], *, replace_checks: bool = True) -> None:
        """Write one finished submission and its check results atomically.

        replace_checks=False (a `--only` regrade) keeps the submission's other check rows and
        replaces only those given; score, max_score and percent are recomputed from all its rows.
        """
        checks = list(checks)
        db = self.db
        with self.transaction():
            old = db.execute("SELECT attempts FROM submissions WHERE student = ?", (sub["student"],)).fetchone()
            row = {**sub, "attempts": (old["attempts"] + 1) if old else 1}
            row["warnings"] = json.dumps(list(row.get("warnings") or []))
            cols = list(row)
            db.execute(f"INSERT INTO submissions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
                       f"ON CONFLICT(student) DO UPDATE SET "
                       + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "student"),
                       [row[c] for c in cols])
            if replace_checks:
                db.execute("DELETE FROM check_results WHERE student = ?", (sub["student"],))
            for c in checks:
                values = [c.get(k, 0 if k in ("score", "max_score", "duration", "position") else
                                "[]" if k == "figures" else "") for k in CHECK_COLUMNS]
                db.execute(f"INSERT OR REPLACE INTO check_results (student, {', '.join(CHECK_COLUMNS)}) "
                           f"VALUES (?, {', '.join('?' for _ in CHECK_COLUMNS)})", [sub["student"], *values])
            tot = db.execute("SELECT COUNT(*) AS n, COALESCE(SUM(score), 0) AS s, COALESCE(SUM(max_score), 0) AS m "
                             "FROM check_results WHERE student = ?", (sub["student"],)).fetchone()
            if tot["n"]:
                pct = 100.0 * tot["s"] / tot["m"] if tot["m"] else 0.0
                db.execute("UPDATE submissions SET score = ?, max_score = ?, percent = ? WHERE student = ?",
                           (round(tot["s"], 6), round(tot["m"], 6), pct, sub["student"]))
            self._recompute_late(self.late_policy(), [sub["student"]])  # final is derived from raw

    # --- the late policy: final scores derived from raw ones -------------------------------------
    def late_policy(self) -> Optional[LatePolicy]:
        raw = self.get_meta("late_policy")
        return None if raw is None else LatePolicy.from_json(json.loads(raw))

    def set_times(self, times: dict[str, SubmissionTime]) -> None:
        """Record when these students submitted (the rows that exist); final scores are recomputed."""
        with self.transaction():
            for student, t in times.items():
                self.db.execute("UPDATE submissions SET submitted_at = ?, time_source = ?, time_advisory = ? "
                                "WHERE student = ?", (to_utc_text(t.at), t.source if t.at else "", int(t.advisory),
                                                      student))
            self._recompute_late(self.late_policy(), list(times))

    def recompute_late(self, students: Optional[list[str]] = None) -> None:
        """Recompute lateness, penalty and final score (all rows, or these) from the stored policy."""
        with self.transaction():
            self._recompute_late(self.late_policy(), students)

    def _recompute_late(self, policy: Optional[LatePolicy], students: Optional[list[str]]) -> None:
        if students is None:
            rows = self.db.execute("SELECT * FROM submissions").fetchall()
        else:
            rows = [r for s in students for r in self.db.execute("SELECT * FROM submissions WHERE student = ?", (s,))]
        for r in rows:
            self.db.execute("UPDATE submissions SET due_at = ?, late_seconds = ?, late_state = ?, late_penalty = ?, "
                            "final_score = ?, late_explanation = ? WHERE student = ?",
                            (*late_columns(dict(r), policy), r["student"]))

    def set_similarity(self, summary: Optional[dict[str, Any]], pairs: Iterable[dict[str, Any]] = (),
                       code: Iterable[tuple[str, str, str]] = ()) -> None:
        """Replace the stored similarity screen in one transaction (summary None: there is none)."""
        db = self.db
        with self.transaction():
            db.execute("DELETE FROM similarity_pairs")
            db.execute("DELETE FROM similarity_code")
            db.execute("DELETE FROM meta WHERE key = 'similarity'")
            if summary is not None:
                self.set_meta("similarity", json.dumps(summary))
                for p in pairs:
                    db.execute("INSERT INTO similarity_pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (p["student_a"], p["student_b"], p["module"], p["similarity_a"], p["similarity_b"],
                                p["overlap"], json.dumps(p["spans_a"]), json.dumps(p["spans_b"])))
                db.executemany("INSERT INTO similarity_code VALUES (?, ?, ?)", code)

    def similarity(self) -> tuple[Optional[dict[str, Any]], list[dict[str, Any]], dict[tuple[str, str], str]]:
        """(summary or None, flagged pairs most similar first, {(student, module): code})."""
        raw = self.get_meta("similarity")
        if raw is None:
            return None, [], {}
        pairs = []
        for r in self.db.execute("SELECT * FROM similarity_pairs ORDER BY MAX(similarity_a, similarity_b) DESC, "
                                 "student_a, student_b, module"):
            p = dict(r)
            p["spans_a"], p["spans_b"] = json.loads(p["spans_a"]), json.loads(p["spans_b"])
            pairs.append(p)
        code = {(r["student"], r["module"]): r["code"] for r in self.db.execute("SELECT * FROM similarity_code")}
        return json.loads(raw), pairs, code

    def forget_missing(self, students: set[str]) -> list[str]:
        """Students recorded earlier whose entry is gone from SUBMISSIONS: kept, but listed."""
        return sorted(set(self.existing()) - students)
