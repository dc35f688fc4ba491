"""report.html: one self-contained page summarising a batch (no network, no script).

Plots are drawn with matplotlib (Agg) and embedded as base64 PNG `data:` URIs: score histogram,
pass rate per check, mean time per check, submission status counts. Tables list the slowest
submissions and those that did not get full marks, with links to their feedback under reports/.
A Content-Security-Policy allows nothing but inline styles and data: images, so a student's text
in the page (escaped anyway) could never load or run anything.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from grader.reports.html import CSP, STYLE, e, png_data_uri, pyplot

PLOT_IDS = ("plot-scores", "plot-pass-rate", "plot-check-time", "plot-status")


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


def write_html(path: Path, assignment: str, subs: list[dict], checks: list[dict],
               order: list[tuple[str, float]], generated: str, n_slowest: int = 10) -> Path:
    plots = _plots(subs, checks, order)
    counts = Counter(s["status"] for s in subs)
    graded = [s for s in subs if s["status"] == "graded"]
    mean = sum(s["percent"] for s in graded) / len(graded) if graded else 0.0
    failing_checks: dict[str, list[str]] = {}
    for c in checks:
        if c["status"] != "passed":
            failing_checks.setdefault(c["student"], []).append(c["check_id"])
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
             f"<title>Batch report: {e(assignment)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Batch report: {e(assignment)}</h1>",
             "<table class='summary'>",
             f"<tr><td>submissions</td><td>{len(subs)}</td></tr>",
             *(f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in sorted(counts.items())),
             f"<tr><td>mean score (graded)</td><td>{mean:.1f}%</td></tr>",
             f"<tr><td>generated</td><td>{e(generated)}</td></tr></table>",
             "<p>Files: <a href='grades.csv'>grades.csv</a> · gradebook.sqlite · reports/&lt;student&gt;/</p>",
             "<h2>Plots</h2><div class='plots'>"]
    captions = {"plot-scores": "Score histogram", "plot-pass-rate": "Pass rate per check",
                "plot-check-time": "Time per check", "plot-status": "Status counts"}
    for pid in PLOT_IDS:
        parts.append(f"<figure><img id='{pid}' alt='{captions[pid]}' src='{plots[pid]}'>"
                     f"<figcaption>{captions[pid]}</figcaption></figure>")
    parts.append("</div>")

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
    parts.append("</table></body></html>\n")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
