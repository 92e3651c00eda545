"""The trust boundary, graded as a class on one worker: no student reaches another, nothing forged is believed."""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

from autograder import batch, sandbox
from autograder.spec import FUNCTIONS

from .boundary import BOUNDARY
from .notebooks import full, scores_by_function, write_student

MODE = sandbox.choose_mode()
needs_bwrap = pytest.mark.skipif(not MODE.sandboxed, reason="bubblewrap cannot run here: " + MODE.reason)
LIMITS = batch.Limits(function_timeout=4.0, top_timeout=8.0)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("boundary")
    for name, (answers, top, _) in BOUNDARY.items():
        write_student(root / "submitted", name, answers, top)
    csv_path = root / "grades.csv"
    summary = batch.grade_paths([root / "submitted"], csv_path, jobs=1, limits=LIMITS, feedback=root / "feedback",
                                progress=False, quiet=True)
    rows = {row["student"]: row for row in batch.read_csv(csv_path)}
    return {"rows": rows, "summary": summary, "root": root, "csv": csv_path}


@needs_bwrap
@pytest.mark.parametrize("student", sorted(BOUNDARY))
def test_each_student_keeps_exactly_what_they_earned(graded, student):
    _, _, expect = BOUNDARY[student]
    row = graded["rows"][student]
    scores = scores_by_function(row)
    for function in FUNCTIONS:
        wanted = expect.get(function)
        if wanted is None:
            continue
        if wanted == "full":
            assert scores[function] == full(function), (function, row)
        elif wanted == "wrong":
            assert scores[function] < full(function), (function, row)
        else:
            assert scores[function] == wanted, (function, row)
    flags = row["flags"].split()
    for word in expect.get("flags", []):
        assert word in flags, (word, row)
    assert "grader-error" not in flags, row


@needs_bwrap
def test_every_student_has_one_row_with_finite_numbers(graded):
    assert sorted(graded["rows"]) == sorted(BOUNDARY)
    for row in graded["rows"].values():
        for column in ("score", "seconds", *batch.CELL_IDS):
            value = float(row[column])
            assert value == value and 0 <= value < 1e6, (column, row)


@needs_bwrap
def test_forged_time_cannot_stretch_the_run(graded):
    # Forged frames claim 10**400 s: the seconds column comes from the grader's clock.
    assert float(graded["rows"]["a51_forge_huge_seconds"]["seconds"]) < 60


@needs_bwrap
def test_the_class_report_builds_from_this_csv(graded, tmp_path):
    result = subprocess.run([str(Path(sys.executable).with_name("msegrad")), "report", str(graded["csv"]),
                             "--out", str(tmp_path / "report")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "index.html").exists()


@needs_bwrap
def test_memory_is_capped_across_all_of_a_submissions_processes(tmp_path):
    # Four children each touch 600 MB: under a per-process limit all four succeed (2.4 GB).
    top = """
import os, time
read_fd, write_fd = os.pipe()
for _ in range(4):
    if os.fork() == 0:
        try:
            block = bytearray(600 * 1024 * 1024)
            for index in range(0, len(block), 4096):
                block[index] = 1
            os.write(write_fd, b"1")
            time.sleep(3)
        finally:
            os._exit(0)
os.close(write_fd)
held = b""
deadline = time.monotonic() + 6
while time.monotonic() < deadline:
    chunk = os.read(read_fd, 8)
    if not chunk:
        break
    held += chunk
print("held", len(held))
if len(held) == 4:
    def dC_dm(x, y, m, b):
        return 0.0
"""
    write_student(tmp_path / "submitted", "many_processes", {}, top)
    csv_path = tmp_path / "grades.csv"
    batch.grade_paths([tmp_path / "submitted"], csv_path, jobs=1, progress=False, quiet=True,
                      limits=batch.Limits(function_timeout=10.0, top_timeout=20.0, memory_mb=1024))
    (row,) = batch.read_csv(csv_path)
    if "no-cgroup" in row["flags"].split():
        pytest.skip("no cgroup can be had here: the row says so (per-process limits only)")
    assert scores_by_function(row)["dC_dm"] == full("dC_dm"), row


def test_a_notebook_nested_five_thousand_deep_still_gets_its_row(tmp_path, capsys):
    path = tmp_path / "submitted" / "deep" / "mse-gradient" / "mse_gradient.ipynb"
    path.parent.mkdir(parents=True)
    notebook = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"solution": True}},
                           "source": "x = " + "[" * 5000 + "]" * 5000, "outputs": [], "execution_count": None}],
                "metadata": {"deep": "PLACEHOLDER"}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook).replace('"PLACEHOLDER"', "[" * 5000 + "]" * 5000)
    path.write_text(text)
    csv_path = tmp_path / "grades.csv"
    batch.grade_paths([tmp_path / "submitted"], csv_path, jobs=1, progress=False, quiet=True, limits=LIMITS)
    (row,) = batch.read_csv(csv_path)
    assert row["student"] == "deep" and float(row["score"]) == 0
    assert row["flags"], row
