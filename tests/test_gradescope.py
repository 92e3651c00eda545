"""The Gradescope bundle: its layout, and run_autograder on the sample class against msegrad grade.

One grading run for the module: every submission's run_autograder starts at
once (each in its own temporary folder standing in for /autograder), and
``msegrad grade`` (batch.grade_paths) grades the same notebooks meanwhile.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder import batch, gradescope, spec

ROOT = Path(__file__).resolve().parent.parent
CLASS = ROOT / "examples" / "class"
SEED = 4242   # not the course's default: the bundle's seed must reach the checks
# student -> what the sample shows (examples/submissions.py)
SAMPLES = {
    "ada": "correct",
    "barbara": "a mistake: the factor 2 missing in dC/dm",
    "peter": "untouched stubs",
    "radia": "a crash: dC/db indexes past the end",
    "tim": "sgd aborts its process",
}
NOT_JSON = "not-json"          # a file named .ipynb that is not a notebook
NO_NOTEBOOK = "no-notebook"    # no .ipynb at all
LATE = "late"                  # ada's notebook, submitted a day and a half after course.toml's due date


def _metadata(root: Path, created_at: str) -> None:
    """What Gradescope writes beside submission/ (its own due date differs: the course's wins)."""
    (root / "submission_metadata.json").write_text(json.dumps(
        {"created_at": created_at, "assignment": {"due_date": "2030-01-01T00:00:00.000000-08:00"}}))


def _public(version: str) -> str:
    """Without the local tag: 2.13.0+cpu and 2.13.0+cu130 are both 2.13.0 (metadata may lack the tag)."""
    return version.split("+")[0]


def _validator():
    schema = json.loads(gradescope.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return gradescope.build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip", seed=SEED)


def _fake_root(folder: Path, bundle: Path) -> Path:
    """A folder laid out like Gradescope's /autograder: source/ (the bundle) and venv/bin/python."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder / "source")
    for name in ("run_autograder", "setup.sh"):   # extractall drops the mode bits; Gradescope keeps them
        (folder / "source" / name).chmod(0o755)
    python = folder / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    python.chmod(0o755)
    (folder / "submission").mkdir()
    return folder


@pytest.fixture(scope="module")
def graded(bundle, tmp_path_factory):
    """{case: results.json as a dict} from run_autograder, and msegrad grade's CSV rows for the same notebooks."""
    base = tmp_path_factory.mktemp("gradescope")
    roots, notebooks = {}, []
    for student in SAMPLES:
        root = _fake_root(base / student, bundle)
        source = CLASS / student / spec.ASSIGNMENT / spec.NOTEBOOK
        shutil.copy(source, root / "submission" / spec.NOTEBOOK)
        roots[student] = root
        notebooks.append(source)
    _metadata(roots["ada"], "2027-01-15T23:58:00.000000+00:00")
    roots[LATE] = _fake_root(base / LATE, bundle)
    shutil.copy(CLASS / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK, roots[LATE] / "submission" / spec.NOTEBOOK)
    _metadata(roots[LATE], "2027-01-17T11:59:00.000000+00:00")
    roots[NOT_JSON] = _fake_root(base / NOT_JSON, bundle)
    (roots[NOT_JSON] / "submission" / spec.NOTEBOOK).write_text("%PDF-1.4 a printout, not a notebook\n")
    copy = base / "class" / NOT_JSON / spec.ASSIGNMENT / spec.NOTEBOOK
    copy.parent.mkdir(parents=True)
    shutil.copy(roots[NOT_JSON] / "submission" / spec.NOTEBOOK, copy)
    notebooks.append(copy)
    roots[NO_NOTEBOOK] = _fake_root(base / NO_NOTEBOOK, bundle)
    (roots[NO_NOTEBOOK] / "submission" / "mse_gradient.py").write_text("def dC_dyhat(yhat, y): ...\n")

    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("MSEGRAD_")}
    processes = {}
    for case, root in roots.items():
        processes[case] = subprocess.Popen(
            [str(root / "source" / "run_autograder")], cwd=root,
            env={**environment, gradescope.ROOT_VARIABLE: str(root)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    csv_path = base / "grades.csv"
    summary = {}
    thread = threading.Thread(target=lambda: summary.update(
        done=batch.grade_paths(notebooks, csv_path, jobs=1, seed=SEED, limits=batch.Limits(), progress=False)))
    thread.start()
    logs = {case: process.communicate(timeout=600)[0] for case, process in processes.items()}
    thread.join(600)
    results = {}
    for case, root in roots.items():
        path = root / "results" / "results.json"
        assert path.exists(), f"{case}: no results.json; run_autograder said:\n{logs[case]}"
        results[case] = json.loads(path.read_text())
    rows = {row["student"]: row for row in batch.read_csv(csv_path)}
    return {"results": results, "rows": rows, "logs": logs, "roots": roots}


# --- the bundle ---------------------------------------------------------------------------

def test_bundle_has_setup_and_run_autograder_at_the_root_and_executable(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for name in ("setup.sh", "run_autograder"):
        assert name in infos, f"{name} is not at the zip's root"
        mode = infos[name].external_attr >> 16
        assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, f"{name} is not executable ({oct(mode)})"
    assert not any(name.endswith("/setup.sh") for name in infos), "a second setup.sh inside a folder"


def test_bundle_carries_the_whole_package_source_and_no_caches(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    package = ROOT / "autograder"
    expected = {f"{gradescope.SOURCE_DIR}/autograder/{path.relative_to(package).as_posix()}"
                for path in package.rglob("*.py") if "__pycache__" not in path.parts}
    assert expected <= names, sorted(expected - names)
    assert f"{gradescope.SOURCE_DIR}/autograder/gradescope/results.schema.json" in names
    assert f"{gradescope.SOURCE_DIR}/pyproject.toml" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_setup_pins_cpu_torch_and_every_requirement(bundle):
    import torch
    with zipfile.ZipFile(bundle) as archive:
        setup = archive.read("setup.sh").decode()
        requirements = archive.read("requirements.txt").decode().split()
        config = json.loads(archive.read(gradescope.CONFIG_NAME))
    version = _public(torch.__version__)
    assert f'"torch=={version}" --index-url https://download.pytorch.org/whl/cpu' in setup
    assert "bubblewrap" in setup and "apt-get install" in setup
    assert sorted(name.split("==")[0] for name in requirements) == sorted(gradescope.RUNTIME_PACKAGES)
    assert all("==" in line for line in requirements)
    assert config["seed"] == SEED
    # numpy 2.4 and matplotlib 3.11 need Python 3.11: setup.sh must not build on an older one.
    minimum = gradescope.python_minimum()
    assert f"PYTHON_MIN={minimum}\n" in setup
    assert (3, 10) <= tuple(map(int, minimum.split("."))) <= sys.version_info[:2]


def test_bundle_scripts_are_valid_bash(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    for name in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_cli_builds_the_bundle(tmp_path, capsys):
    from autograder.cli import main
    assert main(["gradescope", "--out", str(tmp_path / "a.zip"), "--seed", "7", "--timeout", "20"]) == 0
    assert "wrote" in capsys.readouterr().out
    config = gradescope.read_config_from_zip(tmp_path / "a.zip")
    assert config == {"assignment": "mse-gradient", "seed": 7, "limits": {"function_timeout": 20.0}}
    assert main(["gradescope", "--out", str(tmp_path / "missing" / "a.zip")]) == 2


# --- run_autograder -----------------------------------------------------------------------

@pytest.mark.parametrize("case", [*SAMPLES, NOT_JSON, NO_NOTEBOOK])
def test_results_validate_against_the_specification(graded, case):
    result = graded["results"][case]
    _validator().validate(result)
    assert [test["name"].split(":")[0] for test in result["tests"]] == [cell.id for cell in spec.GRADE_CELLS]
    for test, cell in zip(result["tests"], spec.GRADE_CELLS):
        assert test["max_score"] == cell.points
        assert test["visibility"] == ("visible" if cell.visible else "after_due_date")
        assert test["status"] == ("passed" if test["score"] >= cell.points else "failed")
        assert test["output_format"] == "md" and test["output"]
    assert result["score"] == pytest.approx(sum(test["score"] for test in result["tests"]), abs=0.011)


@pytest.mark.parametrize("case", [*SAMPLES, NOT_JSON])
def test_scores_equal_msegrad_grade(graded, case):
    result, row = graded["results"][case], graded["rows"][case]
    assert result["score"] == float(row["score"])
    for test in result["tests"]:
        cell_id = test["extra_data"]["cell_id"]
        assert test["score"] == float(row[cell_id]), cell_id
    flags = row["flags"].split()
    assert result["extra_data"]["flags"] == flags


def test_correct_and_mistaken_and_stub_scores(graded):
    results = graded["results"]
    assert results["ada"]["score"] == spec.MAX_SCORE
    assert all(test["status"] == "passed" for test in results["ada"]["tests"])
    assert results["peter"]["score"] == 0
    barbara = {test["extra_data"]["cell_id"]: test for test in results["barbara"]["tests"]}
    for cell in spec.cells_for("dC_dm"):
        assert barbara[cell.id]["score"] == 0
        assert barbara[cell.id]["extra_data"]["mistake"] == "missing_two"
        assert "`missing_two`" in barbara[cell.id]["output"]
        assert "factor 2" in barbara[cell.id]["output"]
    assert results["barbara"]["score"] == spec.MAX_SCORE - sum(cell.points for cell in spec.cells_for("dC_dm"))


def test_a_process_killed_by_the_student_costs_only_its_function(graded):
    tim = graded["results"]["tim"]
    by_function = {}
    for test in tim["tests"]:
        by_function.setdefault(spec.CELLS_BY_ID[test["extra_data"]["cell_id"]].function, []).append(test["score"])
    assert sum(by_function["sgd"]) == 0
    assert all(sum(by_function[name]) == sum(c.points for c in spec.cells_for(name)) for name in ("dC_dyhat", "dC_dm"))
    assert tim["extra_data"]["flags"]


def test_not_a_notebook_scores_zero_and_says_why(graded):
    not_json = graded["results"][NOT_JSON]
    assert not_json["score"] == 0
    assert "not valid JSON" in not_json["tests"][0]["output"]
    missing = graded["results"][NO_NOTEBOOK]
    assert missing["score"] == 0
    assert "No Jupyter notebook" in missing["output"] and "`mse_gradient.py`" in missing["output"]
    assert missing["extra_data"]["submitted"] == ["mse_gradient.py"]


def test_extra_data_replays_with_one_command(graded):
    import numpy
    import torch
    result = graded["results"]["barbara"]
    extra = result["extra_data"]
    assert extra["seed"] == SEED
    assert _public(extra["versions"]["torch"]) == _public(torch.__version__)
    assert extra["versions"]["numpy"] == numpy.__version__
    assert set(extra["versions"]) == {"python", "torch", "numpy", "msegrad"}
    replay = extra["replay"]
    assert replay == f"MSEGRAD_SEED={SEED} msegrad grade {spec.NOTEBOOK} --csv replay.csv"
    # Students see `output`: neither the seed nor the command that rebuilds the hidden cases.
    assert replay not in result["output"] and str(SEED) not in result["output"]
    assert f"replay: {replay}" in graded["logs"]["barbara"]
    # The command is one msegrad grade can parse.
    import argparse
    from autograder.cli import grade
    parser = grade.add_parser(argparse.ArgumentParser().add_subparsers())
    args = parser.parse_args(shlex.split(replay)[3:])
    assert args.paths == [spec.NOTEBOOK] and args.csv == "replay.csv"


def test_run_autograder_without_a_working_python_still_writes_a_result(bundle, tmp_path):
    root = _fake_root(tmp_path, bundle)
    (root / "venv" / "bin" / "python").write_text("#!/bin/sh\nexit 3\n")
    shutil.copy(CLASS / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK, root / "submission")
    subprocess.run([str(root / "source" / "run_autograder")], cwd=root, check=True, capture_output=True,
                   env={**os.environ, gradescope.ROOT_VARIABLE: str(root)})
    result = json.loads((root / "results" / "results.json").read_text())
    _validator().validate(result)
    assert result["score"] == 0 and "status 3" in result["output"]


# --- pieces ------------------------------------------------------------------------------

def test_find_notebook_prefers_the_course_notebook_and_skips_checkpoints(tmp_path):
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / spec.NOTEBOOK).write_text("{}")
    (tmp_path / "aaa.ipynb").write_text("{}")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / spec.NOTEBOOK).write_text("{}")
    found, files = gradescope.find_notebook(tmp_path)
    assert found == tmp_path / "work" / spec.NOTEBOOK
    assert files == ["aaa.ipynb", f"work/{spec.NOTEBOOK}"]
    (tmp_path / "work" / spec.NOTEBOOK).unlink()
    assert gradescope.find_notebook(tmp_path)[0] == tmp_path / "aaa.ipynb"
    assert gradescope.find_notebook(tmp_path / "absent") == (None, [])


def test_markdown_escaping_keeps_student_text_literal():
    assert gradescope.md_escape("a*b_c <script> [x](y) `z`") == r"a\*b\_c \<script\> \[x\](y) \`z\`"
    assert gradescope.md_code("mse_gradient.ipynb") == "`mse_gradient.ipynb`"
    assert gradescope.md_code("a`b") == "``a`b``"
    assert gradescope.md_code("`x\ny") == "`` `x y ``"


def test_bundled_source_installs_as_a_package_with_its_data(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "source")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(tmp_path / "site"), str(tmp_path / "source" / gradescope.SOURCE_DIR)],
        capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    installed = tmp_path / "site" / "autograder"
    assert (installed / "gradescope" / "results.schema.json").exists()
    assert (installed / "worker.py").exists() and (installed / "cli" / "gradescope.py").exists()


def test_root_is_overridable_only_by_its_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(gradescope.ROOT_VARIABLE, raising=False)
    assert gradescope.root_folder() == Path("/autograder")
    monkeypatch.setenv(gradescope.ROOT_VARIABLE, str(tmp_path))
    assert gradescope.root_folder() == tmp_path


def test_a_notebook_without_answer_cells_scores_zero_through_the_cli(tmp_path, capsys):
    import nbformat
    from autograder.cli import main
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def dC_dyhat(yhat, y):\n    return 0\n")])
    (tmp_path / "submission").mkdir()
    nbformat.write(node, tmp_path / "submission" / "homework.ipynb")
    assert main(["gradescope", "--run", str(tmp_path)]) == 0
    assert "score 0 / " in capsys.readouterr().out
    result = json.loads((tmp_path / "results" / "results.json").read_text())
    _validator().validate(result)
    assert result["score"] == 0 and result["extra_data"]["flags"] == ["no-answers"]
    assert all("no answer cells" in test["output"] for test in result["tests"])
    assert "homework.ipynb" in result["extra_data"]["replay"]


def test_without_a_sandbox_student_code_runs_as_nobody_not_root(tmp_path, monkeypatch):
    """Gradescope's container may refuse bubblewrap: then the worker must not run student code as root."""
    import nbformat
    from autograder.sandbox import Mode
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv")
    if not gradescope._runs(gradescope._unprivileged_python(tmp_path)):
        pytest.skip(f"nobody cannot reach {sys.executable} (this checkout sits in a folder closed to other users)")
    # Not under /tmp: each submission gets a /tmp of its own, even unsandboxed where namespaces work.
    witness = Path(tempfile.mkdtemp(prefix="msegrad-witness-", dir="/var/tmp"))
    witness.chmod(0o777)
    try:
        node = nbformat.read(CLASS / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK, as_version=4)
        results = tmp_path / "results"
        node.cells.append(nbformat.v4.new_code_cell(
            "import os\n"
            f"open({str(witness / 'uid')!r}, 'w').write(str(os.getuid()))\n"
            "try:\n"
            f"    open({str(results / 'results.json')!r}, 'w').write('{{\"score\": 99}}')\n"
            "except OSError:\n"
            "    pass\n"))
        (tmp_path / "submission").mkdir()
        nbformat.write(node, tmp_path / "submission" / spec.NOTEBOOK)
        results.mkdir()
        monkeypatch.setattr("autograder.sandbox.choose_mode", lambda want="auto": Mode("none", "refused by the test"))
        assert gradescope.main(tmp_path) == 0
        result = json.loads((results / "results.json").read_text())
        assert (witness / "uid").read_text() == str(gradescope.NOBODY)
        assert result["score"] == spec.MAX_SCORE
        assert result["extra_data"]["flags"] == ["unsandboxed"]
        assert result["extra_data"]["unsandboxed"]["student_code_user"] == "nobody"
    finally:
        shutil.rmtree(witness, ignore_errors=True)


def test_when_nobody_cannot_run_python_grading_goes_on_as_root_and_says_so(tmp_path, monkeypatch, capsys):
    from autograder.sandbox import Mode
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv")
    (tmp_path / "submission").mkdir()
    shutil.copy(CLASS / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK, tmp_path / "submission" / spec.NOTEBOOK)
    monkeypatch.setattr("autograder.sandbox.choose_mode", lambda want="auto": Mode("none", "refused by the test"))
    monkeypatch.setattr(gradescope, "_runs", lambda python: False)
    assert gradescope.main(tmp_path) == 0
    result = json.loads((tmp_path / "results" / "results.json").read_text())
    assert result["score"] == spec.MAX_SCORE
    assert result["extra_data"]["unsandboxed"]["student_code_user"] == "root"
    assert "nobody cannot run" in capsys.readouterr().err


def test_the_bundle_carries_the_course_settings(bundle):
    from autograder import config
    with zipfile.ZipFile(bundle) as archive:
        assert archive.read(gradescope.COURSE_NAME) == config.path().read_bytes()


def test_a_late_submission_loses_the_course_s_penalty_per_day(graded):
    from autograder import config
    deadline = config.settings()["deadline"]
    on_time, late = graded["results"]["ada"], graded["results"][LATE]
    assert on_time["extra_data"]["late"]["days"] == 0 and on_time["score"] == spec.MAX_SCORE
    _validator().validate(late)
    assert late["extra_data"]["late"]["days"] == 2
    kept = 1 - 2 * deadline["late_penalty_per_day"]
    assert late["score"] == pytest.approx(spec.MAX_SCORE * kept)
    assert sum(test["score"] for test in late["tests"]) == spec.MAX_SCORE   # each check keeps its points
    assert late["output"].startswith("**Late by 2 days**")


@pytest.mark.parametrize("created_at, days, factor", [
    ("2027-01-15T23:59:00Z", 0, 1.0), ("2027-01-16T00:00:01Z", 1, 0.9),
    ("2027-01-18T23:59:00Z", 3, 0.7), ("2027-01-18T23:59:01Z", 4, 0.0),
])
def test_the_late_policy_counts_a_part_of_a_day_as_a_day(tmp_path, monkeypatch, created_at, days, factor):
    from autograder import config
    monkeypatch.setattr(config, "_settings", config.validate({"deadline": {
        "due": "2027-01-15T23:59:00Z", "late_penalty_per_day": 0.1, "late_days_max": 3}}))
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"created_at": created_at}))
    results = {"score": 10.0, "output": "", "extra_data": {}}
    gradescope.apply_late_policy(results, tmp_path)
    assert results["extra_data"]["late"]["days"] == days
    assert results["score"] == pytest.approx(10.0 * factor)


# --- another assignment's bundle ------------------------------------------------------------

def test_a_bundle_for_the_second_assignment_grades_it_and_names_it(tmp_path):
    """--assignment: the bundle grades mse-gradient-vector, results.json names it, the points are msegrad grade's."""
    from autograder import assignments
    unit = assignments.get("mse-gradient-vector")
    vector_class = Path(__file__).resolve().parents[1] / "examples" / "vector_class"
    archive = gradescope.build_bundle(tmp_path / "vector.zip", seed=SEED, assignment=unit.name)
    assert gradescope.read_config_from_zip(archive)["assignment"] == unit.name
    results, notebooks = {}, []
    for student in ("emmy", "tomas"):     # correct, and grad_w without its 2
        root = _fake_root(tmp_path / student, archive)
        source = vector_class / student / unit.name / unit.spec.NOTEBOOK
        shutil.copy(source, root / "submission" / unit.spec.NOTEBOOK)
        notebooks.append(source)
        environment = {key: value for key, value in os.environ.items() if not key.startswith("MSEGRAD_")}
        run = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                             env={**environment, gradescope.ROOT_VARIABLE: str(root)}, timeout=600)
        path = root / "results" / "results.json"
        assert path.exists(), run.stdout[-3000:] + run.stderr[-3000:]
        results[student] = json.loads(path.read_text())
    batch.grade_paths(notebooks, tmp_path / "grades.csv", jobs=1, seed=SEED, limits=batch.Limits(),
                      progress=False, quiet=True, assignment=unit)
    rows = {row["student"]: row for row in batch.read_csv(tmp_path / "grades.csv")}
    for student, result in results.items():
        _validator().validate(result)
        assert result["extra_data"]["assignment"] == unit.name
        assert f"`{unit.name}`" in result["output"]
        assert [test["name"].split(":")[0] for test in result["tests"]] == [cell.id for cell in unit.spec.GRADE_CELLS]
        assert result["score"] == pytest.approx(float(rows[student]["score"]))
    assert results["emmy"]["score"] == unit.spec.MAX_SCORE
    named = {test["extra_data"]["mistake"] for test in results["tomas"]["tests"] if test["status"] == "failed"}
    assert named == {"missing_two"}
