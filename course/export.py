"""Run the lessons from a clean kernel and write them as HTML, plots inline.

    python -m course.export [--out DIR]     # default DIR: out/lessons/ under the repository root

Each notebook runs in a fresh ``python3`` kernel whose working folder is
course/ (as when a reader opens it in Jupyter). Video and exercise links are
relative to the HTML folder, so they resolve when the page is opened from DIR.
"""
from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from course import show

COURSE = Path(__file__).resolve().parent
ROOT = COURSE.parent
DEFAULT_OUT = ROOT / "out" / "lessons"
KERNEL = "python3"
# Per cell; the slowest cell (the full descent run) takes about a second.
CELL_TIMEOUT_S = 120
# Debian's libjs-mathjax (MathJax 2, as nbconvert's template expects): used when
# installed so that the pages show their equations offline; else nbconvert's CDN.
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")
MATHJAX_CONFIG = "?config=TeX-AMS_CHTML-full,Safe"


def default_mathjax() -> str | None:
    """A file:// MathJax URL when a local copy is installed, else None (nbconvert's CDN)."""
    return LOCAL_MATHJAX.as_uri() + MATHJAX_CONFIG if LOCAL_MATHJAX.is_file() else None


def lesson_paths() -> list[Path]:
    """The lesson notebooks in reading order."""
    return sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))


def title(nb: nbformat.NotebookNode) -> str:
    """The lesson's own heading, e.g. '1. Cost and autodiff'."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^## (.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return "Lesson"


async def execute_async(path: Path, html_dir: Path) -> nbformat.NotebookNode:
    """``path`` executed in a fresh kernel in course/, links made relative to ``html_dir``.

    Raises nbclient.exceptions.CellExecutionError if a cell fails.
    """
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, show.LESSON_BASE_ENV: str(Path(html_dir).resolve())}
    # The kernel draws inline: a backend chosen for this process (Agg, in a grader) would hide every plot.
    env.pop("MPLBACKEND", None)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(COURSE)}})
    # The kernel process's own stderr (start-up notices, crash reports) is kept
    # aside and shown only if the lesson fails; cell output is captured either way.
    with tempfile.TemporaryFile(mode="w+") as kernel_log:
        try:
            await client.async_execute(env=env, stderr=kernel_log)
        except Exception as error:
            kernel_log.seek(0)
            log = kernel_log.read().strip()
            if log:
                error.add_note(f"kernel stderr:\n{log[-2000:]}")
            raise
    return nb


def execute(path: Path, html_dir: Path) -> nbformat.NotebookNode:
    """The synchronous form of execute_async."""
    return asyncio.run(execute_async(path, html_dir))


async def _execute_all(paths: list[Path], html_dir: Path, jobs: int) -> list[tuple]:
    """Run the notebooks, ``jobs`` kernels at a time; (notebook or exception, seconds) per path."""
    limit = asyncio.Semaphore(max(1, jobs))

    async def one(path):
        async with limit:
            start = time.perf_counter()
            try:
                nb = await execute_async(path, html_dir)
            except Exception as error:  # reported per lesson by the caller
                nb = error
            return nb, time.perf_counter() - start

    return await asyncio.gather(*(one(path) for path in paths))


def to_html(nb: nbformat.NotebookNode, heading: str, mathjax: str | None = None) -> str:
    """HTML of an executed notebook; links between lessons point at their .html pages.

    ``mathjax`` is the MathJax 2 script URL (default: nbconvert's CDN).
    """
    nb = nbformat.from_dict(nb)  # a copy: the caller's notebook keeps its .ipynb links
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\((\d\d_\w+)\.ipynb\)", r"(\1.html)", cell.source)
    options = {"mathjax_url": mathjax} if mathjax else {}
    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True,
                            exclude_output_prompt=True, **options)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": heading}})
    return body


def index_html(entries: list[tuple[str, str]], html_dir: Path) -> str:
    """A page linking the lessons (title, file name) and the exercise notebook."""
    items = "\n".join(f'    <li><a href="{html.escape(name)}">{html.escape(heading)}</a></li>'
                      for heading, name in entries)
    exercise = show.relative(show.EXERCISE, Path(html_dir).resolve())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>The gradient of mean squared error: lessons</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem;
           line-height: 1.5; color: #222; }}
    li {{ margin: 0.4rem 0; font-size: 1.15rem; }}
    code {{ background: #f2f2f2; padding: 0 0.2rem; }}
  </style>
</head>
<body>
  <h1>The gradient of mean squared error</h1>
  <p>Lessons after the <em>ML Foundations</em> lecture <em>The Gradient of Mean Squared Error</em>.
     Every number and plot was computed when these pages were made, from <code>autograder.reference</code>.</p>
  <ol style="list-style: none; padding-left: 0">
{items}
  </ol>
  <p>Then try it yourself: <a href="{html.escape(exercise)}"><code>exercises/mse-gradient/mse_gradient.ipynb</code></a>.</p>
</body>
</html>
"""


@dataclass
class Lesson:
    source: Path
    html: Path
    title: str
    notebook: nbformat.NotebookNode  # executed
    seconds: float


def export(out_dir: Path = DEFAULT_OUT, paths: list[Path] | None = None,
           jobs: int | None = None, mathjax: str | None = None) -> tuple[list[Lesson], Path]:
    """Execute the lessons (``jobs`` at a time, default one per CPU) and write
    ``out_dir/<name>.html`` and ``out_dir/index.html``; returns the lessons and the index.

    Raises the first lesson's error (CellExecutionError) after the others have run.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = list(paths or lesson_paths())
    results = asyncio.run(_execute_all(paths, out_dir, jobs or os.cpu_count() or 1))
    for path, (nb, _) in zip(paths, results):
        if isinstance(nb, BaseException):
            raise RuntimeError(f"{path.name} failed") from nb
    lessons = []
    for path, (nb, seconds) in zip(paths, results):
        heading = title(nb)
        target = out_dir / f"{path.stem}.html"
        target.write_text(to_html(nb, heading, mathjax or default_mathjax()), encoding="utf-8")
        lessons.append(Lesson(path, target, heading, nb, seconds))
    index = out_dir / "index.html"
    index.write_text(index_html([(lesson.title, lesson.html.name) for lesson in lessons], out_dir),
                     encoding="utf-8")
    return lessons, index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the lessons and write them as HTML.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--jobs", type=int, default=None,
                        help="kernels to run at once (default: one per CPU)")
    parser.add_argument("--mathjax", default=None, metavar="URL",
                        help="MathJax 2 script URL (default: a local libjs-mathjax if installed, else a CDN)")
    args = parser.parse_args(argv)
    lessons, index = export(args.out, jobs=args.jobs, mathjax=args.mathjax)
    for lesson in lessons:
        print(f"{lesson.html}  ({lesson.seconds:.1f} s)")
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
