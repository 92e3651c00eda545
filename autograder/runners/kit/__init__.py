"""The student kit: what students receive, without solutions, hidden checks or the answer key.

    msegrad kit --out DIR        (or: make kit)

DIR holds the release notebook, a one-page README and ``msegrad-kit/``, a
small pip-installable package named ``autograder`` with exactly what the
release imports: ``autograder.data`` (the lecture's numbers, copied from
the grader) and ``autograder.checks`` (the visible checks, truth from
autograd computed live: ``autograder/runners/kit/checks.py``), and the
``msegrad check`` command. It needs Python, torch and numpy.

Another assignment's kit (``--assignment``) holds its unit's data module and
its visible checks, ``kit.py`` in the unit's folder (docs/assignments.md),
installed as ``autograder.checks`` the same way.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from autograder import assignments, config

HERE = Path(__file__).resolve().parent
PACKAGE = "msegrad-kit"
# Text that only the instructor's side may hold; the build fails if any kit file contains it.
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder.reference", "autograder.judge")

INIT = '''"""The student kit of the MSE-gradient exercise: the lecture's data and the visible checks.

    from autograder.data import lecture_data, M_START, B_START
    from autograder.checks import check
"""
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The visible checks and data of the MSE-gradient exercise, for students."
requires-python = ">=3.10"
# Install torch first (a CPU build is enough): this range accepts the one you have.
dependencies = ["torch>=2.1", "numpy>=1.24"]

[project.scripts]
msegrad = "autograder.checks:main"

[tool.setuptools]
packages = ["autograder"]
'''

README = '''# The gradient of mean squared error: the exercise

You write the gradient of the mean squared error of a straight line by hand, and gradient
descent with it. This folder holds:

- `{notebook}`: the exercise. Each function has an answer cell and, below it, a visible check.
- `{package}/`: the visible checks and the lecture's data, as a small Python package.

## Install (once)

Python 3.10 or newer, with pip. In this folder:

    python -m venv .venv
    . .venv/bin/activate              # Windows: .venv\\Scripts\\activate
    pip install torch                 # a CPU build is all you need
    pip install ./{package} notebook  # the checks, and Jupyter

Nothing else is needed: no system packages.

## Work

    jupyter notebook {notebook}

Run the cells from the top. Write each function in its answer cell (keep its name and
signature) and run the check below it: it prints `[PASS]`, or names the mistake and the step
of the derivation to revisit, and shows your points. From a terminal, the same checks:

    msegrad check {notebook}

The visible checks use the lecture's data ({visible:g} points). Hidden checks ({hidden:g} points:
random data of many sizes, scales and dtypes, other learning rates and epoch counts) run when
your work is graded; your feedback shows them.

## Submit

Restart the kernel and run all cells (*Kernel > Restart & Run All*), save, and submit
`{notebook}` under that name, the way your course collects work: the Assignments tab of
Jupyter, `nbgrader submit {assignment}`, or uploading the file.
'''


class KitError(RuntimeError):
    pass


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("msegrad")
    except Exception:
        return "0.1.0"


def _checks_source(unit: assignments.Assignment) -> Path:
    """The unit's visible checks for the kit: assignment 1's here, another's kit.py in its unit."""
    if unit.package == "autograder":
        return HERE / "checks.py"
    path = unit.folder / "kit.py"
    if not path.exists():
        raise KitError(f"assignment {unit.name} has no student checks for the kit ({path} is missing)")
    return path


def build(out: str | Path, release: str | Path | None = None, assignment: str | None = None) -> Path:
    """Write the kit to `out` (replacing an earlier kit there); returns the folder."""
    from autograder import course

    try:
        unit = assignments.get(assignment)
    except assignments.UnknownAssignment as error:
        raise KitError(str(error)) from None
    spec = unit.spec
    checks = _checks_source(unit)
    out = Path(out)
    release = Path(release) if release else course.release_path(course.ROOT, unit)
    if not release.exists():
        raise KitError(f"{release}: no release notebook; run `make exercises` first")
    if out.exists():
        if not (out / PACKAGE).is_dir() and any(out.iterdir()):
            raise KitError(f"{out} exists and is not a kit: choose an empty or new folder")
        shutil.rmtree(out)
    package = out / PACKAGE / "autograder"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(INIT)
    shutil.copyfile(HERE.parent.parent / "data.py", package / "data.py")
    if unit.package != "autograder":
        # The unit's data module where the release imports it from, below empty packages.
        relative = unit.folder.relative_to(HERE.parent.parent)
        folder = package
        for part in relative.parts:
            folder = folder / part
            folder.mkdir(exist_ok=True)
            (folder / "__init__.py").write_text("")
        shutil.copyfile(unit.folder / "data.py", folder / "data.py")
    (package / "checks.py").write_text(course_settings(checks.read_text(), spec))
    (out / PACKAGE / "pyproject.toml").write_text(PYPROJECT.format(name=PACKAGE, version=_version()))
    shutil.copyfile(release, out / spec.NOTEBOOK)
    visible = sum(cell.points for cell in spec.GRADE_CELLS if cell.visible)
    (out / "README.md").write_text(README.format(notebook=spec.NOTEBOOK, package=PACKAGE, visible=visible,
                                                 hidden=spec.MAX_SCORE - visible, assignment=spec.ASSIGNMENT))
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found = [word for word in FORBIDDEN if word in text]
            if found:
                shutil.rmtree(out)
                raise KitError(f"{path.relative_to(out)} contains {found[0]!r}: the kit would leak the "
                               "instructor's side")
    return out



def course_settings(source: str, spec=None) -> str:
    """The kit's checks.py with course.toml's settings appended: the kit ships no course.toml."""
    spec = spec or assignments.get().spec
    visible = {cell.id: (cell.function, cell.points, cell.description) for cell in spec.GRADE_CELLS if cell.visible}
    hidden = spec.MAX_SCORE - sum(cell.points for cell in spec.GRADE_CELLS if cell.visible)
    return (source.rstrip("\n") + "\n\n\n# The course's settings (course.toml), written by `msegrad kit`.\n"
            f"VISIBLE = {visible!r}\n"
            f"HIDDEN_POINTS = {hidden!r}\n"
            f"CALL_SECONDS = {float(config.get('limits', 'call_seconds'))!r}\n")
