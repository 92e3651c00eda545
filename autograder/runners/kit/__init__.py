"""The student kit: what students receive, without solutions, hidden checks or the answer key.

    msegrad kit --out DIR [--assignment ID]     (or: make kit, every assignment's in out/kit/<id>/)

DIR holds the release notebook, a one-page README and ``msegrad-kit/``, a
small pip-installable package named ``autograder`` with exactly what the
release imports: ``autograder.data`` (the lecture's numbers, copied from
the grader) and ``autograder.checks`` (the visible checks, truth from
autograd computed live: ``autograder/runners/kit/checks.py``), and the
``msegrad check`` command. It needs Python, torch and numpy.

Another assignment's kit (``--assignment``) holds its unit's data module and
its visible checks, ``kit.py`` in the unit's folder (docs/assignments.md),
installed as ``autograder.checks`` the same way. The checks' file may name
what the kit needs beyond torch and numpy (``REQUIRES = {requirement: why}``,
written into the kit's pyproject and README) and the exercise in a sentence
(``SUMMARY``).
"""
from __future__ import annotations

import ast
import json
import shutil
import textwrap
from pathlib import Path

from autograder import assignments, config

HERE = Path(__file__).resolve().parent
PACKAGE = "msegrad-kit"
# Text that only the instructor's side may hold; the build fails if any kit file contains it.
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder.reference", "autograder.judge")
# Another unit's modules that only the trusted side holds (docs/assignments.md): no kit file may name them.
TRUSTED_PARTS = ("reference", "cases", "judge", "mistakes")

INIT = '''"""The student kit of the {assignment} exercise: its data and the visible checks.

    from {data} import ...
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
dependencies = {dependencies}

[project.scripts]
msegrad = "autograder.checks:main"

[tool.setuptools]
packages = {packages}
'''

README = '''# The gradient of mean squared error: the exercise

{summary} This folder holds:

- `{notebook}`: the exercise. Each function has an answer cell and, below it, a visible check.
- `{package}/`: the visible checks and the notebook's data, as a small Python package.

## Install (once)

Python 3.10 or newer, with pip. In this folder:

    python -m venv .venv
    . .venv/bin/activate              # Windows: .venv\\Scripts\\activate
    pip install torch                 # a CPU build is all you need
    pip install ./{package} notebook  # the checks, and Jupyter

{requires}Nothing else is needed: no system packages.

## Work

    jupyter notebook {notebook}

Run the cells from the top. Write each function in its answer cell (keep its name and
signature) and run the check below it: it prints `[PASS]`, or names the mistake and the step
of the derivation to revisit, and shows your points. From a terminal, the same checks:

    msegrad check {notebook}

{checks}

## Submit

Restart the kernel and run all cells (*Kernel > Restart & Run All*), save, and submit
`{notebook}` under that name, the way your course collects work: the Assignments tab of
Jupyter, `nbgrader submit {assignment}`, or uploading the file.
'''


# What the README says when the checks' file does not say it (assignment 1's words).
DEFAULT_SETTINGS = {
    "SUMMARY": "You write the gradient of the mean squared error of a straight line by hand, and gradient\n"
               "descent with it.",
    "VISIBLE_DATA": "the lecture's data",
    "REQUIRES": {},
}
BASE_REQUIREMENTS = ["torch>=2.1", "numpy>=1.24"]


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


def kit_settings(source: str) -> dict:
    """The checks' own words for the kit (SUMMARY, VISIBLE_DATA, REQUIRES), read without importing them."""
    found = dict(DEFAULT_SETTINGS)
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in found:
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def forbidden(unit: assignments.Assignment) -> tuple[str, ...]:
    """Text no kit file may hold: solution and hidden-test markers, and the trusted side's modules."""
    if unit.package == "autograder":
        return FORBIDDEN
    return FORBIDDEN + tuple(f"{unit.package}.{part}" for part in TRUSTED_PARTS)


README_WIDTH = 95


def _requires_text(requires: dict) -> str:
    if not requires:
        return ""
    names = ", ".join(f"`{requirement}`" for requirement in requires)
    reasons = "; ".join(f"{why}" for why in requires.values())
    return textwrap.fill(f"pip installs {names} with the checks: {reasons}.", README_WIDTH) + "\n"


def _checks_text(visible_data: str, visible: float, hidden: float) -> str:
    return textwrap.fill(f"The visible checks use {visible_data} ({visible:g} points). Hidden checks ({hidden:g} "
                         "points: random data of many sizes, scales and dtypes, other learning rates and epoch "
                         "counts) run when your work is graded; your feedback shows them.", README_WIDTH)


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
    settings = kit_settings(checks.read_text())
    (package / "__init__.py").write_text(INIT.format(assignment=spec.ASSIGNMENT, data=spec.DATA_MODULE))
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
    dependencies = BASE_REQUIREMENTS + list(settings["REQUIRES"])
    packages = sorted(".".join(path.parent.relative_to(out / PACKAGE).parts) for path in package.rglob("__init__.py"))
    (out / PACKAGE / "pyproject.toml").write_text(PYPROJECT.format(name=PACKAGE, version=_version(),
                                                                   dependencies=json.dumps(dependencies),
                                                                   packages=json.dumps(packages)))
    shutil.copyfile(release, out / spec.NOTEBOOK)
    visible = sum(cell.points for cell in spec.GRADE_CELLS if cell.visible)
    (out / "README.md").write_text(README.format(notebook=spec.NOTEBOOK, package=PACKAGE, visible=visible,
                                                 hidden=spec.MAX_SCORE - visible, assignment=spec.ASSIGNMENT,
                                                 summary=settings["SUMMARY"], requires=_requires_text(settings["REQUIRES"]),
                                                 checks=_checks_text(settings["VISIBLE_DATA"], visible,
                                                                     spec.MAX_SCORE - visible)))
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found = [word for word in forbidden(unit) if word in text]
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
