"""The course's assignments: one unit (a Python package) each, listed in course.toml's [assignments].

See docs/assignments.md for what a unit holds. Nothing here knows any one
assignment: the grader, the checks, the runners and the exports ask this
module for the unit of an assignment id, a grade cell or a notebook's folder.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from autograder import config

# The modules of a unit that run where student code runs (copied into the sandbox).
SANDBOX_PARTS = ("spec", "data", "probes")


class UnknownAssignment(config.ConfigError):
    """No assignment of that id (or none could be told from the paths)."""


@dataclass(frozen=True)
class Assignment:
    """One assignment: its nbgrader id and the package of its unit."""

    name: str
    package: str

    def module(self, part: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{part}")

    @property
    def spec(self) -> ModuleType:
        return self.module("spec")

    @property
    def probes(self) -> ModuleType:
        return self.module("probes")

    @property
    def cases(self) -> ModuleType:
        return self.module("cases")

    @property
    def judge(self) -> ModuleType:
        return self.module("judge")

    @property
    def notebook(self) -> str:
        return self.spec.NOTEBOOK

    @property
    def folder(self) -> Path:
        """The unit's folder."""
        return Path(importlib.import_module(self.package).__file__).resolve().parent

    def protocol(self) -> ModuleType | None:
        """The unit's own record validators (docs/assignments.md), when it has them."""
        try:
            return self.module("protocol")
        except ModuleNotFoundError as error:
            if error.name != f"{self.package}.protocol":
                raise
            return None

    def sandbox_files(self, package_root: str | os.PathLike) -> list[str]:
        """The unit's files the sandbox needs, relative to `package_root` (the autograder package's folder)."""
        root = Path(package_root).resolve()
        folder = self.folder
        try:
            relative = folder.relative_to(root)
        except ValueError:
            raise UnknownAssignment(f"assignment {self.name}: its unit {self.package} must live inside "
                                    f"the autograder package ({root})") from None
        parts = relative.parts
        files = [os.path.join(*parts[:depth], "__init__.py") for depth in range(1, len(parts) + 1)]
        return files + [os.path.join(*parts, f"{part}.py") for part in SANDBOX_PARTS]


def every() -> list[Assignment]:
    """Every assignment of the course, in course.toml's order."""
    return [Assignment(name, package) for name, package in config.settings()["assignments"].items()]


def names() -> list[str]:
    return [assignment.name for assignment in every()]


def get(name: "str | Assignment | None" = None) -> Assignment:
    """The assignment called `name` (an Assignment is itself; None: the course's first)."""
    if isinstance(name, Assignment):
        return name
    known = every()
    if name is None:
        return known[0]
    for assignment in known:
        if assignment.name == name:
            return assignment
    raise UnknownAssignment(f"no assignment {name!r}; this course has {', '.join(a.name for a in known)} "
                            f"({config.path()}, [assignments])")


def for_cell(cell_id: str) -> Assignment:
    """The assignment whose grade cell `cell_id` is."""
    for assignment in every():
        if cell_id in assignment.spec.CELLS_BY_ID:
            return assignment
    raise KeyError(f"unknown check {cell_id!r}: no assignment of this course has a grade cell of that id")


def _names(path: Path, assignment: Assignment) -> bool:
    """`path` is named after `assignment`: its folder <id>, something inside one, or its notebook's file name."""
    return assignment.name in (path.name, path.parent.name) or path.name == assignment.notebook


def for_notebook(path: str | os.PathLike) -> Assignment | None:
    """The assignment a notebook path belongs to, from nbgrader's layout or the notebook's file name."""
    return next((assignment for assignment in every() if _names(Path(path), assignment)), None)


def detect(paths) -> Assignment:
    """The one assignment that `paths` (notebooks or folders in nbgrader's layout) hold.

    A folder named after an assignment, a student folder holding one, or a
    notebook named as an assignment's; several assignments at once is an error
    (their grades do not fit one CSV).
    """
    found: dict[str, Assignment] = {}
    known = every()
    for raw in paths:
        path = Path(raw)
        for assignment in known:
            hit = _names(path, assignment) or (path.is_dir() and (
                (path / assignment.name).is_dir() or any(path.glob(f"*/{assignment.name}"))))
            if hit:
                found[assignment.name] = assignment
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        return known[0]
    raise UnknownAssignment(f"these paths hold several assignments ({', '.join(found)}); "
                            "grade one at a time with --assignment")
