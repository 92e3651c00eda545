"""Display helpers for the lessons: number tables, videos and links to course files.

Links and video sources are relative paths, so they work both in Jupyter
(relative to the notebook's folder) and in the exported HTML (the exporter
sets LESSON_BASE_ENV to the HTML folder).
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

import numpy as np
from IPython.display import Markdown, Video, display

ROOT = Path(__file__).resolve().parents[1]
VIDEO_DIR = ROOT / "media" / "videos"
EXERCISE = ROOT / "exercises" / "mse-gradient" / "mse_gradient.ipynb"
# The folder the reader's page lives in; relative links are computed from it.
LESSON_BASE_ENV = "MSEGRAD_LESSON_BASE"
RENDER_COMMAND = "msegrad render --quality low"


def base_dir() -> Path:
    """Where relative links start: the HTML folder during export, else the kernel's working folder."""
    return Path(os.environ.get(LESSON_BASE_ENV) or os.getcwd()).resolve()


def relative(target: Path, base: Path | None = None) -> str:
    """``target`` relative to ``base`` (default base_dir()), with forward slashes."""
    return Path(os.path.relpath(Path(target).resolve(), base or base_dir())).as_posix()


class Table:
    """A table of numbers; headers are Markdown (may hold $LaTeX$), cells are strings.

    Shows as a compact HTML table or as Markdown.
    """

    def __init__(self, headers: list[str], rows: list[list]):
        self.headers, self.rows = list(headers), [[str(v) for v in row] for row in rows]

    def _repr_markdown_(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |", "|:---|" + "---:|" * (len(self.headers) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # Column widths are fixed from the text they hold. With an automatic layout the
        # exported page stretched tables to full width: MathJax measures the width
        # of each formula's container (for line breaking) while the table is laid out.
        widths = [max(_width_em(text) for text in column) for column in zip(self.headers, *self.rows)]
        cols = "".join(f'<col style="width: {w:.1f}em">' for w in widths)
        head = "".join(f"<th>{_inline(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{_inline(v)}</td>" for v in row) + "</tr>" for row in self.rows)
        return (f'<table style="table-layout: fixed; width: {sum(widths):.1f}em; margin: 0.5em 0;">'
                f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _inline(text: str) -> str:
    """Markdown `code` and **bold** as HTML; the rest escaped ($LaTeX$ is left to MathJax)."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


# A brace group, with at most one level of nested braces inside.
_GROUP = r"\{((?:[^{}]|\{[^{}]*\})*)\}"


def _symbols(formula: str) -> int:
    """Roughly how many symbols wide a TeX formula is: a command counts as one symbol,
    braces and spacing as none, a fraction as its wider part."""
    formula = re.sub(r"\\frac" + _GROUP + _GROUP,
                     lambda mt: max(mt.group(1), mt.group(2), key=_symbols), formula)
    return len(re.sub(r"[{}_^ ]|\\[,;! ]", "", re.sub(r"\\[a-zA-Z]+", "X", formula)))


def _width_em(text: str) -> float:
    """A column width (em) that fits ``text``: 0.6 em a character of text, 0.8 em a symbol
    of a formula, plus the cell's padding. Too narrow, and MathJax breaks the formula."""
    formulas = re.findall(r"\$([^$]*)\$", text)
    plain = re.sub(r"\$[^$]*\$", "", text).replace("`", "").replace("**", "")
    return 2.0 + 0.6 * len(plain) + 0.8 * sum(_symbols(f) for f in formulas)


def table(columns: dict, digits: int = 4, index: str = "i") -> Table:
    """One row per instance i = 1..n; ``columns`` maps a header to n numbers.

    Headers are LaTeX, or `code` when they start with a backquote. Columns of
    whole numbers (like the lecture's x) are shown without decimals.
    """
    values = {name: np.asarray(_numbers(col), dtype=float) for name, col in columns.items()}
    n = len(next(iter(values.values())))
    whole = {name: bool(np.all(col == np.round(col))) for name, col in values.items()}
    rows = [[str(i + 1), *(f"{col[i]:.0f}" if whole[name] else f"{col[i] + 0.0:.{digits}f}"
                           for name, col in values.items())]
            for i in range(n)]
    return Table([header if header.startswith("`") else f"${header}$" for header in [index, *values]], rows)


def video_output(name: str, width: int = 720, video_dir: Path | None = None):
    """A Video of media/videos/<name>.mp4 (a relative link, not embedded) if it has been
    rendered, else Markdown that says how to render it."""
    path = (video_dir or VIDEO_DIR) / f"{name}.mp4"
    if path.is_file():
        return Video(url=relative(path), width=width)
    return Markdown(
        f"*Video `{name}` is not rendered yet.* Make it from the repository root with "
        f"`{RENDER_COMMAND} {name}` (all videos: `{RENDER_COMMAND}` or `make videos`), "
        "then run this cell again.")


def video(name: str, width: int = 720, video_dir: Path | None = None) -> None:
    """Display video_output(name)."""
    display(video_output(name, width, video_dir))


def exercise_link() -> Markdown:
    """A pointer to the student exercise notebook."""
    rel = relative(EXERCISE)
    return Markdown(f"**Your turn:** implement these gradients and the descent loop yourself in "
                    f"the exercise notebook [`exercises/mse-gradient/mse_gradient.ipynb`]({rel}).")


def _numbers(values):
    if hasattr(values, "detach"):
        return values.detach().cpu().numpy().reshape(-1)
    return np.asarray(values).reshape(-1)


def md(text: str) -> None:
    """Display Markdown text (with $LaTeX$) built from computed values."""
    display(Markdown(text))
