"""The checks as nbgrader's test cells call them, inside the student's kernel.

    from autograder.checks import check
    check("dC_dm_lecture_data")        # prints feedback; its value is the points earned

The probe runs the student's function; its numbers go through JSON, exactly
as they do from the isolated grader's sandbox, and the judge decides. The
cell's last value is the points (nbgrader's partial credit), never an
exception and never stderr output, so a wrong answer earns what it earns
and says why.
"""
from __future__ import annotations

import inspect
import json

from autograder import judge, probes, spec


def format_result(result: judge.CheckResult) -> str:
    mark = "PASS" if result.passed else ("PART" if result.points > 0 else "FAIL")
    return f"[{mark}] {result.cell_id}: {result.points:g}/{result.max_points:g}  {result.message}"


def run_check(cell_id: str, namespace: dict, seed: int | None = None) -> judge.CheckResult:
    """Probe and judge one grade cell against the functions defined in ``namespace``."""
    if cell_id not in spec.CELLS_BY_ID:
        raise KeyError(f"unknown check {cell_id!r}; known: {', '.join(spec.CELLS_BY_ID)}")
    probe = probes.probe_cell(namespace, cell_id, seed)
    probe = json.loads(json.dumps(probe))  # only plain numbers cross over, as in the sandbox
    return judge.judge_cell(cell_id, probe, seed=seed)


def check(cell_id: str, namespace: dict | None = None, seed: int | None = None) -> float:
    """Run one check on the caller's functions, print its feedback, return its points."""
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    result = run_check(cell_id, namespace, seed)
    print(format_result(result))
    return result.points
