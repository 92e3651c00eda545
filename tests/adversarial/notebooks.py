"""Build nbgrader-layout notebooks from {function: source}, for the grader's tests.

Answer cells carry nbgrader's solution metadata and grade ids
``<function>_answer``; test cells carry ``grade: true`` and a grade cell id
from ``autograder.spec``. The grader never runs test cells, so theirs only
have to look like the release notebook's.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from autograder import spec

CORRECT = {
    "dC_dyhat": "def dC_dyhat(yhat, y):\n    return 2 * (yhat - y) / len(y)\n",
    "dC_dm": "def dC_dm(x, y, m, b):\n    yhat = m * x + b\n    return 2 * torch.sum((yhat - y) * x) / len(y)\n",
    "dC_db": "def dC_db(x, y, m, b):\n    yhat = m * x + b\n    return 2 * torch.sum(yhat - y) / len(y)\n",
    "sgd": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
            "    for epoch in range(epochs):\n"
            "        grad_m = dC_dm(x, y, m, b)\n"
            "        grad_b = dC_db(x, y, m, b)\n"
            "        m = m - lr * grad_m\n"
            "        b = b - lr * grad_b\n"
            "    return m, b\n"),
}
SETUP = "import torch\nimport numpy as np\n"


def _meta(grade_id: str, solution: bool, grade: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def make_notebook(answers: dict | None = None, top: str = "", setup: str = SETUP):
    """A notebook whose answer cells hold CORRECT overridden by `answers`; `top` is an extra code cell at the end."""
    answers = {**CORRECT, **(answers or {})}
    cells = [nbformat.v4.new_markdown_cell("# The gradient of mean squared error"),
             nbformat.v4.new_code_cell(setup, metadata=_meta("setup", False, False))]
    for function in spec.FUNCTIONS:
        cells.append(nbformat.v4.new_code_cell(answers[function], metadata=_meta(f"{function}_answer", True, False)))
        for cell in spec.cells_for(function):
            cells.append(nbformat.v4.new_code_cell(
                f"from autograder.checks import check\ncheck({cell.id!r})",
                metadata=_meta(cell.id, False, True, cell.points)))
    if top:
        cells.append(nbformat.v4.new_code_cell(top))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def write_student(root: Path, student: str, answers: dict | None = None, top: str = "") -> Path:
    """root/<student>/mse-gradient/mse_gradient.ipynb, nbgrader's submitted layout."""
    path = Path(root) / student / spec.ASSIGNMENT / spec.NOTEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_notebook(answers, top), str(path))
    return path


def full(function: str) -> float:
    return float(sum(cell.points for cell in spec.cells_for(function)))


def scores_by_function(row: dict) -> dict:
    """{function: points} from a CSV row."""
    return {function: sum(float(row[cell.id]) for cell in spec.cells_for(function))
            for function in spec.FUNCTIONS}
