"""Gradescope: build the autograder bundle, and grade one submission the way Gradescope runs it.

``build_bundle`` writes the zip Gradescope asks for: ``setup.sh`` and
``run_autograder`` at its root, the ``autograder`` package's source and the
pinned requirements beside them. ``setup.sh`` runs once, when Gradescope
builds its image (the only time anything is downloaded); ``run_autograder``
runs once per submission and calls ``main`` here, which grades the notebook
in ``<root>/submission/`` with the same sandbox, checks and points as
``msegrad grade`` (``autograder.batch.grade_submission``) and writes
``<root>/results/results.json`` in Gradescope's format
(``results.schema.json`` beside this file). The root is ``/autograder``;
``$MSEGRAD_GRADESCOPE_ROOT`` moves it, for tests.
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import shlex
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from autograder import assignments, spec

DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "MSEGRAD_GRADESCOPE_ROOT"
HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "results.schema.json"
CONFIG_NAME = "msegrad.json"          # the bundle's grading settings, next to setup.sh
COURSE_NAME = "course.toml"           # the course's settings (autograder.config), next to it
METADATA_NAME = "submission_metadata.json"   # what Gradescope says about the submission, in the root
SOURCE_DIR = "msegrad"                # the package's source inside the bundle
# The project's runtime dependencies, pinned at bundle time to the versions
# that graded here (torch comes separately: a CPU build from its own index).
RUNTIME_PACKAGES = ("numpy", "matplotlib", "nbformat", "tqdm")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# Limits a bundle may fix, and the environment variables that override them (as in batch.Limits).
LIMIT_VARIABLES = {"function_timeout": "MSEGRAD_TIMEOUT", "top_timeout": "MSEGRAD_TOP_TIMEOUT",
                   "memory_mb": "MSEGRAD_MEMORY_MB"}
# Gradescope lets the visible checks show at once and hides the rest until the due date.
VISIBLE, HIDDEN = "visible", "after_due_date"
MAX_LISTED_FILES = 20
# Gradescope runs the autograder as root in a container that may not allow
# bubblewrap's namespaces. The grader then falls back to plain child
# processes; run as root, student code could rewrite results.json or kill the
# grader. So without the sandbox the worker is started as this user instead.
NOBODY = 65534

DROP_PRIVILEGES = r"""#!/bin/sh
# Starts the grading worker as nobody (uid {uid}) when no sandbox is available:
# its scratch folder is handed over first. Left alone when the worker is told
# to drop privileges itself (--student-id).
for arg in "$@"; do
  [ "$arg" = "--student-id" ] && exec {python} "$@"
done
previous=""
for arg in "$@"; do
  if [ "$previous" = "--scratch" ]; then
    chown {uid}:{uid} "$(dirname "$arg")" || exit 126
  fi
  previous="$arg"
done
exec setpriv --reuid={uid} --regid={uid} --clear-groups --inh-caps=-all --bounding-set=-all \
  --no-new-privs -- {python} "$@"
"""


# --- the bundle ---------------------------------------------------------------------------

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Everything grading needs is installed here; run_autograder downloads nothing.
set -euxo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV=/autograder/venv

# The oldest Python every pinned package supports (their Requires-Python).
PYTHON_MIN={python_min}

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap: the sandbox student code runs in (without it the grader falls back
# to resource limits only and flags every result `unsandboxed`).
apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap
PYTHON=python3
if ! python3 -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$PYTHON_MIN'.split('.'))))"; then
  # The image's Python is older than the pinned packages need (Ubuntu 22.04 has 3.10).
  apt-get install -y -qq --no-install-recommends software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "python$PYTHON_MIN" "python$PYTHON_MIN-venv"
  PYTHON="python$PYTHON_MIN"
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch first, a CPU build pinned to the version the course was graded with:
# a bare `torch` requirement would pull a multi-gigabyte CUDA build.
"$VENV/bin/python" -m pip install -q "torch=={torch}" --index-url {torch_index}
"$VENV/bin/python" -m pip install -q -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install -q --no-deps "$SOURCE/{source_dir}"

# Fail the image build now, not at the first submission, if anything is missing;
# and say in the build log whether the sandbox works in this container.
"$VENV/bin/python" -I -c 'import torch, numpy, nbformat, autograder.gradescope, autograder.worker; print("torch", torch.__version__)'
"$VENV/bin/python" -I -c 'from autograder.sandbox import choose_mode; mode = choose_mode(); print("sandbox:", mode.name, mode.reason)'
# The grader runs as root; student code never needs the bundle (the package is in
# the venv), so keep the seed and settings out of its reach if it runs unsandboxed.
chmod -R go-rwx "$SOURCE"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in /autograder: grade the
# notebook in submission/ and write results/results.json. Nothing is downloaded.
# $MSEGRAD_GRADESCOPE_ROOT stands in for /autograder in the course's tests.
set -u
ROOT="${MSEGRAD_GRADESCOPE_ROOT:-/autograder}"
export MSEGRAD_GRADESCOPE_ROOT="$ROOT"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
chmod 700 "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT"
# The course's settings travel in the bundle: points, limits, cases, deadline.
if [ -z "${MSEGRAD_CONFIG:-}" ] && [ -f "$ROOT/source/course.toml" ]; then
  export MSEGRAD_CONFIG="$ROOT/source/course.toml"
fi
status=0
"$ROOT/venv/bin/python" -I -c 'import sys; from autograder.gradescope import main; sys.exit(main())' || status=$?
if [ ! -s "$RESULTS" ]; then
  # The grader itself failed (not the student's code, which runs in a sandbox):
  # still hand Gradescope a valid result that says so.
  printf '{"score": 0, "output": "The autograder failed before it could grade this submission (status %s). This is not a problem with your notebook: please tell the course staff.", "output_format": "text", "tests": []}\n' "$status" > "$RESULTS"
fi
exit 0
"""


def _pinned_versions() -> dict[str, str]:
    from importlib import metadata
    versions = {}
    for name in ("torch", *RUNTIME_PACKAGES):
        versions[name] = metadata.version(name).split("+")[0]   # 2.13.0+cpu -> 2.13.0
    return versions


def python_minimum() -> str:
    """The oldest Python (major.minor) that every pinned package supports, from their Requires-Python."""
    from importlib import metadata
    oldest = (3, 10)   # the project's own requires-python
    for name in ("torch", *RUNTIME_PACKAGES):
        requirement = metadata.metadata(name).get("Requires-Python") or ""
        for major, minor in re.findall(r">=\s*(\d+)\.(\d+)", requirement):
            oldest = max(oldest, (int(major), int(minor)))
    return f"{oldest[0]}.{oldest[1]}"


def _package_version() -> str:
    from importlib import metadata
    try:
        return metadata.version("msegrad")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _bundle_pyproject(version: str) -> str:
    """A pyproject for the package alone: no lessons, videos or nbgrader, dependencies pinned separately."""
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "msegrad"
version = "{version}"
description = "The isolated grader of the mse-gradient course, as installed by its Gradescope bundle."
requires-python = ">=3.10"
dependencies = []   # installed from ../requirements.txt (pinned) and torch's CPU index

[project.scripts]
msegrad = "autograder.cli:main"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["*.json", "templates/*", "gradescope/*"]
'''


def _package_files():
    """(path in the bundle, file on disk) for every file of the autograder package."""
    package = HERE.parent
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        yield f"{SOURCE_DIR}/autograder/{relative.as_posix()}", path


def _zip_text(archive: zipfile.ZipFile, name: str, text: str | bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.create_system = 3   # Unix, so unzip honours the mode bits
    archive.writestr(info, text)


def build_bundle(out: str | os.PathLike, *, seed: int | None = None, function_timeout: float | None = None,
                 top_timeout: float | None = None, memory_mb: int | None = None, assignment: str | None = None) -> Path:
    """Write the Gradescope autograder zip to `out`; returns its path.

    seed: the seed of the random check cases (default: $MSEGRAD_SEED or the
    course's). The limits default to ``msegrad grade``'s. They are stored in
    ``msegrad.json`` in the bundle, so every submission is graded alike and
    can be replayed with ``msegrad grade``.
    """
    from autograder.cases import seed_from_env
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out} is a folder: name the zip file to write")
    if not out.parent.exists():
        raise ValueError(f"the folder {out.parent} does not exist")
    versions = _pinned_versions()
    config = {"assignment": assignments.get(assignment).name, "seed": seed_from_env(seed), "limits": {}}
    for name, value in (("function_timeout", function_timeout), ("top_timeout", top_timeout),
                        ("memory_mb", memory_mb)):
        if value is not None:
            config["limits"][name] = value
    version = _package_version()
    requirements = "".join(f"{name}=={versions[name]}\n" for name in RUNTIME_PACKAGES)
    temporary = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        _zip_text(archive, "setup.sh", SETUP_SH.format(torch=versions["torch"], torch_index=TORCH_INDEX,
                                                       source_dir=SOURCE_DIR, python_min=python_minimum()),
                  executable=True)
        _zip_text(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _zip_text(archive, "requirements.txt", requirements)
        _zip_text(archive, CONFIG_NAME, json.dumps(config, indent=2) + "\n")
        from autograder import config as course_config
        if course_config.path().exists():
            _zip_text(archive, COURSE_NAME, course_config.path().read_bytes())
        _zip_text(archive, f"{SOURCE_DIR}/pyproject.toml", _bundle_pyproject(version))
        for name, path in _package_files():
            _zip_text(archive, name, path.read_bytes())
    os.replace(temporary, out)
    return out


# --- grading one submission ---------------------------------------------------------------

def root_folder(root: str | os.PathLike | None = None) -> Path:
    """The folder Gradescope calls /autograder ($MSEGRAD_GRADESCOPE_ROOT in tests)."""
    return Path(root or os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)


def read_config(root: Path) -> dict:
    """The bundle's msegrad.json (seed and limits), or {} when absent or unreadable."""
    try:
        data = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_config_from_zip(bundle: str | os.PathLike) -> dict:
    """A built bundle's msegrad.json."""
    with zipfile.ZipFile(bundle) as archive:
        return json.loads(archive.read(CONFIG_NAME))


def find_notebook(submission: Path, name: str = spec.NOTEBOOK) -> tuple[Path | None, list[str]]:
    """(the notebook to grade, every file submitted, relative): mse_gradient.ipynb first, else any *.ipynb.

    Among several candidates the shallowest wins, then the name order;
    Jupyter's checkpoint copies are never graded.
    """
    files = []
    if submission.is_dir():
        for path in submission.rglob("*"):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                files.append(path)
    files.sort(key=lambda path: (len(path.relative_to(submission).parts), str(path)))
    listed = [path.relative_to(submission).as_posix() for path in files]
    for wanted in (lambda p: p.name == name, lambda p: p.name.lower().endswith(".ipynb")):
        for path in files:
            if wanted(path):
                return path, listed
    return None, listed


def versions() -> dict[str, str]:
    """The versions that decide a grade (read from the installed distributions: no torch import)."""
    from importlib import metadata
    return {"python": platform.python_version(), "torch": metadata.version("torch"),
            "numpy": metadata.version("numpy"), "msegrad": _package_version()}


def replay_command(seed: int, notebook_name: str, limits) -> str:
    """The one command that grades the same notebook again, outside Gradescope, to the same points."""
    from autograder.batch import Limits
    default = Limits()
    command = f"MSEGRAD_SEED={seed} msegrad grade {shlex.quote(notebook_name)} --csv replay.csv"
    for option, name in (("--timeout", "function_timeout"), ("--top-timeout", "top_timeout"),
                         ("--memory-mb", "memory_mb")):
        if getattr(limits, name) != getattr(default, name):
            command += f" {option} {getattr(limits, name):g}"
    return command


_MARKDOWN_SPECIAL = set("\\`*_{}[]<>#|~&!")


def md_escape(text: str) -> str:
    """Plain text shown literally in Gradescope's Markdown (messages quote the student's code)."""
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in str(text))


def md_code(text: str) -> str:
    """Text as a Markdown code span, whatever backticks it holds (backslashes are literal in code spans)."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _test_number(cell: spec.GradeCell, own=spec) -> str:
    function_index = own.FUNCTIONS.index(cell.function) + 1
    cell_index = own.cells_for(cell.function).index(cell) + 1
    return f"{function_index}.{cell_index}"


def _test(cell: spec.GradeCell, points: float, message: str, mistake: str | None, own=spec) -> dict:
    points = float(points)
    passed = points >= cell.points
    lines = []
    if not passed and mistake:
        lines.append(f"**Mistake:** {md_code(mistake)}")
    lines.append(md_escape(message))
    return {
        "name": f"{cell.id}: {cell.description}",
        "number": _test_number(cell, own),
        "score": points,
        "max_score": float(cell.points),
        "status": "passed" if passed else "failed",
        "output": "\n\n".join(lines),
        "output_format": "md",
        "visibility": VISIBLE if cell.visible else HIDDEN,
        "extra_data": {"cell_id": cell.id, "function": cell.function, "mistake": None if passed else mistake},
    }


def results_from_graded(graded, *, seed: int, notebook_name: str, limits, mode_name: str,
                        seconds: float, submitted: list[str] | None = None) -> dict:
    """Gradescope's results.json for one batch.Graded."""
    by_id = {result.cell_id: result for result in graded.results}
    unit = assignments.get(getattr(graded, "assignment", None))
    own = unit.spec
    tests = []
    for cell in own.GRADE_CELLS:
        result = by_id.get(cell.id)
        points = float(graded.row.get(cell.id, 0) or 0)   # the CSV's points: identical to msegrad grade's
        message = result.message if result is not None else "no result"
        tests.append(_test(cell, points, message, result.mistake if result is not None else "error", own))
    score = float(graded.row["score"])
    replay = replay_command(seed, notebook_name, limits)
    lines = [f"**Score: {score:g} / {own.MAX_SCORE:g}** for {md_code(notebook_name)} ({md_code(unit.name)}). "
             "Checks marked hidden are shown after the due date."]
    if graded.flags:
        lines.append("**Flags:** " + ", ".join(md_code(flag) for flag in graded.flags))
    for note in graded.notes[:10]:
        lines.append("- " + md_escape(note[:500]))
    if submitted and len(submitted) > 1:
        lines.append(f"Graded {md_code(notebook_name)} of {len(submitted)} submitted files.")
    # The seed and the replay command stay in extra_data and the autograder's log,
    # which only instructors see: with the seed, a student could rebuild the hidden cases.
    return {
        "score": score,
        "execution_time": int(math.ceil(seconds)),
        "output": "\n\n".join(lines),
        "output_format": "md",
        "tests": tests,
        "extra_data": {
            "assignment": unit.name,
            "seed": seed,
            "versions": versions(),
            "replay": replay,
            "notebook": notebook_name,
            "flags": list(graded.flags),
            "sandbox": mode_name,
            "limits": {"function_timeout": limits.function_timeout, "top_timeout": limits.top_timeout,
                       "memory_mb": limits.memory_mb},
            "student_seconds": round(float(graded.student_seconds), 3),
            "seconds": round(seconds, 3),
        },
    }


def _zero_results(message: str, mistake: str, *, seed: int, seconds: float, output: str,
                  extra: dict | None = None, unit=None) -> dict:
    unit = assignments.get(unit)
    tests = [_test(cell, 0.0, message, mistake, unit.spec) for cell in unit.spec.GRADE_CELLS]
    extra_data = {"assignment": unit.name, "seed": seed, "versions": versions(), "flags": [mistake]}
    extra_data.update(extra or {})
    return {"score": 0.0, "execution_time": int(math.ceil(seconds)), "output": output,
            "output_format": "md", "tests": tests, "extra_data": extra_data}


def _limits(config: dict):
    """batch.Limits: the defaults, then the bundle's, then the environment's (tests)."""
    from autograder.batch import Limits
    overrides = {}
    for name, value in (config.get("limits") or {}).items():
        if name in LIMIT_VARIABLES and not os.environ.get(LIMIT_VARIABLES[name]):
            overrides[name] = value
    limits = Limits.from_env()
    for name, value in overrides.items():
        setattr(limits, name, type(getattr(limits, name))(value))
    return limits


def grade(root: str | os.PathLike | None = None) -> dict:
    """Grade <root>/submission/ and return results.json's content (nothing written)."""
    started = time.monotonic()
    root = root_folder(root)
    config = read_config(root)
    from autograder.cases import seed_from_env
    seed = seed_from_env(None if os.environ.get("MSEGRAD_SEED") else config.get("seed"))
    unit = assignments.get(config.get("assignment") or None)
    notebook, submitted = find_notebook(root / "submission", unit.spec.NOTEBOOK)
    if notebook is None:
        shown = ", ".join(md_code(name) for name in submitted[:MAX_LISTED_FILES])
        more = f" and {len(submitted) - MAX_LISTED_FILES} more" if len(submitted) > MAX_LISTED_FILES else ""
        why = (f"No Jupyter notebook (.ipynb) was submitted, so nothing could be graded. "
               f"Submit {unit.spec.NOTEBOOK}, the notebook released by the course.")
        files = f"Files received: {shown}{more}." if submitted else "No files were received."
        return _zero_results(why, "no-notebook", seed=seed, seconds=time.monotonic() - started,
                             output=f"**Score: 0 / {unit.spec.MAX_SCORE:g}.** {md_escape(why)}\n\n{files}",
                             extra={"submitted": submitted[:100]}, unit=unit)

    from autograder import batch, judge, mistakes, reference   # noqa: F401  (loaded before any student code runs)
    from autograder.sandbox import Options, Sandbox, choose_mode
    limits = _limits(config)
    mode = choose_mode("auto")
    if not mode.sandboxed:
        print(f"msegrad: grading WITHOUT a sandbox: {mode.reason}; the result is flagged `unsandboxed`",
              file=sys.stderr)
    options = Options(hide=[os.path.realpath(path) for path in (root, os.getcwd())],
                      env={"MSEGRAD_SEED": str(seed)})
    with tempfile.TemporaryDirectory(prefix="msegrad-gradescope-") as private:
        user = "root" if os.geteuid() == 0 else str(os.geteuid())
        if not mode.sandboxed and os.geteuid() == 0 and shutil.which("setpriv"):
            unprivileged = _unprivileged_python(Path(private))
            if _runs(unprivileged):
                options.python = unprivileged
                user = "nobody"
            else:
                print(f"msegrad: nobody cannot run {sys.executable} (a folder on its path is closed to other "
                      f"users); student code runs as root", file=sys.stderr)
        box = Sandbox(mode, options)
        try:
            graded = batch.grade_submission(box, batch.Submission("submission", notebook), seed, limits,
                                            mode.sandboxed, unit)
        finally:
            box.stop()
    results = results_from_graded(graded, seed=seed, notebook_name=notebook.name, limits=limits,
                                  mode_name=mode.name, seconds=time.monotonic() - started, submitted=submitted)
    if not mode.sandboxed:
        results["extra_data"]["unsandboxed"] = {"reason": mode.reason, "student_code_user": user}
    apply_late_policy(results, root)
    return results


def _timestamp(text):
    """An ISO 8601 time from Gradescope's metadata (with a time zone), or None."""
    import datetime
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def apply_late_policy(results: dict, root: Path) -> None:
    """Reduce a late submission's score by course.toml's [deadline] policy.

    Gradescope writes <root>/submission_metadata.json with the submission's
    ``created_at`` and the assignment's ``due_date``; the course's own due
    date wins when course.toml sets one. Each test keeps its points (the
    checks' results); the total is what the policy reduces.
    """
    from autograder import config
    from autograder.config import late_days, late_factor
    try:
        metadata = json.loads((root / METADATA_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(metadata, dict):
        return
    deadline = config.settings()["deadline"]
    submitted = _timestamp(metadata.get("created_at"))
    assignment = metadata.get("assignment") if isinstance(metadata.get("assignment"), dict) else {}
    due = deadline["due"] or _timestamp(assignment.get("due_date"))
    if submitted is None or due is None:
        return
    days = late_days(submitted, due)
    factor = late_factor(days, deadline["late_penalty_per_day"], deadline["late_days_max"])
    results["extra_data"]["late"] = {"days": days, "due": due.isoformat(), "submitted": submitted.isoformat(),
                                     "factor": factor, "score_before": results["score"]}
    if days <= 0:
        return
    results["score"] = round(float(results["score"]) * factor, 4)
    if factor > 0:
        why = (f"{deadline['late_penalty_per_day']:.0%} of the score per day late: "
               f"{results['extra_data']['late']['score_before']:g} becomes {results['score']:g}.")
    else:
        why = f"later than {deadline['late_days_max']} days after the due date earns nothing."
    results["output"] = (f"**Late by {days} day{'s' if days != 1 else ''}** (due {due.isoformat()}): "
                         f"{md_escape(why)}\n\n" + results.get("output", ""))


def _runs(python: str) -> bool:
    """Whether `python` starts and imports this package (nobody needs read access to the install)."""
    import subprocess

    try:
        return subprocess.run([python, "-c", "import autograder"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unprivileged_python(folder: Path) -> str:
    """A 'python' for the worker that runs it as nobody (see DROP_PRIVILEGES)."""
    path = folder / "python-as-nobody"
    path.write_text(DROP_PRIVILEGES.format(uid=NOBODY, python=shlex.quote(sys.executable)))
    path.chmod(0o700)
    return str(path)


def write_results(results: dict, root: Path) -> Path:
    """Write results.json atomically (a half-written file would be no result at all)."""
    folder = root / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    temporary = folder / ".results.json.tmp"
    temporary.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def main(root: str | os.PathLike | None = None) -> int:
    """What run_autograder runs: grade, write results.json, print a summary for the instructor's log."""
    started = time.monotonic()
    root = root_folder(root)
    try:
        results = grade(root)
    except Exception as error:   # a grader bug still yields a valid result that says so
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        traceback.print_exc()
        seed = read_config(root).get("seed")
        results = {"score": 0.0, "execution_time": int(math.ceil(time.monotonic() - started)),
                   "output": ("The autograder failed while grading this submission; this is not a problem "
                              "with your notebook: please tell the course staff."),
                   "output_format": "text", "tests": [],
                   "extra_data": {"error": detail[-2000:], "seed": seed if isinstance(seed, int) else None}}
    path = write_results(results, root)
    extra = results.get("extra_data", {})
    print(f"score {results['score']:g} / {sum(test.get('max_score', 0) for test in results.get('tests', [])):g} in {time.monotonic() - started:.1f} s "
          f"(seed {extra.get('seed')}, sandbox {extra.get('sandbox', '-')}, flags {' '.join(extra.get('flags') or []) or '-'})")
    if extra.get("replay"):
        print(f"replay: {extra['replay']}")
    print(f"wrote {path}")
    return 0
