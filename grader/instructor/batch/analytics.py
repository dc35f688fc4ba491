"""report.html's "What the class got wrong": per check, how the graded submissions fared and the most
common failure messages, grouped once the student-specific parts are normalised away.

Pure: the gradebook's rows in (`Gradebook.submissions()`, `Gradebook.checks()`, the assignment's
order of checks), data and HTML out; nothing is read or written here, so `grade report DIR`
rebuilds the section from the gradebook alone (run.write_reports → html.write_html).

Normalisation (`normalise`, docs/batch.md "What the class got wrong"), in this order:
  1. control characters removed (`clean_text`); traceback frames dropped: a `File "…", line N, in f`
     line and the student's source line under it (the raising line is the student's own code; the
     exception's type and text that follow are kept), and a `Traceback (most recent call last):`
     header;
  2. memory addresses `0x7f3a…` → `0x…`;
  3. file paths with a folder (`/tmp/grade-x1/softmax.py`, `C:\\Users\\a\\hw.py`) → `…/softmax.py`
     (the file's name is kept: it names the module);
  4. quoted names without spaces (`'ee'`, `"numpy.ndarray"`) → `'…'`: a misspelt name is the
     student's, the sentence around it is the class's; quoted text with spaces is prose and stays;
  5. shapes are KEPT: a tuple of integers `(4, 6)`, `(4,)`, `torch.Size([4, 6])`, and a list of
     integers right after "shape"/"shapes"/"size". The checks' inputs are the same for every
     student (seeded), so a shape varies only with the bug ("broadcast together with shapes (4,6)
     (4,)" is a different mistake from "(4,6) (6,)") — the shape is often the point of the message;
  6. every other number → `<n>`: integers, decimals, scientific notation (`1.7e-3`, `7.42e-01`),
     signed, and the float values `nan` and `inf`; a number inside a name (`float32`, `log10`, `x2`)
     is part of the name and stays;
  7. printed arrays and indices — a bracketed run of numbers, however nested (`[2, 5]`,
     `[[0.1 0.2]\\n [0.3 0.4]]`, `tensor([…])`'s inside) → `[…]`;
  8. whitespace runs → one space; "raised ValueError ValueError: …" (the frames between them gone)
     → "raised ValueError: …".
Only a message's first 2,000 characters are compared, and arrays nested deeper than 8 levels are
collapsed 8 levels deep: the cost stays bounded whatever a student's exception says.
So "max abs error 0.0312 at [2, 5]" and "max abs error 1.7e-3 at [0, 1]" are both
"max abs error <n> at […]". Messages are grouped by (status, normalised message), per check.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import quote

from grader.reports._text import clean_text

MAX_GROUPS = 5  # message groups shown per check; the rest are counted in one line
MAX_PATTERN_CHARS = 130  # a normalised message as shown (the example's full text is one click away)
MAX_EXAMPLE_CHARS = 2000
GLANCE = 3  # the largest groups of the class, listed first
MAX_COMPARED_CHARS = 2000  # of a message (messages are capped at 6000; text this long is one student's)
MAX_NESTING = 8  # levels of a printed array collapsed (a message of 3000 nested brackets stays cheap)

# (category, statuses, label): the outcome bar's segments, in this order
CATEGORIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("passed", ("passed",), "passed"),
    ("failed", ("failed",), "failed"),
    ("error", ("error",), "error"),
    ("timeout", ("timeout",), "timed out"),
    ("resources", ("out_of_memory", "out_of_disk"), "out of memory or disk"),
    ("missing", ("missing",), "missing"),
    ("other", (), "other"),  # a status this page does not know (a newer engine's)
)
CATEGORY_OF = {status: cat for cat, statuses, _ in CATEGORIES for status in statuses}
LABELS = {cat: label for cat, _, label in CATEGORIES}
STATUS_WORDS = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out",
                "out_of_memory": "out of memory", "out_of_disk": "out of disk", "missing": "missing"}

NUM = "<n>"
_FRAME = re.compile(r'^\s*File "[^"\n]*", line \d+')
_TB_HEADER = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")
# a path with at least one folder: /a/b, ./a/b, ~/a/b, C:\a\b (no spaces in it)
_PATH = re.compile(r"(?<![\w.\])>])(?:[A-Za-z]:|~|\.{1,2})?(?:[\\/][^\s\\/'\"(),;:<>\[\]]+){2,}")
_QUOTED = re.compile(r"'[^'\s]{1,200}'|\"[^\"\s]{1,200}\"")
_SHAPE = re.compile(r"\((?:\s*\d+\s*,)+(?:\s*\d+\s*)?\)"  # (4, 6), (4,), (2,3,4)
                    r"|Size\(\[[\d,\s]*\]\)"  # torch.Size([4, 6])
                    r"|(?<=\bshape )\[[\d,\s]+\]|(?<=\bshapes )\[[\d,\s]+\]|(?<=\bsize )\[[\d,\s]+\]")
_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)(?!\w|\.\d)",
                     re.IGNORECASE)
_ARRAY = re.compile(r"\[[\s,]*(?:(?:<n>\.?|\[…\]|\.\.\.|…)[\s,]*)+\]")
_SPACE = re.compile(r"\s+")
_RAISED_TWICE = re.compile(r"\braised ([\w.]+) \1:")  # "raised ValueError" + the exception's line, frames gone
_SLOT = re.compile("\x00([a-z]+)\x00")  # a kept shape's place: letters, which no rule below touches


def _letters(i: int) -> str:
    out = ""
    while True:
        out = chr(ord("a") + i % 26) + out
        i //= 26
        if not i:
            return out


def _index(letters: str) -> int:
    i = 0
    for ch in letters:
        i = i * 26 + ord(ch) - ord("a")
    return i


def _drop_frames(text: str) -> str:
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if _TB_HEADER.match(line):
            i += 1
            continue
        m = _FRAME.match(line)
        if m:
            indent = len(line) - len(line.lstrip())
            i += 1
            # the source line under a frame is indented deeper; drop it (and a `^^^^` marker line)
            while i < len(lines) and lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) > indent \
                    and not _FRAME.match(lines[i]):
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


@functools.lru_cache(maxsize=8192)
def normalise(message: str) -> str:
    """The message with its student-specific parts replaced by placeholders (module docstring)."""
    text = _drop_frames(clean_text((message or "")[:MAX_COMPARED_CHARS]))
    text = _ADDRESS.sub("0x…", text)
    text = _PATH.sub(lambda m: "…/" + re.split(r"[\\/]", m.group(0))[-1], text)
    text = _QUOTED.sub("'…'", text)
    kept: list[str] = []

    def keep(m: re.Match) -> str:
        kept.append(_SPACE.sub(" ", m.group(0)))
        return f"\x00{_letters(len(kept) - 1)}\x00"

    text = _SHAPE.sub(keep, text)
    text = _NUMBER.sub(NUM, text)
    for _ in range(MAX_NESTING):  # one level of nesting per pass
        collapsed = _ARRAY.sub("[…]", text)
        if collapsed == text:
            break
        text = collapsed
    text = _SLOT.sub(lambda m: kept[_index(m.group(1))], text)
    text = _SPACE.sub(" ", text).strip()
    return _RAISED_TWICE.sub(r"raised \1:", text) or "(no message)"


# --- grouping ------------------------------------------------------------------------------------
@dataclass
class Group:
    """Students of one check whose messages normalise alike (and whose status is the same)."""

    status: str
    pattern: str
    students: list[str]  # sorted
    example: str  # the first student's own message
    share: float  # of the check's graded submissions

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def example_student(self) -> str:
        return self.students[0]


@dataclass
class CheckStats:
    check_id: str
    title: str
    hidden: bool
    position: int  # in the assignment (0-based; check_results.position)
    total: int  # graded submissions with a result for this check
    counts: dict[str, int]  # category -> submissions
    groups: list[Group] = field(default_factory=list)  # every group, largest first

    def share(self, category: str) -> float:
        return self.counts.get(category, 0) / self.total if self.total else 0.0

    @property
    def not_passed(self) -> int:
        return self.total - self.counts.get("passed", 0)


def class_analytics(subs: Iterable[dict], checks: Iterable[dict],
                    order: Iterable[tuple[str, float]] = ()) -> list[CheckStats]:
    """Per check (the gradebook's rows of graded submissions only), in the assignment's order.

    `subs`: submission rows (`student`, `status`); `checks`: check_results rows (`student`,
    `check_id`, `title`, `visibility`, `status`, `message`, `position`); `order`: the assignment's
    checks as run.write_reports gives them. A submission that was not graded (error, timeout,
    rejected, …) has no check results to learn from and counts in no share.
    """
    graded = {s["student"] for s in subs if s["status"] == "graded"}
    rows: dict[str, list[dict]] = {}
    for r in checks:
        if r["student"] in graded:
            rows.setdefault(r["check_id"], []).append(r)
    rank = {cid: i for i, (cid, _) in enumerate(order)}
    ids = sorted(rows, key=lambda cid: (rank.get(cid, len(rank)), rows[cid][0].get("position") or 0, cid))
    out = []
    for cid in ids:
        rs = rows[cid]
        first = rs[0]
        counts = Counter(CATEGORY_OF.get(r["status"], "other") for r in rs)
        by_key: dict[tuple[str, str], list[dict]] = {}
        for r in rs:
            if r["status"] != "passed":
                by_key.setdefault((r["status"], normalise(r.get("message") or "")), []).append(r)
        groups = []
        for (status, pattern), members in by_key.items():
            members.sort(key=lambda r: r["student"])
            groups.append(Group(status, pattern, [r["student"] for r in members],
                                clean_text(members[0].get("message") or ""), len(members) / len(rs)))
        groups.sort(key=lambda g: (-g.count, g.status != "failed", g.status, g.pattern))
        # its place in the whole assignment (the gradebook's), not among the checks graded here
        place = first.get("position")
        out.append(CheckStats(cid, first.get("title") or cid, first.get("visibility") == "hidden",
                              place if isinstance(place, int) else rank.get(cid, len(rank)), len(rs), dict(counts),
                              groups))
    return out


def worst_first(stats: list[CheckStats]) -> list[CheckStats]:
    """Most submissions not passed first; ties in the assignment's order."""
    return sorted(stats, key=lambda s: (-(s.not_passed / s.total if s.total else 0.0), s.position))


# --- HTML ----------------------------------------------------------------------------------------
STYLE = """
.an-legend span, .an-bar span { display: inline-block; }
.an-bar { display: flex; width: 150px; height: 12px; border: 1px solid #bbb; background: #fff; margin: 2px 0; }
.an-bar span { height: 100%; }
.an-passed { background: #55a868; } .an-failed { background: #c44e52; } .an-error { background: #dd8452; }
.an-timeout { background: #8172b2; } .an-resources { background: #937860; } .an-missing { background: #8c8c8c; }
.an-other { background: #333; }
.an-legend span.an-key { width: 10px; height: 10px; margin: 0 3px 0 10px; }
table.an-checks { width: 100%; table-layout: fixed; }
table.an-checks td { overflow-wrap: anywhere; }
.an-counts { font-size: 0.8em; color: #333; }
.an-msgs { margin: 0; padding-left: 1.1em; } .an-msgs li { margin: 0 0 0.3em 0; }
.an-pattern { font-family: ui-monospace, monospace; font-size: 0.85em; background: #f6f6f6; }
.an-msgs details { display: inline; font-size: 0.85em; } .an-msgs summary { display: inline; cursor: pointer; color: #555; }
.an-msgs pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; border: 1px solid #e2e2e2;
               padding: 0.4em; margin: 0.2em 0; font-size: 0.95em; max-height: 16em; overflow-y: auto; }
.an-worst { font-weight: 600; } .an-tag { font-size: 0.8em; color: #555; border: 1px solid #aaa; border-radius: 3px; padding: 0 3px; }
.an-note { font-size: 0.85em; color: #555; }
"""


def _e(x) -> str:
    from grader.reports.html import e

    return e(x)


def _pct(x: float) -> str:
    return "<1%" if 0 < x < 0.005 else ">99%" if 0.995 <= x < 1 else f"{100.0 * x:.0f}%"


def _short(text: str, limit: int = MAX_PATTERN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def feedback_link(student: str, check_id: str) -> str:
    """The example student's feedback page, at that check's section (grader/reports/html.py)."""
    anchor = "check-" + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in check_id)
    return f"reports/{quote(student, safe='')}/report.html#{quote(anchor, safe='')}"


def _bar(s: CheckStats) -> str:
    spans = "".join(f"<span class='an-{cat}' style='width:{100.0 * s.share(cat):.2f}%'></span>"
                    for cat, _, _ in CATEGORIES if s.counts.get(cat))
    words = ", ".join(f"{LABELS[cat]} {s.counts[cat]}" for cat, _, _ in CATEGORIES if s.counts.get(cat))
    counts = " · ".join(f"{LABELS[cat]} {s.counts[cat]} ({_pct(s.share(cat))})"
                        for cat, _, _ in CATEGORIES if s.counts.get(cat))
    return (f"<div class='an-bar' role='img' aria-label='{_e(words)}'>{spans}</div>"
            f"<div class='an-counts'>{counts}</div>")


def _group_item(s: CheckStats, g: Group) -> str:
    status = "" if g.status == "failed" else f"<span class='an-tag'>{_e(STATUS_WORDS.get(g.status, g.status))}</span> "
    return (f"<li><b>{g.count}</b> ({_pct(g.share)}) {status}<span class='an-pattern'>{_e(_short(g.pattern))}</span> "
            f"· e.g. <a href=\"{_e(feedback_link(g.example_student, s.check_id))}\">{_e(g.example_student)}</a> "
            f"<details><summary>their message</summary><pre>{_e(_short(g.example, MAX_EXAMPLE_CHARS))}</pre></details></li>")


def analytics_section(subs: list[dict], checks: list[dict], order: list[tuple[str, float]],
                      max_groups: int = MAX_GROUPS) -> list[str]:
    """The section's HTML (a list of lines for write_html); every student-derived text is escaped."""
    stats = class_analytics(subs, checks, order)
    parts = ["<h2 id='analytics'>What the class got wrong</h2>"]
    if not stats:
        parts.append("<p id='analytics-none'>No graded submission has check results yet.</p>")
        return parts
    n_graded = sum(s["status"] == "graded" for s in subs)
    not_graded = len(subs) - n_graded
    # Worst first, not the assignment's order: the section exists to say at a glance what went
    # wrong most, and with 40 checks the worst of them would otherwise be anywhere on the page; the
    # assignment's order is in the plots above, in grades.csv and in every student's feedback
    # (each row here names its place in the assignment). Checks everyone passed are one line at the end.
    wrong = [s for s in worst_first(stats) if s.not_passed]
    clean = [s for s in stats if not s.not_passed]
    parts.append(
        f"<p class='an-note'>Per check, the {n_graded} graded submissions"
        + (f" ({not_graded} not graded: no check results, in no share)" if not_graded else "")
        + "; the checks most submissions did not pass first. Messages are grouped once the "
        "student-specific parts are replaced: numbers by <code>&lt;n&gt;</code>, printed arrays and indices "
        "by <code>[…]</code>, quoted names by <code>'…'</code>, folders of paths, memory addresses and "
        "traceback lines (shapes are kept; docs/batch.md). Hidden checks' messages are shown: this page is "
        "for the instructor.</p>")
    legend = "".join(f"<span class='an-key an-{cat}'></span>{_e(label)}"
                     for cat, _, label in CATEGORIES if any(s.counts.get(cat) for s in stats))
    parts.append(f"<p class='an-legend an-note'>{legend}</p>")

    top = sorted(((g, s) for s in wrong for g in s.groups),
                 key=lambda gs: (-gs[0].share, -gs[0].count, gs[1].position, gs[0].pattern))[:GLANCE]
    if top:
        parts.append("<ul id='analytics-glance'>")
        for g, s in top:
            parts.append(f"<li><b>{_pct(g.share)}</b> of the class ({g.count} of {s.total}) · "
                         f"{_e(s.title)} (<code>{_e(s.check_id)}</code>): "
                         f"<span class='an-pattern'>{_e(_short(g.pattern, 160))}</span></li>")
        parts.append("</ul>")

    if wrong:
        parts.append("<table id='analytics-checks' class='an-checks'><colgroup><col style='width:22%'>"
                     "<col style='width:17%'><col></colgroup>"
                     "<tr><th>check</th><th>outcome</th><th>most common messages (students, share)</th></tr>")
        for s in wrong:
            hidden = " <span class='an-tag'>hidden</span>" if s.hidden else ""
            shown = s.groups[:max_groups]
            rest = s.groups[max_groups:]
            items = "".join(_group_item(s, g) for g in shown)
            if rest:
                n = sum(g.count for g in rest)
                items += (f"<li class='an-note'>and {len(rest)} other message{'s' if len(rest) != 1 else ''} "
                          f"({n} student{'s' if n != 1 else ''})</li>")
            parts.append(f"<tr id='analytics-{_e(s.check_id)}'><td><span class='an-worst'>{_e(s.title)}</span>{hidden}"
                         f"<br><code>{_e(s.check_id)}</code> <span class='an-note'>#{s.position + 1} · "
                         f"{s.total} graded</span></td><td>{_bar(s)}</td><td><ul class='an-msgs'>{items}</ul></td></tr>")
        parts.append("</table>")
    if clean:
        parts.append(f"<p id='analytics-all-passed'>Passed by every graded submission ({len(clean)}): "
                     + ", ".join(f"<code>{_e(s.check_id)}</code>" for s in clean) + ".</p>")
    return parts
