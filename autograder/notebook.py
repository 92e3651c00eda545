"""Reading a submitted notebook: the student's code, without the test cells.

The isolated grader runs every code cell except nbgrader's grade (test)
cells, in notebook order, as nbgrader's kernel would; the checks are the
grader's own, so editing or deleting a test cell changes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat


class NotebookError(Exception):
    """A submission that cannot be graded; ``flag`` goes into the CSV's flags."""

    def __init__(self, flag: str, message: str):
        super().__init__(message)
        self.flag = flag
        self.message = message


def _is_answer(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("solution")) and not meta.get("grade")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _strip_magics(source: str) -> str:
    """Drop IPython-only lines (``%magic``, ``!shell``) that plain Python cannot run."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("pass  # " + stripped if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def read_notebook(path: str | Path):
    """The notebook as an nbformat node; NotebookError when it is not one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NotebookError("unreadable", f"{path}: cannot be read ({error.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError("not-json", f"{path.name} is not valid JSON ({error}); was it saved from Jupyter?") from None
    except (RecursionError, MemoryError):
        raise NotebookError("not-notebook", f"{path.name} is nested too deeply to be a Jupyter notebook") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not-notebook", f"{path.name} is JSON but not a Jupyter notebook (no cell list)")
    try:
        return nbformat.from_dict(data)
    except Exception as error:  # nbformat raises several types for malformed cells
        raise NotebookError("not-notebook", f"{path.name} is not a readable notebook ({error})") from None


def _is_test(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def answer_cells(path: str | Path) -> list[str]:
    """The notebook's code cells except test cells, one source per cell, in order.

    A kernel runs them one by one, going on after a cell that raised (as
    nbgrader executes). Raises NotebookError with flag ``no-answers`` when
    the notebook has no answer cells (for example one re-created outside
    nbgrader's release).
    """
    notebook = read_notebook(path)
    if not any(_is_answer(cell) for cell in notebook.cells):
        raise NotebookError("no-answers", f"{Path(path).name} has no answer cells: submit the notebook released by the course")
    return [_strip_magics(_source(cell)) for cell in notebook.cells
            if cell.get("cell_type") == "code" and not _is_test(cell)]


def answer_code(path: str | Path) -> str:
    """answer_cells joined into one Python source."""
    return "\n\n".join(answer_cells(path)) + "\n"
