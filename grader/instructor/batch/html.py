"""report.html: one self-contained page summarising a batch (no network, no script).

Plots are drawn with matplotlib (Agg) and embedded as base64 PNG `data:` URIs: score histogram,
pass rate per check, mean time per check, submission status counts. Tables list the slowest
submissions and those that did not get full marks, with links to their feedback under reports/.
A Content-Security-Policy allows nothing but inline styles and data: images, so a student's text
in the page (escaped anyway) could never load or run anything.

With a stored similarity screen (grader/instructor/batch/screen.py) the page has a "Similarity" section: how
many pairs were compared, the threshold, the flagged pairs with links to their side-by-side pages
under similarity/ (written by `write_pair_page`, under the same policy).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from grader.reports.html import CSP, STYLE, e, png_data_uri, pyplot

from . import analytics

PLOT_IDS = ("plot-scores", "plot-pass-rate", "plot-check-time", "plot-status")
# the side-by-side pages of flagged pairs: two columns of code, copydetect's highlight classes
SIDES_STYLE = """
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; } .sides > div { min-width: 0; }
.sides pre { border: 1px solid #ccc; padding: 0.5em; overflow-x: auto; font-size: 0.8em; }
.highlight-red { background: #f8c9c4; } .highlight-green { background: #c6efce; }
"""


def _plots(subs: list[dict], checks: list[dict], order: list[tuple[str, float]]) -> dict[str, str]:
    plt = pyplot()
    graded = [s for s in subs if s["status"] == "graded"]
    out: dict[str, str] = {}

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.hist([s["percent"] for s in graded], bins=[i * 5 for i in range(21)], color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score (%)"), ax.set_ylabel("submissions"), ax.set_xlim(0, 100)
    ax.set_title(f"Scores of {len(graded)} graded submissions")
    out["plot-scores"] = png_data_uri(fig)

    ids = [cid for cid, _ in order]
    passed, seen, times = Counter(), Counter(), {}
    for c in checks:
        seen[c["check_id"]] += 1
        passed[c["check_id"]] += c["status"] == "passed"
        times.setdefault(c["check_id"], []).append(c["duration"])
    height = max(3.0, 0.22 * len(ids) + 1)
    fig, ax = plt.subplots(figsize=(5.5, height))
    rates = [100.0 * passed[i] / seen[i] if seen[i] else 0.0 for i in ids]
    ax.barh(ids, rates, color="#55a868"), ax.invert_yaxis(), ax.set_xlim(0, 100)
    ax.set_xlabel("passed (% of submissions graded on it)"), ax.set_title("Pass rate per check")
    ax.tick_params(axis="y", labelsize=7)
    out["plot-pass-rate"] = png_data_uri(fig)

    fig, ax = plt.subplots(figsize=(5.5, height))
    means = [sum(times.get(i, [0])) / max(1, len(times.get(i, []))) for i in ids]
    ax.barh(ids, means, color="#c44e52"), ax.invert_yaxis()
    ax.set_xlabel("mean seconds per submission"), ax.set_title("Time per check")
    ax.tick_params(axis="y", labelsize=7)
    out["plot-check-time"] = png_data_uri(fig)

    counts = Counter(s["status"] for s in subs)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    names = sorted(counts)
    ax.bar(names, [counts[n] for n in names], color="#8172b2")
    ax.set_ylabel("submissions"), ax.set_title("Submission status")
    for i, n in enumerate(names):
        ax.annotate(str(counts[n]), (i, counts[n]), ha="center", va="bottom")
    out["plot-status"] = png_data_uri(fig)
    return out


def _links(student: str) -> str:
    base = "reports/" + quote(student, safe="")
    return (f'<a href="{base}/report.txt">table</a> · <a href="{base}/report.md">markdown</a> · '
            f'<a href="{base}/report.json">json</a> · <a href="{base}/report.html">page</a>')


def _head(title: str, style: str = STYLE) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>\n"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">\n"
            f"<title>{e(title)}</title><style>{style}</style></head><body>")


def similarity_section(summary: dict, pairs: list[dict]) -> list[str]:
    """report.html's "Similarity" section: what was compared, the threshold, the flagged pairs."""
    from grader.instructor.similarity import FOLDER, MAX_LISTED

    t = float(summary["threshold"])
    parts = ["<h2 id='similarity'>Similarity</h2>"]
    if summary["status"] != "done":
        parts.append(f"<p>The similarity screen did not run: {e(summary['message'])}</p>")
        return parts
    parts.append(
        f"<p>{summary['submissions']} submissions compared: {summary['student_pairs']} pairs of students, "
        f"{summary['file_pairs']} pairs of files of the same module (copydetect's winnowing fingerprints; "
        f"the template's code discounted). A pair is flagged when either file shares at least "
        f"{t:.0%} of its fingerprints with the other (threshold {t:g}; docs/similarity.md). "
        f"A flag is a reason to look at the two files, not a verdict. Screened {e(summary['ran_at'])} "
        f"in {float(summary.get('seconds', 0)):.1f} s.</p>")
    if not pairs:
        parts.append("<p id='similarity-none'>No pair was flagged.</p>")
    else:
        listed = pairs[:MAX_LISTED]
        more = f", the first {len(listed)} here" if len(pairs) > len(listed) else ""
        parts.append(f"<p>{len(pairs)} flagged (pair, module){more}; all in "
                     f"<a href='{FOLDER}/similarity.csv'>{FOLDER}/similarity.csv</a>.</p>")
        parts.append("<table id='similarity-pairs'><tr><th>student a</th><th>student b</th><th>module</th>"
                     "<th>a's code found in b</th><th>b's code found in a</th><th>tokens in common</th>"
                     "<th>side by side</th></tr>")
        for p in listed:
            link = (f"<a href='{e(quote(p['page']))}'>compare</a>" if p.get("page") else "")
            parts.append(f"<tr><td>{e(p['student_a'])}</td><td>{e(p['student_b'])}</td><td>{e(p['module'])}</td>"
                         f"<td class='num'>{p['similarity_a']:.0%}</td><td class='num'>{p['similarity_b']:.0%}</td>"
                         f"<td class='num'>{int(p['overlap'])}</td><td>{link}</td></tr>")
        parts.append("</table>")
    if summary["notes"]:
        parts.append("<p>Not compared:</p><ul>" + "".join(f"<li>{e(n)}</li>" for n in summary["notes"]) + "</ul>")
    return parts


LATE_WORDS = {"on_time": "on time", "grace": "inside the grace period", "late": "late", "not_accepted": "not accepted",
              "unknown": "time unknown", "marker": "Canvas LATE_ marker, time unknown"}


def late_section(subs: list[dict]) -> list[str]:
    """report.html's "Late policy" section: raw score, penalty and final score of every submission
    (most penalised first); nothing when the gradebook has no late policy."""
    from .late import span

    if not any(s.get("late_state") for s in subs):
        return []
    rows = sorted(subs, key=lambda s: (-(s.get("late_penalty") or 0.0), s.get("late_state") == "on_time", s["student"]))
    n_late = sum(s.get("late_state") in ("late", "not_accepted", "marker") for s in subs)
    parts = ["<h2 id='late'>Late policy</h2>",
             f"<p>{n_late} of {len(subs)} submissions late past the grace period. <em>raw</em>: the checks' "
             "points; <em>penalty</em>: points deducted; <em>final</em>: the grade to publish (grades.csv "
             "<code>final</code>). How each was counted is in the student's feedback.</p>",
             "<table id='late-table'><tr><th>student</th><th>submitted (UTC)</th><th>from</th><th>lateness</th>"
             "<th>late by</th><th>raw</th><th>penalty</th><th>final</th><th>feedback</th></tr>"]
    for s in rows:
        by = span(s["late_seconds"]) if (s.get("late_seconds") or 0) > 0 else ""
        src = s.get("time_source", "") + (" (advisory)" if s.get("time_advisory") else "")
        when = (s.get("submitted_at") or "")[:16].replace("T", " ")
        parts.append(f"<tr><td>{e(s['student'])}</td><td>{e(when)}</td><td>{e(src)}</td>"
                     f"<td>{e(LATE_WORDS.get(s.get('late_state', ''), s.get('late_state', '')))}</td><td>{e(by)}</td>"
                     f"<td class='num'>{s['score']:g}</td><td class='num'>{s.get('late_penalty') or 0:g}</td>"
                     f"<td class='num'>{s.get('final_score', s['score']):g} / {s['max_score']:g}</td>"
                     f"<td>{_links(s['student'])}</td></tr>")
    parts.append("</table>")
    return parts


def write_pair_page(path: Path, pair: dict, code_a: str, code_b: str, threshold: float) -> Path:
    """One flagged pair side by side, the shared regions highlighted (escaped; no script, no network)."""
    from grader.instructor.similarity import highlighted

    a, b, m = pair["student_a"], pair["student_b"], pair["module"]
    parts = [_head(f"Similarity: {a} ~ {b}, {m}.py", STYLE + SIDES_STYLE),
             f"<h1>{e(a)} ~ {e(b)}: {e(m)}.py</h1>",
             f"<p>{pair['similarity_a']:.0%} of {e(a)}'s fingerprints are in {e(b)}'s file, "
             f"{pair['similarity_b']:.0%} of {e(b)}'s in {e(a)}'s; {int(pair['overlap'])} tokens in common "
             f"(threshold {threshold:g}). Highlighted: the shared code. "
             f"<a href='../report.html#similarity'>Back to the report</a></p>",
             "<div class='sides'>",
             f"<div><h2>{e(a)}</h2><pre id='code-a'>{highlighted(code_a, pair['spans_a'], 'highlight-red')}</pre></div>",
             f"<div><h2>{e(b)}</h2><pre id='code-b'>{highlighted(code_b, pair['spans_b'], 'highlight-green')}</pre></div>",
             "</div></body></html>\n"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_html(path: Path, assignment: str, subs: list[dict], checks: list[dict],
               order: list[tuple[str, float]], generated: str, n_slowest: int = 10,
               similarity: Optional[tuple[dict, list[dict]]] = None) -> Path:
    """The batch's report.html; `similarity` (summary, pairs) adds its section."""
    plots = _plots(subs, checks, order)
    counts = Counter(s["status"] for s in subs)
    graded = [s for s in subs if s["status"] == "graded"]
    mean = sum(s["percent"] for s in graded) / len(graded) if graded else 0.0
    failing_checks: dict[str, list[str]] = {}
    for c in checks:
        if c["status"] != "passed":
            failing_checks.setdefault(c["student"], []).append(c["check_id"])
    late = late_section(subs)
    parts = [_head(f"Batch report: {assignment}", STYLE + analytics.STYLE),
             f"<h1>Batch report: {e(assignment)}</h1>",
             "<table class='summary'>",
             f"<tr><td>submissions</td><td>{len(subs)}</td></tr>",
             *(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in sorted(counts.items())),
             f"<tr><td>mean score (graded)</td><td>{mean:.1f}%</td></tr>",
             f"<tr><td>generated</td><td>{e(generated)}</td></tr></table>",
             "<p>Files: <a href='grades.csv'>grades.csv</a> · gradebook.sqlite · reports/&lt;student&gt;/"
             " · <a href='#analytics'>what the class got wrong</a>"
             + (" · <a href='#late'>late policy</a>" if late else "")
             + (" · <a href='#similarity'>similarity</a>" if similarity else "") + "</p>",
             "<h2>Plots</h2><div class='plots'>"]
    captions = {"plot-scores": "Score histogram", "plot-pass-rate": "Pass rate per check",
                "plot-check-time": "Time per check", "plot-status": "Status counts"}
    for pid in PLOT_IDS:
        parts.append(f"<figure><img id='{pid}' alt='{captions[pid]}' src='{plots[pid]}'>"
                     f"<figcaption>{captions[pid]}</figcaption></figure>")
    parts.append("</div>")
    parts.extend(analytics.analytics_section(subs, checks, order))  # "What the class got wrong"

    slow = sorted(subs, key=lambda s: -s["duration"])[:n_slowest]
    parts.append(f"<h2 id='slowest'>Slowest {len(slow)} submissions</h2><table><tr><th>student</th>"
                 "<th>seconds</th><th>status</th><th>score</th><th>feedback</th></tr>")
    for s in slow:
        parts.append(f"<tr><td>{e(s['student'])}</td><td class='num'>{s['duration']:.1f}</td>"
                     f"<td>{e(s['status'])}</td><td class='num'>{s['percent']:.1f}%</td><td>{_links(s['student'])}</td></tr>")
    parts.append("</table>")

    failing = [s for s in subs if s["status"] != "graded" or s["percent"] < 100.0 - 1e-9]
    failing.sort(key=lambda s: (s["status"] == "graded", s["percent"], s["student"]))
    parts.append(f"<h2 id='failing'>Submissions without full marks ({len(failing)})</h2><table><tr><th>student</th>"
                 "<th>status</th><th>score</th><th>checks not passed / message</th><th>feedback</th></tr>")
    for s in failing:
        what = ", ".join(failing_checks.get(s["student"], [])) or s["message"]
        parts.append(f"<tr><td>{e(s['student'])}</td><td>{e(s['status'])}</td>"
                     f"<td class='num'>{s['score']:g} / {s['max_score']:g}</td><td>{e(what[:400])}</td>"
                     f"<td>{_links(s['student'])}</td></tr>")
    parts.append("</table>")
    parts.extend(late)
    if similarity:
        parts.extend(similarity_section(*similarity))
    parts.append("</body></html>\n")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
