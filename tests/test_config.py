"""course.toml: its defaults are the course's, bad values are named, and every knob reaches the runners."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import config

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


def test_the_repository_file_holds_the_defaults_and_the_due_date():
    settings = config.read(ROOT / "course.toml")
    for table in ("grading", "limits", "cases", "mistakes"):
        assert settings[table] == config.DEFAULTS[table], table
    assert settings["deadline"]["due"] == datetime.datetime(2027, 1, 15, 23, 59, tzinfo=datetime.timezone.utc)


def test_a_missing_file_means_the_defaults(tmp_path):
    assert config.read(tmp_path / "absent.toml") == config.validate({})


@pytest.mark.parametrize("text, words", [
    ("[limits]\nfunction_seconds = -1\n", "limits.function_seconds must be above zero"),
    ("[limits]\ncall_seconds = 0\n", "limits.call_seconds must be above zero"),
    ("[limits]\nmemory_mb = \"lots\"\n", "limits.memory_mb must be a number"),
    ("[limits]\nprocesses = 2.5\n", "limits.processes must be a whole number"),
    ("[limits]\nfunction_secs = 5\n", "unknown key limits.function_secs"),
    ("[limit]\nmemory_mb = 5\n", "unknown table [limit]"),
    ("[grading]\nseed = true\n", "grading.seed must be a number"),
    ("[cases]\ngradient_sizes = [1, 2]\n", "cases.gradient_sizes and cases.gradient_scales"),
    ("[mistakes]\nmissing_two = 2\n", "mistakes.missing_two is a fraction"),
    ("[deadline]\ndue = \"soon\"\n", "deadline.due must be a date and time"),
    ("[deadline]\ndue = 2027-01-15T23:59:00\n", "deadline.due needs a time zone"),
    ("[points\n", "course.toml"),
])
def test_bad_values_are_named(tmp_path, text, words):
    with pytest.raises(config.ConfigError, match=None) as error:
        config.read(_write(tmp_path, text))
    assert words in str(error.value)


# Run in a fresh interpreter: the runners read the settings once, when imported.
PROBE = r"""
import json, os
from autograder import batch, cases, checks, config, mistakes, probes, spec
from autograder.cli import check
from autograder.runners.nbgrader import CourseLatePolicy, due_date_utc
print(json.dumps({
    "points": spec.CELLS_BY_ID["sgd_converges"].points, "max_score": spec.MAX_SCORE,
    "seed": cases.seed_from_env(),
    "limits": vars(batch.Limits.from_env()),
    "call_seconds": probes.CALL_SECONDS["sgd"], "child_seconds": checks.CHILD_SECONDS,
    "check_seconds": check.TOP_LEVEL_SECONDS,
    "request_call_seconds": batch.request_for("s", [], 1, batch.Limits())["call_seconds"],
    "gradient_cases": len(cases.gradient_cases("dC_dm_matches_autograd", 1)),
    "first_steps_n": len(cases.descent_cases("sgd_first_steps", 1)[0].x),
    "cost_epochs": [c.epochs for c in cases.descent_cases("sgd_cost_decreases", 1)],
    "converges": [len(c.x) for c in cases.descent_cases("sgd_converges", 1)],
    "credit": mistakes.credit("missing_two"),
    "due": str(due_date_utc()),
    "late_penalty": CourseLatePolicy().late_submission_penalty("s", 10.0, 1.5 * 86400),
}))
"""

CHANGED = """
[points]
sgd_converges = 5
[grading]
seed = 7
[limits]
function_seconds = 20
call_seconds = 3
top_level_seconds = 12
memory_mb = 512
processes = 8
[cases]
gradient_sizes = [2, 5]
gradient_scales = [1.0, 2.0]
first_steps_size = 6
cost_decreases_epochs = 4
converges_sizes = [9]
converges_lr_fractions = [0.6]
[mistakes]
missing_two = 0.5
[deadline]
due = 2026-06-01T12:00:00+02:00
late_penalty_per_day = 0.25
late_days_max = 3
"""


def _probe(path: Path, **environment) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MSEGRAD_")} | {"MSEGRAD_CONFIG": str(path)} | environment
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_knob_reaches_the_runners(tmp_path):
    seen = _probe(_write(tmp_path, CHANGED))
    assert seen["points"] == 5 and seen["max_score"] == 19
    assert seen["seed"] == 7
    assert seen["limits"]["function_timeout"] == 20 and seen["limits"]["top_timeout"] == 12
    assert seen["limits"]["memory_mb"] == 512 and seen["limits"]["nproc"] == 8
    assert seen["call_seconds"] == 3 and seen["request_call_seconds"] == 3
    assert seen["child_seconds"] == 20 and seen["check_seconds"] == 12
    assert seen["gradient_cases"] == 2 and seen["first_steps_n"] == 6
    assert seen["cost_epochs"] == [0, 1, 2, 3, 4] and seen["converges"] == [9]
    assert seen["credit"] == 0.5
    assert seen["due"] == "2026-06-01 10:00:00"
    assert seen["late_penalty"] == pytest.approx(5.0)   # two days (one and a half) late: half the score


def test_environment_variables_still_win(tmp_path):
    seen = _probe(_write(tmp_path, CHANGED), MSEGRAD_SEED="11", MSEGRAD_TIMEOUT="9", MSEGRAD_MEMORY_MB="300")
    assert seen["seed"] == 11
    assert seen["limits"]["function_timeout"] == 9 and seen["limits"]["memory_mb"] == 300


def test_the_defaults_without_a_file(tmp_path):
    seen = _probe(tmp_path / "absent.toml", MSEGRAD_CONFIG="")
    assert seen["max_score"] == 16 and seen["seed"] == 20261127
    assert seen["limits"]["function_timeout"] == 60 and seen["call_seconds"] == 10
    assert seen["cost_epochs"] == list(range(9)) and seen["converges"] == [30, 12]


def test_a_bad_file_stops_the_runners_with_the_key_named(tmp_path):
    path = _write(tmp_path, "[points]\nsgd_converge = 5\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MSEGRAD_")}
    done = subprocess.run([sys.executable, "-c", "import autograder.spec"], capture_output=True, text=True,
                          env=env | {"MSEGRAD_CONFIG": str(path)}, timeout=120)
    assert done.returncode != 0 and "points.sgd_converge is not a grade cell" in done.stderr


def test_the_readme_example_is_a_valid_file_with_every_table():
    import re
    import tomllib
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Changing the course.*?```toml\n(.*?)```", text, re.S).group(1)
    raw = tomllib.loads(block)
    assert set(raw) == set(config.DEFAULTS)
    assert set(raw["limits"]) == set(config.DEFAULTS["limits"])
    config.validate(raw)


def test_msegrad_grade_uses_a_changed_file(tmp_path):
    """Points and mistake credit reach the grade itself, through the sandbox."""
    import csv
    path = _write(tmp_path, "[points]\nsgd_converges = 5\n[mistakes]\nmissing_two = 0.5\n"
                            "[limits]\ncall_seconds = 4\n")
    notebook = ROOT / "examples" / "class" / "barbara" / "mse-gradient" / "mse_gradient.ipynb"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MSEGRAD_")}
    out = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-c", "import sys; from autograder.cli import main; sys.exit(main())", "grade", str(notebook), "--csv", str(out),
                           "--jobs", "1"], capture_output=True, text=True, env=env | {"MSEGRAD_CONFIG": str(path)},
                          timeout=600)
    assert done.returncode == 0, done.stderr
    with open(out, newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["max_score"]) == 19
    assert "dC_dm_matches_autograd=missing_two" in row["mistakes"].split()
    assert float(row["dC_dm_matches_autograd"]) == pytest.approx(1.0, abs=0.2)   # half of 2 points
