"""Grading a class in isolation: find the submissions, run them in sandboxes, judge, write the CSV.

``grade_paths`` is the whole of ``msegrad grade``: it streams submissions to
``--jobs`` sandboxed workers (``autograder.sandbox``), judges each answer in
this process with ``autograder.judge`` (the student's code never runs here,
and only plain numbers come back, as JSON), and appends one CSV row per
student as soon as it is done. Memory stays flat whatever the class size:
rows are written, not kept. Killed at any moment, the same command again
grades only the students missing from the CSV (a partial last line is cut
off first); ``force`` regrades everyone.
"""
from __future__ import annotations

import csv
import functools
import io
import math
import os
import queue
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from autograder import assignments, config, notebook, spec
from autograder.isolation import protocol
from autograder.sandbox import Mode, Options, Sandbox, SandboxError, WorkerDied, choose_mode



def cell_ids(unit: "assignments.Assignment | None" = None) -> list[str]:
    """The grade cells of an assignment (default: the course's first), in notebook order."""
    return [cell.id for cell in _spec(unit).GRADE_CELLS]


def columns(unit: "assignments.Assignment | None" = None) -> list[str]:
    """DESIGN.md's columns, then three for `msegrad report`: the named mistake of each
    cell that lost points ("cell_id=mistake_id" words), the seconds the student's
    own code ran (top-level cells and every checked call), and the assignment."""
    return ["student", "score", "max_score", *cell_ids(unit), "flags", "mistakes", "seconds", "assignment"]


def _spec(unit=None):
    """The spec of an assignment (an Assignment, an id, or None: the course's first)."""
    return assignments.get(unit).spec


# Assignment 1's (the course's first assignment's), for callers that know only it.
CELL_IDS = cell_ids()
COLUMNS = columns()
# Seconds the grader waits for a worker beyond the time limits it gave it.
ANSWER_MARGIN = 15.0
# Flags that describe where the grading ran, not the submission (the same on every row of a run).
ENVIRONMENT_FLAGS = ("unsandboxed", "no-cgroup", "no-namespaces")
MEMORY_WORDS = ("MemoryError", "not enough memory", "can't allocate memory", "Cannot allocate memory",
                "DefaultCPUAllocator")


class InputError(Exception):
    """Bad input from the command line: a missing path, an unwritable or foreign CSV."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


@dataclass
class Limits:
    """Per-submission limits handed to the worker (seconds, megabytes, processes, bytes)."""

    # Defaults from course.toml's [limits].
    function_timeout: float = field(default_factory=lambda: config.get("limits", "function_seconds"))
    top_timeout: float = field(default_factory=lambda: config.get("limits", "top_level_seconds"))
    memory_mb: int = field(default_factory=lambda: config.get("limits", "memory_mb"))
    nproc: int = field(default_factory=lambda: config.get("limits", "processes"))
    fsize_mb: int = 16
    output_limit: int = 1024 * 1024

    @classmethod
    def from_env(cls, **overrides) -> "Limits":
        """course.toml, then $MSEGRAD_TIMEOUT / $MSEGRAD_TOP_TIMEOUT / $MSEGRAD_MEMORY_MB, then overrides."""
        limits = cls()
        for name, variable, kind in (("function_timeout", "MSEGRAD_TIMEOUT", float),
                                     ("top_timeout", "MSEGRAD_TOP_TIMEOUT", float),
                                     ("memory_mb", "MSEGRAD_MEMORY_MB", int)):
            if os.environ.get(variable):
                setattr(limits, name, kind(os.environ[variable]))
        for name, value in overrides.items():
            if value is not None:
                setattr(limits, name, value)
        return limits


@dataclass
class Summary:
    """What one run did; ``line()`` is the one-line summary the command prints."""

    csv: str
    graded: int = 0
    skipped: int = 0
    flagged: int = 0
    total_score: float = 0.0
    seconds: float = 0.0
    student_seconds: float = 0.0
    jobs: int = 1
    sandboxed: bool = True
    flags: Counter = field(default_factory=Counter)
    duplicates: int = 0
    first_row_seconds: float | None = None    # when the first row was written (the sandboxes had started)
    grader_errors: list = field(default_factory=list)   # students whose row says the grader failed
    mode: str = ""                            # the sandbox: bwrap-root, bwrap-user or none
    cgroup: str = ""                          # why there was no per-submission cgroup ("" when there was)
    assignment: str = spec.ASSIGNMENT
    max_score: float = spec.MAX_SCORE

    @property
    def mean_score(self) -> float:
        return self.total_score / self.graded if self.graded else 0.0

    @property
    def seconds_per_notebook(self) -> float:
        return self.seconds / self.graded if self.graded else 0.0

    @property
    def steady_seconds_per_notebook(self) -> float:
        """Seconds per notebook after the first row: the rate once the sandboxes are warm."""
        if self.graded < 2 or self.first_row_seconds is None:
            return self.seconds_per_notebook
        return (self.seconds - self.first_row_seconds) / (self.graded - 1)

    def line(self) -> str:
        text = (f"graded {self.graded} notebook{'s' if self.graded != 1 else ''} in {self.seconds:.1f} s "
                f"({self.seconds_per_notebook:.3f} s each, {self.jobs} job{'s' if self.jobs != 1 else ''})")
        if self.graded:
            text += f", mean {self.mean_score:.2f}/{self.max_score:g}"
        if self.flagged:
            common = ", ".join(f"{word} {count}" for word, count in self.flags.most_common(4))
            text += f", {self.flagged} flagged ({common})"
        if self.skipped:
            text += f"; {self.skipped} already in the CSV"
        if self.duplicates:
            text += f"; {self.duplicates} duplicate student id{'s' if self.duplicates != 1 else ''} skipped"
        text += f" -> {self.csv} ({self.assignment})  [sandbox {self.mode or 'none'}"
        text += f", no cgroup: {self.cgroup}]" if self.cgroup else ", a cgroup per submission]"
        if not self.sandboxed:
            text += "  [UNSANDBOXED]"
        return text


# --- finding submissions -------------------------------------------------------------

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def _student_id(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"


def _notebook_in(folder: Path, unit=None) -> Path:
    own = _spec(unit)
    return folder / own.ASSIGNMENT / own.NOTEBOOK


def _lone_notebook_id(path: Path, unit=None) -> str:
    """<student>/mse-gradient/mse_gradient.ipynb -> student; <student>/mse_gradient.ipynb -> student; else the stem."""
    own = _spec(unit)
    if path.parent.name == own.ASSIGNMENT and path.parent.parent.name:
        return path.parent.parent.name
    if path.name == own.NOTEBOOK and path.parent.name:
        return path.parent.name
    return path.stem


def discover(paths: Iterable[str | os.PathLike], assignment=None) -> Iterator[Submission]:
    """Submissions under each PATH, lazily and in a stable order.

    A PATH is a notebook; a student folder (``<student>/mse-gradient/mse_gradient.ipynb``);
    the ``mse-gradient`` folder itself; or a class folder of student folders
    (nbgrader's ``submitted/``), where every sub-folder that holds an
    ``mse-gradient`` folder is a student (a missing notebook still gets a row)
    and loose ``*.ipynb`` files are students named by their stem. The folder
    names are `assignment`'s (default: the course's first assignment).
    """
    unit = assignments.get(assignment)
    own = unit.spec
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file or folder")
        if path.is_file():
            yield Submission(_student_id(_lone_notebook_id(path.resolve(), unit)), path)
        elif _notebook_in(path, unit).exists() or (path / own.ASSIGNMENT).is_dir():
            yield Submission(_student_id(path.resolve().name), _notebook_in(path, unit))
        elif path.name == own.ASSIGNMENT and (path / own.NOTEBOOK).exists():
            yield Submission(_student_id(path.resolve().parent.name), path / own.NOTEBOOK)
        else:
            try:
                names = sorted(entry.name for entry in os.scandir(path))
            except OSError as error:
                raise InputError(f"{raw}: cannot be listed ({error.strerror})") from None
            for name in names:
                child = path / name
                if (child / own.ASSIGNMENT).is_dir():
                    yield Submission(_student_id(name), _notebook_in(child, unit))
                elif child.is_file() and name.endswith(".ipynb"):
                    yield Submission(_student_id(child.stem), child)


# --- the CSV ---------------------------------------------------------------------------

class ResultsCSV:
    """The resumable CSV: complete rows already there are kept; new rows are appended and flushed one by one."""

    def __init__(self, path: str | os.PathLike, force: bool = False, assignment=None):
        self.path = Path(path)
        self.unit = assignments.get(assignment)
        self.columns = columns(self.unit)
        self.done: set[str] = set()
        if self.path.is_dir():
            raise InputError(f"--csv {path}: is a folder, not a file")
        if not self.path.parent.exists():
            raise InputError(f"--csv {path}: the folder {self.path.parent} does not exist")
        if force or not self.path.exists() or self.path.stat().st_size == 0:
            self._create()
        else:
            self._resume()
        try:
            self.handle = open(self.path, "a", newline="", encoding="utf-8")
        except OSError as error:
            raise InputError(f"--csv {path}: cannot be written ({error.strerror})") from None
        self.writer = csv.writer(self.handle, lineterminator="\n")

    def _create(self) -> None:
        try:
            with open(self.path, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerow(self.columns)
        except OSError as error:
            raise InputError(f"--csv {self.path}: cannot be written ({error.strerror})") from None

    def _resume(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError as error:
            raise InputError(f"--csv {self.path}: cannot be read ({error.strerror})") from None
        complete = data[:data.rfind(b"\n") + 1]   # a row cut short by a kill has no newline yet
        text = complete.decode("utf-8", "replace")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            self._create()
            return
        if rows[0] != self.columns:
            raise InputError(
                f"--csv {self.path} has other columns ({', '.join(rows[0][:6])}{', ...' if len(rows[0]) > 6 else ''}): "
                f"it is not a {self.unit.name} grades file. Choose another --csv, or pass --force to overwrite it.")
        good, seen = [rows[0]], set()
        for row in rows[1:]:
            if len(row) == len(self.columns) and row[0] not in seen and _valid_row(row, len(self.columns) - 7):
                good.append(row)
                seen.add(row[0])
        if len(good) != len(rows) or len(complete) != len(data):
            # Rewrite without the cut or broken rows (a temporary file, then an atomic rename).
            temporary = self.path.with_name(self.path.name + ".tmp")
            with open(temporary, "w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(good)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        self.done = seen

    def write(self, row: dict) -> None:
        self.writer.writerow([row.get(column, "") for column in self.columns])
        self.handle.flush()
        self.done.add(row["student"])

    def close(self) -> None:
        try:
            os.fsync(self.handle.fileno())
        except OSError:
            pass
        self.handle.close()


def _valid_row(row: list[str], cells: int) -> bool:
    try:
        float(row[1]), float(row[2])
        [float(value) for value in row[3:3 + cells]]
    except ValueError:
        return False
    return True


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- one submission ----------------------------------------------------------------------

@dataclass
class Graded:
    """One student's result: the CSV row and what the feedback page shows."""

    row: dict
    results: list = field(default_factory=list)      # judge.CheckResult, in GRADE_CELLS order
    flags: list = field(default_factory=list)
    notes: list = field(default_factory=list)        # sentences for the feedback page
    output_head: str = ""
    sgd_probe: dict | None = None
    student_seconds: float = 0.0
    cells: list = field(default_factory=list)       # per non-test code cell: {"output", "error"}
    findings: dict = field(default_factory=dict)    # the source's findings: {function or "*": [kinds]}
    assignment: str = spec.ASSIGNMENT


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


def _row(student: str, results, flags, student_seconds: float | None = None, unit=None) -> dict:
    own = _spec(unit)
    by_id = {result.cell_id: result for result in results}
    row = {"student": student, "max_score": _points(own.MAX_SCORE), "assignment": own.ASSIGNMENT}
    total = 0.0
    for cell in own.GRADE_CELLS:
        cell_id = cell.id
        points = by_id[cell_id].points if cell_id in by_id else 0.0
        if not math.isfinite(points):
            points = 0.0
        points = min(max(points, 0.0), cell.points)
        row[cell_id] = _points(points)
        total += round(points, 2)
    row["score"] = _points(total)
    row["flags"] = " ".join(dict.fromkeys(flags))
    row["mistakes"] = " ".join(
        f"{result.cell_id}={_word(result.mistake)}" for result in results
        if result.points < result.max_points and getattr(result, "mistake", None))
    row["seconds"] = f"{student_seconds:.3f}" if student_seconds is not None else ""
    return row


def _word(text) -> str:
    return re.sub(r"[\s=]+", "_", str(text)) or "_"


def _zero_results(message: str, mistake: str, unit=None):
    from autograder.judge import CheckResult
    return [CheckResult(cell.id, 0.0, cell.points, message, mistake) for cell in _spec(unit).GRADE_CELLS]


def _walk_records(probe):
    if isinstance(probe, dict):
        for cell in probe.values():
            if isinstance(cell, dict):
                for record in cell.get("cases", []) or []:
                    if isinstance(record, dict):
                        yield record


def _case_counts(seed: int, unit=None) -> dict[str, int]:
    return {cell_id: len(cases) for cell_id, cases in _inputs(seed, assignments.get(unit).name).items()}


def judge_answer(student: str, answer: dict, seed: int, sandboxed: bool, output_limit: int,
                 findings=None, assignment=None) -> Graded:
    """Points and flags from a worker's answer; runs only the judge, never student code.

    Never raises: whatever fails here gives the row zeros and ``grader-error``.
    """
    try:
        unit = assignments.get(assignment)
    except Exception as error:
        return _failed(student, error, sandboxed, "while judging this notebook")
    try:
        return _judge_answer(student, answer, seed, sandboxed, output_limit, findings, unit)
    except Exception as error:  # a bug or an answer no check foresaw: the row is still written
        return _failed(student, error, sandboxed, "while judging this notebook", unit)


def _judge_answer(student, answer, seed, sandboxed, output_limit, findings, unit) -> Graded:
    judge = unit.judge
    own = unit.spec
    answer, refused = protocol.clean_answer(answer, _case_counts(seed, unit), unit)
    flags, results, notes = [], [], []
    top = answer.get("top") or {}
    if top.get("failure"):
        flags += [top["failure"], "top-level"]
        notes.append(f"The notebook's top-level code (outside the functions) failed: {top.get('detail') or top['failure']}. "
                     "Every function loses its points.")
    for error in (top.get("errors") or [])[:10]:
        flags.append("memory" if any(word in error for word in MEMORY_WORDS) else "cell-error")
        notes.append(f"A cell raised an error when the notebook ran: {error}")
    if answer.get("error"):
        flags.append("grader-error")
        notes.append(f"The sandbox could not run this notebook: {answer['error']}")
    functions = answer["functions"]
    # Time from the sandbox's own clock (never from the student's process), clamped.
    student_seconds = answer["top_seconds"] + sum(answer["seconds"].values())
    sgd_probe = None
    for function in own.FUNCTIONS:
        outcome = functions.get(function) or {"failure": "error", "detail": "no answer from the worker"}
        failure = outcome.get("failure")
        probe = outcome.get("probe")
        if function in refused:
            flags.append("tamper")
            notes.append(f"{function}: {outcome.get('detail')}; the student's code wrote into the grader's channel.")
            results += judge.judge_function(function, None, failure="error", seed=seed)
            continue
        if failure is not None:
            if not top.get("failure"):
                flags.append(failure)
                notes.append(f"{function}: {outcome.get('detail') or failure}")
            results += judge.judge_function(function, None, failure=failure, seed=seed)
            continue
        for record in _walk_records(probe):
            if record.get("timeout"):
                flags.append("timeout")
            error = record.get("error")
            if isinstance(error, str) and any(word in error for word in MEMORY_WORDS):
                flags.append("memory")
        try:
            results += judge.judge_function(function, probe, seed=seed)
        except Exception as error:  # a probe the judge cannot decide: that function's 0, and a flag
            flags.append("grader-error")
            notes.append(f"{function}: its results could not be judged ({type(error).__name__})")
            results += judge.judge_function(function, None, failure="error", seed=seed)
        if function in own.STAND_INS:   # the descent: its path is drawn in the feedback
            sgd_probe = probe
    output = answer["output"]
    if output["bytes"] > output_limit:
        flags.append("output")
        notes.append(f"The notebook printed {output['bytes']:,} bytes; output past "
                     f"{output_limit:,} bytes is thrown away.")
    if answer["tamper"]:
        flags.append("tamper")
        names = ", ".join(answer["tamper"][:6])
        notes.append(f"The code replaced functions of the grader's libraries ({names}); "
                     "this cannot change the score, which is computed outside the student's process.")
    found: dict = {}
    if findings is not None:
        results = _apply_findings(results, findings, flags, notes, unit)
        for finding in findings.findings:
            kinds = found.setdefault(finding.function or "*", [])
            if finding.kind not in kinds:
                kinds.append(finding.kind)
    cgroup = answer.get("cgroup") or {}
    if int(cgroup.get("oom_kills") or 0) > 0:
        flags.append("memory")
        notes.append("The submission's processes together used more memory than allowed; the kernel stopped them.")
    if "none" in cgroup:
        flags.append("no-cgroup")
    if sandboxed and answer.get("isolation", {}).get("namespaces") is False:
        flags.append("no-namespaces")
        notes.append(f"The submission shared the sandbox with the grader's worker: {answer['isolation'].get('reason', '')}")
    if not sandboxed:
        flags.append("unsandboxed")
    graded = Graded(_row(student, results, flags, student_seconds, unit), results, list(dict.fromkeys(flags)), notes,
                    output["head"], sgd_probe, student_seconds)
    graded.cells = answer["cells"]
    graded.findings = found
    graded.assignment = unit.name
    return graded


# What a finding in the source costs the function it belongs to (autograder.source).
FINDING_FLAGS = {"answer-key": "answer-key", "review": "review", "autograd": "autograd"}
GRADIENT_FUNCTIONS = spec.GRADIENT_FUNCTIONS


def analyse_source(cells: list[str], assignment=None):
    """The trusted reading of the student's code (never run), for judge_answer's ``findings``."""
    from autograder import source
    own = assignments.get(assignment).spec
    # A copy of a visible check in a scratch cell is not an attack (and in the sandbox it cannot import).
    return source.analyse(cells, own.FUNCTIONS, own.GRADIENT_FUNCTIONS,
                          allowed_modules=(own.DATA_MODULE, "autograder.checks.check"),
                          stand_ins=dict(own.STAND_INS))


def _apply_findings(results, analysis, flags: list, notes: list, unit=None):
    """Zero every function whose source reaches the answer key or uses autograd; flag what needs a person.

    Decided from the source alone: nothing the student's process does at run
    time can add or remove a finding. The runtime evidence (the probe's
    autograd spy) can still cost points in the judge, never give them back.
    A ``review`` finding keeps the judged points and flags the row: the code
    does something the judge cannot see through, and a person decides.
    """
    from autograder.judge import CheckResult
    unit = assignments.get(unit)
    out = []
    for result in results:
        function = unit.spec.CELLS_BY_ID[result.cell_id].function
        found = [finding for finding in analysis.for_function(function) if finding.kind in ("answer-key", "autograd")]
        if not found:
            out.append(result)
            continue
        first = min(found, key=lambda finding: finding.kind != "answer-key")
        where = f", {first.where}" if first.where else ""
        if first.kind == "autograd":     # the judge's own words for it, with what the source showed
            message = (f"{unit.judge.sentence(function, 'autograd')} (found: {first.found or 'autograd'}{where}). "
                       "Write the formula from the derivation instead.")
        else:
            message = f"{first.reason}{' (' + first.where + ')' if first.where else ''}"
        out.append(CheckResult(result.cell_id, 0.0, result.max_points, message, first.kind))
    for finding in analysis.findings:
        if finding.kind in FINDING_FLAGS:
            flags.append(FINDING_FLAGS[finding.kind])
            where = f" ({finding.where})" if finding.where else ""
            note = f"{finding.function + ': ' if finding.function else ''}{finding.reason}{where}"
            if note not in notes:
                notes.append(note)
    return out


@functools.lru_cache(maxsize=8)
def _inputs(seed: int, assignment: str | None = None) -> dict:
    """Every grade cell's cases as plain data (built once per seed: a quarter of a second)."""
    unit = assignments.get(assignment)
    inputs = {}
    for function in unit.spec.FUNCTIONS:
        inputs.update(unit.cases.function_inputs(function, seed))
    return inputs


def request_for(student: str, cells: list[str], seed: int, limits: Limits, assignment=None) -> dict:
    """What the sandbox gets for one submission: its code, every case's inputs, the limits (no student id)."""
    unit = assignments.get(assignment)
    return {"cells": cells, "functions": list(unit.spec.FUNCTIONS), "cases": _inputs(seed, unit.name),
            "probes": f"{unit.package}.probes",
            "top_timeout": limits.top_timeout, "function_timeout": limits.function_timeout,
            "call_seconds": float(config.get("limits", "call_seconds")), "memory_mb": limits.memory_mb, "nproc": limits.nproc, "fsize_mb": limits.fsize_mb,
            "output_limit": limits.output_limit}


def grade_submission(sandbox: Sandbox | None, submission: Submission, seed: int, limits: Limits,
                     sandboxed: bool = True, assignment=None) -> Graded:
    """Grade one notebook in `sandbox` (restarted if it broke). Never raises: one Graded per submission."""
    try:
        unit = assignments.get(assignment)
        return _grade_submission(sandbox, submission, seed, limits, sandboxed, unit)
    except SandboxError:
        raise
    except Exception as error:  # a bug for one student must not lose their row
        return _failed(submission.student, error, sandboxed, assignment=assignment)


def _failed(student: str, error: BaseException, sandboxed: bool, where: str = "on this notebook",
            assignment=None) -> Graded:
    """The row of a submission the grader itself failed on: zeros, ``grader-error`` and why."""
    try:
        unit = assignments.get(assignment)
    except Exception:   # an assignment that cannot be loaded: the course's first one's columns
        unit = None
    detail = f"{type(error).__name__}: {str(error)[:200]}"
    results = _zero_results(f"The grader failed on this notebook ({detail}); a person should look.", "grader-error",
                            unit)
    flags = ["grader-error"] + ([] if sandboxed else ["unsandboxed"])
    return Graded(_row(student, results, flags, unit=unit), results, flags, [f"The grader failed {where}: {detail}"])


def _grade_submission(sandbox, submission, seed, limits, sandboxed, unit) -> Graded:
    own = unit.spec
    try:
        cells = notebook.answer_cells(submission.path)
    except notebook.NotebookError as error:
        flags = [error.flag] + ([] if sandboxed else ["unsandboxed"])
        results = _zero_results(f"The notebook could not be graded: {error.message}", error.flag, unit)
        return Graded(_row(submission.student, results, flags, unit=unit), results, flags, [error.message])
    findings = analyse_source(cells, unit)
    request = request_for(submission.student, cells, seed, limits, unit)
    # The worker retries functions in a fresh process after a failure, re-running the top level.
    budget = (limits.top_timeout + 6) * (len(own.FUNCTIONS) + 1) + limits.function_timeout * len(own.FUNCTIONS)
    try:
        answer = sandbox.request(request, budget + ANSWER_MARGIN)
    except WorkerDied as error:
        answer = {"top": {"failure": "killed", "detail": f"the grading worker died ({error})"}, "functions": {
            function: {"failure": "killed"} for function in own.FUNCTIONS}}
    if isinstance(answer.get("error"), str) and not answer.get("functions"):
        answer = {"top": {"failure": "killed", "detail": answer["error"][:300]},
                  "functions": {function: {"failure": "killed"} for function in own.FUNCTIONS},
                  "cgroup": answer.get("cgroup")}
    return judge_answer(submission.student, answer, seed, sandboxed, limits.output_limit, findings, unit)


# --- the batch -----------------------------------------------------------------------------

_WARNED = False


def warn_unsandboxed(mode: Mode, stream=None) -> None:
    global _WARNED
    if _WARNED:
        return
    _WARNED = True
    stream = stream or sys.stderr
    bar = "!" * 78
    print(f"{bar}\nWARNING: grading WITHOUT a sandbox: {mode.reason}.\n"
          "Student code runs as plain child processes with resource limits only: it can read and\n"
          "write your files and reach the network. Every row is flagged `unsandboxed`.\n"
          f"{'RLIMIT_NPROC is not enforced for root: a fork bomb is not contained.' + chr(10) if os.geteuid() == 0 else ''}"
          f"{bar}", file=stream)


def _progress(total: int, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="nb", desc="grading", dynamic_ncols=True, smoothing=0.1, file=sys.stderr)


def grade_paths(paths, csv_path, *, jobs: int | None = None, feedback: str | os.PathLike | None = None,
                force: bool = False, seed: int | None = None, limits: Limits | None = None,
                sandbox: str = "auto", progress: bool | None = None, hide=(), quiet: bool = False,
                assignment=None) -> Summary:
    """Grade every submission under `paths` into `csv_path`; returns the Summary.

    jobs: sandboxes in parallel (default: the CPU count). feedback: a folder
    for one HTML page per student. sandbox: 'auto', 'bwrap' (refuse to run
    without it) or 'none'. hide: more host paths the sandbox must not show
    (the inputs, the CSV's and feedback's folders and the current folder are
    hidden anyway). assignment: an id or Assignment; default: the one the
    paths hold in nbgrader's layout (``assignments.detect``).
    """
    from autograder.cases import seed_from_env
    started = time.monotonic()
    limits = limits or Limits.from_env()
    seed = seed_from_env(seed)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    paths = [str(path) for path in paths]
    if not paths:
        raise InputError("no PATH given: name notebooks, student folders or a class folder")
    for path in paths:
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file or folder")
    unit = assignments.get(assignment) if assignment is not None else assignments.detect(paths)
    results = ResultsCSV(csv_path, force=force, assignment=unit)
    total = sum(1 for submission in discover(paths, unit) if submission.student not in results.done)
    feedback_dir = Path(feedback) if feedback else None
    if feedback_dir is not None:
        try:
            feedback_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"--feedback {feedback}: cannot be created ({error.strerror})") from None
    mode = choose_mode(sandbox)
    if not mode.sandboxed and not quiet:
        warn_unsandboxed(mode)
    hidden = [os.getcwd(), *paths, str(Path(csv_path).resolve().parent), *map(str, hide)]
    if feedback_dir is not None:
        hidden.append(str(feedback_dir.resolve()))
    options = Options(hide=[os.path.realpath(path) for path in hidden],
                      env={"MSEGRAD_SEED": str(seed)})
    summary = Summary(csv=str(csv_path), jobs=jobs, sandboxed=mode.sandboxed, mode=mode.name,
                      assignment=unit.name, max_score=unit.spec.MAX_SCORE)
    todo = [0]   # submissions handed out, counted by the feeder

    inbox: queue.Queue = queue.Queue(maxsize=2 * jobs)
    outbox: queue.Queue = queue.Queue(maxsize=4 * jobs)
    stop = threading.Event()
    seen: set[str] = set(results.done)

    def feed():
        try:
            for submission in discover(paths, unit):
                if stop.is_set():
                    break
                if submission.student in seen:
                    if submission.student in results.done:
                        summary.skipped += 1
                    else:
                        summary.duplicates += 1
                        print(f"msegrad grade: warning: {submission.path}: student id {submission.student!r} "
                              "is already taken by another path; skipped", file=sys.stderr)
                    continue
                seen.add(submission.student)
                todo[0] += 1
                inbox.put(submission)
        finally:
            for _ in range(jobs):
                inbox.put(None)

    def work():
        box = Sandbox(mode, options)
        try:
            while not stop.is_set():
                submission = inbox.get()
                if submission is None:
                    break
                try:
                    graded = grade_submission(box, submission, seed, limits, mode.sandboxed, unit)
                    if box.process is not None and box.cgroups is None and mode.sandboxed and not summary.cgroup:
                        summary.cgroup = box.cgroup_reason
                        if not quiet:
                            print(f"msegrad grade: warning: no cgroup per submission ({box.cgroup_reason}); memory "
                                  "and processes are capped per process only, and rows are flagged no-cgroup",
                                  file=sys.stderr)
                except SandboxError as error:
                    outbox.put(("fatal", error, None))
                    stop.set()
                    break
                page = None
                if feedback_dir is not None:
                    try:
                        from autograder import feedback as feedback_pages
                        page = feedback_pages.write_page(feedback_dir, submission.student, graded, seed=seed)
                    except Exception as error:  # the row is still written, with zeros and the reason
                        graded = _failed(submission.student, error, mode.sandboxed, assignment=unit)
                        graded.notes.insert(0, "Its feedback page could not be written.")
                outbox.put(("row", graded, page))
        finally:
            box.stop()
            outbox.put(("done", None, None))

    bar = _progress(total, progress)
    threads = [threading.Thread(target=feed, name="msegrad-feed", daemon=True)]
    threads += [threading.Thread(target=work, name=f"msegrad-job-{index}", daemon=True) for index in range(jobs)]
    for thread in threads:
        thread.start()
    fatal = None
    finished_workers = 0
    try:
        while finished_workers < jobs:
            kind, item, _ = outbox.get()
            if kind == "done":
                finished_workers += 1
            elif kind == "fatal":
                fatal = item
            else:
                graded = item
                results.write(graded.row)
                if summary.first_row_seconds is None:
                    summary.first_row_seconds = time.monotonic() - started
                summary.graded += 1
                summary.total_score += float(graded.row["score"])
                summary.student_seconds += graded.student_seconds
                if "grader-error" in graded.flags:
                    summary.grader_errors.append(graded.row["student"])
                own = [word for word in graded.flags if word not in ENVIRONMENT_FLAGS]
                if own:
                    summary.flagged += 1
                    summary.flags.update(own)
                if bar is not None:
                    bar.update(1)
    except BaseException:
        stop.set()
        raise
    finally:
        if bar is not None:
            bar.close()
        results.close()
    summary.seconds = time.monotonic() - started
    if fatal is not None:
        raise fatal
    return summary


# --- nbgrader's gradebook ----------------------------------------------------------------

@dataclass
class GradebookComparison:
    """Students whose nbgrader score is above the isolated one (tampering, or a grader mismatch)."""

    higher: list = field(default_factory=list)      # (student, nbgrader score, isolated score)
    missing: list = field(default_factory=list)     # students in the CSV with no nbgrader submission
    compared: int = 0

    def report(self) -> str:
        lines = [f"compared {self.compared} student{'s' if self.compared != 1 else ''} with nbgrader's gradebook"]
        if self.higher:
            lines.append(f"{len(self.higher)} scored HIGHER under nbgrader than in isolation "
                         "(student code can change nbgrader's checks; look at these first):")
            for student, theirs, ours in self.higher:
                lines.append(f"  {student}: nbgrader {theirs:g}, isolated {ours:g}")
        else:
            lines.append("no student scored higher under nbgrader than in isolation")
        if self.missing:
            lines.append(f"not in the gradebook: {', '.join(self.missing[:10])}{' ...' if len(self.missing) > 10 else ''}")
        return "\n".join(lines)


def _gradebook_url(path) -> str:
    text = str(path)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def compare_gradebook(csv_path, gradebook, write: bool = False, tolerance: float = 1e-6,
                      assignment=None) -> GradebookComparison:
    """Compare the CSV's isolated scores with nbgrader's; with `write`, store them as manual scores.

    Writing sets ``Grade.manual_score`` of every grade cell of the assignment
    to the isolated points, so nbgrader's own reports and exports use them.
    """
    # nbgrader runs alembic as a program: it must find this environment's bin/.
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook, MissingEntry

    if not Path(str(gradebook)).exists() and "://" not in str(gradebook):
        raise InputError(f"--gradebook {gradebook}: no such file")
    comparison = GradebookComparison()
    rows = read_csv(csv_path)
    if assignment is None and rows and rows[0].get("assignment"):
        assignment = rows[0]["assignment"]
    own = assignments.get(assignment).spec
    notebook_id = own.NOTEBOOK.rsplit(".", 1)[0]
    with Gradebook(_gradebook_url(gradebook)) as book:
        for row in rows:
            student = row["student"]
            try:
                submission = book.find_submission(own.ASSIGNMENT, student)
            except MissingEntry:
                comparison.missing.append(student)
                continue
            comparison.compared += 1
            theirs, ours = float(submission.score or 0.0), float(row["score"])
            if theirs > ours + tolerance:
                comparison.higher.append((student, theirs, ours))
            if write:
                for cell_id in (cell.id for cell in own.GRADE_CELLS):
                    try:
                        grade = book.find_grade(cell_id, notebook_id, own.ASSIGNMENT, student)
                    except MissingEntry:
                        continue
                    grade.manual_score = float(row[cell_id])
        if write:
            book.db.commit()
    return comparison
