"""A self-contained HTML report of one submission (`grade check --html FILE`, the batch's report.html
per student): the table of checks, every failure message, and the checks' figures drawn as plots.

Figures are plain data on `CheckResult.figures` (grader/engine/figures.py), drawn here with matplotlib
(Agg) into base64 PNG `data:` URIs: a heatmap of each wrong gradient's error map, training curves
against the reference's. No script, no network: the Content-Security-Policy allows only inline
styles and data: images, and every piece of text is escaped (`e`). The page helpers (`CSP`,
`STYLE`, `png_data_uri`, `e`) are shared with the batch summary page (grader/instructor/batch/html.py).
"""
from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from typing import Any

from grader.engine.model import Report, Status, Visibility

from ._text import STATUS_LABELS, clean_text, pts as points

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.plots { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
figure { margin: 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.summary td { border: none; padding: 1px 12px 1px 0; }
"""

CHECK_STYLE = """
.status-passed { color: #1b7a2e; font-weight: 600; } .status-failed { color: #b3261e; font-weight: 600; }
.status-other { color: #9a5b00; font-weight: 600; }
pre { background: #f6f6f6; border: 1px solid #e2e2e2; padding: 0.6em; white-space: pre-wrap;
      overflow-wrap: anywhere; font-size: 0.85em; }
section.check { border-top: 1px solid #ddd; margin-top: 1.5em; }
.accepted { font-size: 0.9em; color: #333; } .legend { font-size: 0.9em; background: #fff8e1; padding: 0.4em; } .note { color: #555; font-size: 0.9em; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; } .figs figure { flex: 1 1 420px; max-width: 540px; }
"""


def e(x: Any) -> str:
    """Escaped text for HTML (attributes included); control characters removed first."""
    return html.escape(clean_text("" if x is None else str(x)), quote=True)


def png_data_uri(fig) -> str:
    """A matplotlib figure as a base64 PNG data: URI (closes the figure)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display, no GUI toolkit)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def e_plain(text: Any) -> str:
    """Text as is (escaped later, where it goes into the page)."""
    return str(text)


def _plain(text: str) -> str:
    """Text for matplotlib without mathtext: a `$` in a name must not start a formula."""
    return str(text).replace("$", r"\$")


# --- figures ------------------------------------------------------------------------------------
def _heatmap(fig_data: dict) -> tuple[str, str]:
    """(PNG data URI, caption) of a "gradient_error" figure."""
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm

    plt = pyplot()
    grid = np.array([[v if v is not None else 0.0 for v in row] for row in fig_data["values"]], dtype=float)
    tol = float(fig_data["tolerance"]) or 1e-12
    # log10 of (error ÷ tolerance): 0 is the border of what is accepted; blue below, red above
    ratio = np.log10(np.maximum(grid, tol * 1e-3) / tol)
    top = max(1.0, float(ratio.max()))
    rows, cols = grid.shape
    width = min(7.0, max(3.2, 0.45 * cols + 1.8))
    height = min(6.0, max(1.6, 0.45 * rows + 1.3)) if rows > 1 else 1.8
    fig, ax = plt.subplots(figsize=(width, height))
    im = ax.imshow(ratio, cmap="RdBu_r", norm=TwoSlopeNorm(vmin=-3.0, vcenter=0.0, vmax=top),
                   aspect="auto" if rows == 1 or cols > 3 * rows else "equal", interpolation="nearest")
    if rows * cols <= 64:  # small arrays: the wrong entries' errors in their cells, "ok" elsewhere
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, "ok" if v <= tol else f"{v:.2g}", ha="center", va="center", fontsize=7,
                    color="white" if abs(ratio[i, j]) > 1.5 else "black")
    shape = "×".join(str(s) for s in fig_data["shape"]) or "scalar"
    name = fig_data["name"].split(": ")[-1] if len(fig_data["name"]) > 60 else fig_data["name"]
    ax.set_title(_plain(textwrap.fill(f"{name}  (shape {shape})", 60) +
                        f"\nmax error {fig_data['max_error']:.2g}, accepted ≤ {tol:g}"), fontsize=9)
    br, bc = fig_data.get("block", [1, 1])
    blocks = f" (each cell: the largest of {br}×{bc} entries)" if br * bc > 1 else ""
    ax.set_xlabel(("column" if len(fig_data["shape"]) > 1 else "index") + blocks, fontsize=8)
    ax.set_ylabel("row" if rows > 1 else "", fontsize=8)
    if rows == 1:
        ax.set_yticks([])
    ticks = [t for t in range(-3, int(math.floor(top)) + 1)]
    bar = fig.colorbar(im, ax=ax, ticks=ticks, fraction=0.05, pad=0.03)
    bar.ax.set_yticklabels([f"{tol * 10.0 ** t:.0e}" for t in ticks], fontsize=7)
    bar.set_label("error (blue: accepted, red: wrong)", fontsize=7)
    if rows <= 12 and cols <= 24:  # integer ticks: row and column indices as in the message
        ax.set_xticks(range(cols))
        if rows > 1:
            ax.set_yticks(range(rows))
    wrong, worst = fig_data.get("wrong_entries"), fig_data.get("worst_index")
    caption = f"{e_plain(fig_data['name'])}: "
    if wrong is not None:
        caption += f"{wrong} of {fig_data.get('entries')} entries outside the tolerance"
    if worst:
        caption += f"; the worst at index [{', '.join(str(i) for i in worst)}]"
    return png_data_uri(fig), caption


def heatmap_legend(fig_data: dict) -> str:
    """How to read the error maps (once per check)."""
    return (f"How to read the maps: each cell is one entry of the array; its colour is the error "
            f"{fig_data.get('measure', '|got − expected|')}. Blue is within the accepted "
            f"{float(fig_data['tolerance']):g}, red is wrong (darker: further off). Red everywhere and "
            "even: a wrong factor (mean instead of sum, a missing 2 or 1/N). Red in a mirrored pattern, "
            "off the diagonal: a transposed gradient. Red in one row or column: one unit or index is wrong.")


_STYLES = {"student": dict(color="#1f5fbf", marker="o", linewidth=2.2),
           "reference": dict(color="#888888", marker="s", linestyle="--", linewidth=1.6),
           "measured": dict(color="#d62728", marker="*", markersize=15, linestyle="none")}


def _curve(fig_data: dict) -> tuple[str, str]:
    """(PNG data URI, caption) of a "curve" figure."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    xs: list[float] = []
    for line in fig_data["series"]:
        x = [v for v in line["x"] if v is not None]
        y = [v for v in line["y"] if v is not None]
        style = dict(_STYLES.get(line["role"], {}))
        if line["role"] == "reference" and len(x) == 1:
            style.update(marker="D", markersize=8, linestyle="none")
        ax.plot(x[:len(y)], y[:len(x)], label=_plain(line["label"]), **style)
        xs += x
    for k, th in enumerate(fig_data.get("thresholds", [])):
        colour = "#2ca02c" if k == 0 else "#d62728"
        ax.axhline(th["value"], color=colour, linestyle=":", linewidth=1.5)
        ax.annotate(_plain(th["label"]), (min(xs) if xs else 0, th["value"]), xytext=(2, 3),
                    textcoords="offset points", color=colour, fontsize=8)
    if xs:
        ax.set_xticks(sorted({int(v) for v in xs}))
    ax.set_xlabel(_plain(fig_data.get("x_label", "epoch"))), ax.set_ylabel(_plain(fig_data.get("y_label", "")))
    ax.set_title(_plain(fig_data.get("title", "")), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    caption = ("Solid blue: your code, per epoch (the legend says who measured it); dashed grey: the "
               "reference solution on the same settings.")
    if any(line["role"] == "measured" for line in fig_data["series"]):
        caption += (" The red star is what the grader measured itself on your trained weights (this "
                    "is what is scored); dotted lines: the thresholds.")
    return png_data_uri(fig), caption


def figure_html(fig_data: dict) -> str:
    """One figure as an HTML <figure>; an unknown kind or malformed data is left out, not fatal."""
    drawers = {"gradient_error": _heatmap, "curve": _curve}
    drawer = drawers.get(fig_data.get("kind")) if isinstance(fig_data, dict) else None
    if drawer is None:
        return ""
    try:
        uri, caption = drawer(fig_data)
    except (KeyError, TypeError, ValueError, IndexError):
        return ""
    alt = fig_data.get("name") or fig_data.get("title") or fig_data["kind"]
    return (f"<figure class='fig-{e(fig_data['kind'])}'><img alt='{e(alt)}' src='{uri}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>")


# --- the page -----------------------------------------------------------------------------------
def _status_class(status: Status) -> str:
    return {Status.PASSED: "status-passed", Status.FAILED: "status-failed"}.get(status, "status-other")


def _anchor(check_id: str) -> str:
    return "check-" + "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in check_id)


def to_html(report: Report) -> str:
    """The page: header with the total, the table of checks, then each check that did not pass (or
    that has figures) with its message, what is accepted, its figures and the code's output."""
    checks = report.checks
    n_passed = sum(c.status == Status.PASSED for c in checks)
    title = f"{report.assignment}: {points(report.score)} / {points(report.max_score)} points"
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
             f"<title>{e(title)}</title><style>{STYLE}{CHECK_STYLE}</style></head><body>",
             f"<h1>{e(title)} ({report.percent:.0f}%)</h1><table class='summary'>",
             f"<tr><td>submission</td><td>{e(report.submission)}</td></tr>",
             f"<tr><td>checks passed</td><td>{n_passed} of {len(checks)}</td></tr>",
             f"<tr><td>isolation</td><td>{e(report.isolation)}</td></tr>",
             f"<tr><td>time</td><td>{report.execution_time:.1f} s</td></tr></table>"]
    if report.status != "graded":
        parts.append(f"<p class='status-failed'>Not graded: {e(report.message)}</p>")
    if not report.hidden_included:
        parts.append("<p class='note'>Public checks only: your instructor also grades hidden checks.</p>")
    parts += [f"<p class='note'>Warning: {e(w)}</p>" for w in report.warnings]

    detailed = [c for c in checks if c.status != Status.PASSED or c.figures]
    parts.append("<h2>Checks</h2><table id='checks'><tr><th>check</th><th>task</th><th>file</th>"
                 "<th>points</th><th>status</th><th>time</th></tr>")
    for c in checks:
        label = e(c.title) + (" <em>(hidden)</em>" if c.visibility == Visibility.HIDDEN else "")
        if c in detailed:
            label = f"<a href='#{_anchor(c.id)}'>{label}</a>"
        parts.append(f"<tr><td>{label}</td><td>{e(c.task)}</td><td>{e(c.module + '.py' if c.module else '')}</td>"
                     f"<td class='num'>{points(c.score)} / {points(c.max_score)}</td>"
                     f"<td class='{_status_class(c.status)}'>{e(STATUS_LABELS.get(c.status, c.status.value))}</td>"
                     f"<td class='num'>{c.duration:.1f} s</td></tr>")
    parts.append(f"<tr><th colspan='3'>Total</th><th class='num'>{points(report.score)} / "
                 f"{points(report.max_score)}</th><th colspan='2'>{n_passed} of {len(checks)} passed</th></tr></table>")

    if detailed:
        parts.append("<h2>Details: what went wrong, and the plots</h2>")
    for c in detailed:
        parts.append(f"<section class='check' id='{_anchor(c.id)}'><h3>{e(c.title)}</h3>"
                     f"<p><span class='{_status_class(c.status)}'>{e(STATUS_LABELS.get(c.status, c.status.value))}</span>"
                     f" · {points(c.score)} / {points(c.max_score)} points · check <code>{e(c.id)}</code>"
                     + (f" · file <code>{e(c.module)}.py</code>" if c.module else "") + "</p>")
        if c.message:
            parts.append(f"<pre class='message'>{e(c.message)}</pre>")
        if c.tolerance and c.status != Status.PASSED:
            parts.append(f"<p class='accepted'>Accepted: {e(c.tolerance)}</p>")
        figs = [f for f in (figure_html(x) for x in c.figures) if f]
        if figs:
            parts.append("<div class='figs'>" + "".join(figs) + "</div>")
        heatmaps = [x for x in c.figures if isinstance(x, dict) and x.get("kind") == "gradient_error"]
        if heatmaps:
            parts.append(f"<p class='legend'>{e(heatmap_legend(heatmaps[0]))}</p>")
        if c.output:
            parts.append(f"<details><summary>Your code's output during this check</summary>"
                         f"<pre class='output'>{e(c.output[:8000])}</pre></details>")
        if c.status != Status.PASSED and c.visibility == Visibility.PUBLIC:
            parts.append(f"<p class='note'>Re-run just this check: <code>grade check --check {e(c.id)}</code></p>")
        parts.append("</section>")
    if not detailed and checks:
        parts.append(f"<p class='status-passed'>All {len(checks)} checks passed.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
