"""One HTML page per student: each check, its points, the mistake it found, and the descent path.

Everything the student controls (their id, printed output, error messages
quoting their code) is escaped; the plot is a PNG inlined as base64, so a
page is one self-contained file.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import os
import re
from pathlib import Path

from autograder import assignments

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }
td.points { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.full td.points { color: #1a7f37; } tr.partial td.points { color: #9a6700; } tr.none td.points { color: #cf222e; }
.flags span { background: #fff1e5; border: 1px solid #d4a72c; border-radius: 3px; padding: 0 .3rem; margin-right: .3rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; max-height: 20rem; }
.hidden { color: #666; font-size: .9em; }
"""


def page_name(student: str) -> str:
    """A file name for the student's page that cannot leave the feedback folder."""
    name = _SAFE_NAME.sub("_", student).lstrip(".")[:100] or "_"
    if name != student:   # keep "a.b" and "a_b" (or two odd ids) from sharing a page
        name += "-" + hashlib.sha1(student.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{name}.html"


def descent_plot_png(paths: dict) -> bytes | None:
    """The student's (m, b) path against the reference's, on the cost contours, as PNG bytes."""
    from matplotlib.figure import Figure
    import numpy as np
    from autograder import reference

    if not paths:
        return None
    student = np.asarray(paths.get("student") or [], dtype=float).reshape(-1, 2)
    ref = np.asarray(paths.get("reference") or [], dtype=float).reshape(-1, 2)
    if ref.size == 0:
        return None
    x, y = np.asarray(paths["x"], float), np.asarray(paths["y"], float)
    best_m, best_b = reference.least_squares(x, y)
    finite = student[np.all(np.isfinite(student), axis=1)] if student.size else student
    points = np.vstack([ref, finite, [[best_m, best_b]]]) if finite.size else np.vstack([ref, [[best_m, best_b]]])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-3)
    # Keep a wild student path from squashing the picture: at most 4 reference spans around it.
    ref_low, ref_high = ref.min(axis=0), ref.max(axis=0)
    ref_span = np.maximum(ref_high - ref_low, 0.5)
    low = np.maximum(low - 0.15 * span, ref_low - 4 * ref_span)
    high = np.minimum(high + 0.15 * span, ref_high + 4 * ref_span)
    m_values = np.linspace(low[0], high[0], 120)
    b_values = np.linspace(low[1], high[1], 120)
    surface = reference.cost_surface(x, y, m_values, b_values)
    figure = Figure(figsize=(6, 4.5), dpi=90)
    axes = figure.subplots()
    levels = np.quantile(surface, np.linspace(0.0, 1.0, 16) ** 2)
    levels = np.unique(levels)
    if levels.size >= 2:
        axes.contour(m_values, b_values, surface, levels=levels, cmap="viridis", linewidths=0.8)
    axes.plot(ref[:, 0], ref[:, 1], "o-", color="black", markersize=3, label="reference gradient descent")
    if finite.size:
        axes.plot(finite[:, 0], finite[:, 1], "s--", color="#cf222e", markersize=4, label="your sgd")
    axes.plot([best_m], [best_b], "*", color="#1a7f37", markersize=12, label="least squares")
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_xlabel("m")
    axes.set_ylabel("b")
    axes.set_title(f"Descent path, lr = {paths.get('lr', float('nan')):.3g}")
    axes.legend(loc="best", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}" if math.isfinite(value) else "0"


def render_page(student: str, graded, paths: dict | None = None) -> str:
    """The page's HTML; `graded` is a batch.Graded."""
    e = html.escape
    row = graded.row
    own = assignments.get(getattr(graded, "assignment", None)).spec
    cells = {cell.id: cell for cell in own.GRADE_CELLS}
    parts = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{e(own.ASSIGNMENT)}: {e(student)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(own.ASSIGNMENT)} &mdash; {e(student)}</h1>",
        f"<p><strong>Score: {e(str(row['score']))} / {e(str(row['max_score']))}</strong></p>",
    ]
    if graded.flags:
        parts.append("<p class=\"flags\">Flags: " + "".join(f"<span>{e(flag)}</span>" for flag in graded.flags) + "</p>")
    for note in graded.notes:
        parts.append(f"<p>{e(note)}</p>")
    parts.append("<table><thead><tr><th>Check</th><th>Points</th><th>What we found</th></tr></thead><tbody>")
    for result in graded.results:
        cell = cells.get(result.cell_id)
        kind = "full" if result.points >= result.max_points else ("partial" if result.points > 0 else "none")
        description = e(cell.description) if cell else ""
        hidden = "" if cell is None or cell.visible else " <span class=\"hidden\">(hidden test)</span>"
        mistake = f" <span class=\"hidden\">[{e(result.mistake)}]</span>" if getattr(result, "mistake", None) else ""
        parts.append(f"<tr class=\"{kind}\"><td><code>{e(result.cell_id)}</code>{hidden}<br>{description}</td>"
                     f"<td class=\"points\">{_points(result.points)} / {_points(result.max_points)}</td>"
                     f"<td>{e(result.message)}{mistake}</td></tr>")
    parts.append("</tbody></table>")
    png = None
    if paths:
        try:
            png = descent_plot_png(paths)
        except Exception:  # a plot must never cost the page
            png = None
    if png:
        encoded = base64.b64encode(png).decode("ascii")
        parts.append("<h2>Your descent path</h2>"
                     "<p>Gradient descent from the same start, with the reference gradients: "
                     "your sgd's (m, b) after 0, 1, 2, ... epochs (red) against the reference (black), "
                     "on the contours of the cost C(m, b).</p>"
                     f"<img alt=\"descent path of {e(student)} on the cost contours\" "
                     f"src=\"data:image/png;base64,{encoded}\">")
    if graded.output_head:
        parts.append("<h2>What the notebook printed (start)</h2>")
        parts.append(f"<pre>{e(graded.output_head)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(folder: str | os.PathLike, student: str, graded, seed: int | None = None) -> Path:
    """Write the student's page into `folder`; returns its path."""
    paths = None
    if graded.sgd_probe:
        try:
            unit = assignments.get(getattr(graded, "assignment", None))
            paths = unit.judge.descent_paths(graded.sgd_probe, seed=seed)
        except Exception:
            paths = None
    target = Path(folder) / page_name(student)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(render_page(student, graded, paths), encoding="utf-8")
    os.replace(temporary, target)
    return target
