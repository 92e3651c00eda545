"""nbgrader's ``autograde`` with the submission run in the course's sandbox, not in the student's kernel.

nbgrader_config.py puts ``IsolatedExecute`` where nbgrader's ``Execute``
was in ``Autograde.autograde_preprocessors``. For each sanitized notebook it
runs the student's code cells in the same sandbox and judge as ``msegrad
grade`` (``autograder.batch.grade_submission``: warm sandboxes for the
whole ``nbgrader autograde`` run, stopped at exit) and writes the verdict
back into the notebook the way nbgrader reads it:

- every grade cell gets its feedback line as a stdout stream and its points
  as the cell's ``execute_result`` (nbgrader's partial credit). A grade cell
  with no output would earn FULL marks, so every grade cell gets a result,
  and a grader failure writes 0;
- the student's own code cells get their printed output and errors back,
  bounded (from ``Graded.cells`` when the grader reports them).

``StartGrader``, first of the sanitize preprocessors, starts the run's
sandboxes while nbgrader sanitizes the first notebook. nbgrader's
``SaveAutoGrades``, ``generate_feedback``, ``export`` and the formgrader
then work unchanged. ``FlagForReview``, after ``SaveAutoGrades``,
marks the grades of a submission that a person should look at (code the
judge cannot see through, a call into the grader's answer key, a grader
failure) as needing manual grading, with a comment on the answer cell.

``c.IsolatedExecute.in_kernel = True`` runs nbgrader's own ``Execute``
instead, the checks inside the student's kernel, for a course without
bubblewrap; it is not tamper-proof and says so.

Two small subclasses keep honest runs quiet: ``OverwriteCells`` does not
report a hidden-test cell whose only change is that its hidden tests were
cut from the release, and ``ClearHiddenTests`` accepts the
``display_data_priority`` option the HTML exporter hands every preprocessor.
"""
from __future__ import annotations

import atexit
import copy
import os
import queue
import re
import tempfile
import textwrap
import threading
import traceback
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import nbformat
from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator as _MetadataValidator
from nbgrader.nbgraderformat import ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator, SchemaTooNewError, SchemaTooOldError
from nbgrader.preprocessors import CheckCellMetadata as _CheckCellMetadata
from nbgrader.preprocessors import ClearHiddenTests as _ClearHiddenTests
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.preprocessors import OverwriteCells as _OverwriteCells
from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Bool, Integer, List, Unicode

# What a student cell may show of its own output in the graded notebook and
# the feedback: enough for any honest print, bounded against a flood.
CELL_OUTPUT_CHARS = 10_000
# A grade cell's feedback may carry notes about the whole submission.
NOTE_CHARS = 600
REVIEW_FLAGS = ("review", "answer-key", "grader-error")
REVIEW_SENTENCES = {
    "review": "the code does something the judge cannot see through",
    "answer-key": "the code calls the grader's own answer key",
    "grader-error": "the grader failed on this notebook",
}
# Where IsolatedExecute leaves what FlagForReview needs, in nbconvert's resources.
RESOURCES_KEY = "msegrad"


def _text(value, limit: int) -> str:
    """Printable text from what the sandbox sent: a str, valid UTF-8, at most `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\x00", "")
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit:,} more characters not shown)"
    return text


def _points(value, max_points: float) -> float:
    """Points nbgrader can read: finite, within [0, max_points], rounded as msegrad grade rounds them.

    nbgrader gives FULL marks for a negative or unreadable value and fails on
    one above the maximum, so nothing else may reach the cell.
    """
    try:
        points = float(value)
    except (TypeError, ValueError):
        return 0.0
    if points != points or points in (float("inf"), float("-inf")):
        return 0.0
    return round(min(max(points, 0.0), max_points), 2)


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")


def _points_output(points: float):
    return nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)}, execution_count=None)


_ERROR = re.compile(r"^(?:cell \d+: )?([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): ?(.*)$", re.S)


def _error_output(text: str):
    match = _ERROR.match(text)
    name, value = (match.group(1), match.group(2)) if match else ("Error", text)
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[text])


def _is_student_cell(cell) -> bool:
    """A code cell the grader runs: every code cell but the grade cells (as autograder.notebook.answer_cells)."""
    return cell.get("cell_type") == "code" and not utils.is_grade(cell)


# --- the warm graders, one set per nbgrader run ------------------------------------------------

class _Grader:
    """`jobs` warm sandboxes for the run, and the submissions graded ahead of nbgrader.

    nbgrader autogrades one notebook at a time and spends part of each on its
    own work (sanitizing, the gradebook). Meanwhile the next submissions of
    the run are graded from their submitted files on the other sandboxes. A
    grade made ahead is used only when its code cells are exactly those of
    the sanitized notebook nbgrader hands over (the sanitizing restores
    locked cells); otherwise that notebook is graded again as handed over.
    """

    def __init__(self, mode, options, seed: int, limits, jobs: int, assignment=None):
        from autograder.sandbox import Sandbox

        self.seed, self.limits, self.sandboxed, self.jobs = seed, limits, mode.sandboxed, jobs
        self.assignment = assignment
        self.sandboxes = [Sandbox(mode, options) for _ in range(jobs)]
        self.free: queue.Queue = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="msegrad-autograde")
        self.ahead: dict[str, Future] = {}
        # The workers start while this process imports the judge; one after the other, so that
        # the first notebook need not wait for all of them (each imports torch).
        self.pool.submit(self._start)
        threading.Thread(target=_warm_judge, args=(seed, limits, assignment), name="msegrad-warm-judge",
                         daemon=True).start()

    def _start(self) -> None:
        for sandbox in self.sandboxes:
            try:
                sandbox.start()
            except Exception:  # reported when the sandbox is used: grade_submission starts it again
                pass
            self.free.put(sandbox)

    def grade(self, student: str, path: Path):
        """grade_submission on a free sandbox, in the calling thread."""
        from autograder import batch

        sandbox = self.free.get()
        try:
            return batch.grade_submission(sandbox, batch.Submission(student, path), self.seed, self.limits,
                                          self.sandboxed, self.assignment)
        finally:
            self.free.put(sandbox)

    def _grade_ahead(self, student: str, path: Path):
        from autograder import notebook

        return notebook.answer_cells(path), self.grade(student, path)

    def grade_ahead(self, current: Path | None, upcoming: list[tuple[str, Path]]) -> None:
        """Start grading the next 2 x `jobs` submissions after `current` (queued: a sandbox that is done
        goes on with the next without waiting for nbgrader to come to it); forget grades made ahead for
        submissions that are neither (nbgrader gave up on them)."""
        wanted = {str(path): (student, path) for student, path in upcoming[:2 * self.jobs]}
        for key in [key for key in self.ahead if key not in wanted and key != str(current)]:
            self.ahead.pop(key).cancel()
        for key, (student, path) in wanted.items():
            if key not in self.ahead:
                self.ahead[key] = self.pool.submit(self._grade_ahead, student, path)

    def graded_ahead(self, path: Path, cells: list[str]):
        """The grade made ahead for the submitted file `path` when it graded exactly `cells`, else None."""
        future = self.ahead.pop(str(path), None)
        if future is None:
            return None
        try:
            graded_cells, graded = future.result()
        except Exception:
            return None
        return graded if graded_cells == cells else None

    def stop(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        # All at once: each waits a moment for its zygote to quit.
        stopping = [threading.Thread(target=sandbox.stop) for sandbox in self.sandboxes]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def _warm_judge(seed: int, limits, assignment) -> None:
    """Import the judge (torch) and build the cases in this process while the sandboxes start, not after;
    then freeze what exists, torch's million objects among them, out of the cyclic garbage collector.
    Without that each of nbgrader's full collections walks them all, ~0.1 s each, about a second of a
    25-notebook run; frozen objects are the ones that live to the end anyway."""
    import gc

    gc.disable()    # nor does the collector walk them while they are being made
    try:
        from autograder import batch, source  # noqa: F401

        batch.request_for("", [], seed, limits, assignment)
        if assignment is not None:
            assignment.module("judge")
    except Exception:  # an optimisation only: the first notebook does it otherwise
        pass
    finally:
        gc.freeze()
        gc.enable()


_GRADER: _Grader | None = None


def _db_folder(db_url: str) -> str | None:
    parsed = urlparse(db_url)
    if parsed.scheme.startswith("sqlite") and parsed.path:
        return os.path.dirname(parsed.path)
    return None


def _course_folders(preprocessor) -> list[str]:
    """The course's root and the folders of the submissions and of the graded notebooks (from nbgrader's
    converter; an empty list when that cannot be read)."""
    try:
        coursedir = preprocessor.parent.parent.coursedir
        return [coursedir.root, *(coursedir.format_path(step, ".", ".")
                                  for step in (coursedir.submitted_directory, coursedir.autograded_directory))]
    except Exception:
        return []


def _grader(preprocessor: "IsolatedExecute", resources) -> _Grader:
    """The run's graders, started on first use; stopped when nbgrader exits (or a run of another assignment starts)."""
    global _GRADER
    from autograder import assignments
    unit = assignments.get(resources["nbgrader"]["assignment"])
    if _GRADER is not None and _GRADER.assignment != unit:
        stop()
    if _GRADER is None:
        from autograder import config
        from autograder.batch import Limits
        from autograder.sandbox import Options, choose_mode

        mode = choose_mode(preprocessor.sandbox)
        if not mode.sandboxed:
            preprocessor.log.warning(
                "Grading WITHOUT a sandbox (%s): student code runs as plain child processes with resource "
                "limits only; it can read and write your files. Install bubblewrap.", mode.reason)
        seed = config.seed_from_env()   # without importing the cases (torch): the sandboxes start first
        hide = [os.getcwd(), resources.get("metadata", {}).get("path") or "", *_course_folders(preprocessor),
                _db_folder(resources["nbgrader"].get("db_url", "")) or "", *preprocessor.hide]
        options = Options(hide=sorted({os.path.realpath(path) for path in hide if path}),
                          env={"MSEGRAD_SEED": str(seed)})
        jobs = preprocessor.jobs or default_jobs()
        _GRADER = _Grader(mode, options, seed, Limits.from_env(), max(1, jobs), unit)
        atexit.register(_at_exit)
    return _GRADER


def default_jobs() -> int:
    """Sandboxes for a run: nbgrader's own work keeps one CPU busy, the sandboxes share the others (each
    sandbox costs a start of its own, seconds of CPU, so a second one only pays where a CPU is free for it)."""
    return max(1, min(2, (os.cpu_count() or 1) - 1))


def stop() -> None:
    """Stop the run's sandboxes (nbgrader's exit does it; tests may call it)."""
    global _GRADER
    if _GRADER is not None:
        _GRADER.stop()
        _GRADER = None


def _at_exit() -> None:
    """nbgrader is done: stop the sandboxes, then freeze what this process holds (torch, the judge) out of
    the cyclic garbage collector, which the interpreter's exit would otherwise walk through, object by
    object, for about a second. Objects are still freed as their references go; only cycles are left to
    the process's end, which frees the memory anyway."""
    import gc

    stop()
    gc.freeze()


def _upcoming(preprocessor, resources) -> list[tuple[str, Path]]:
    """(student, submitted notebook) that this nbgrader run autogrades after the current one.

    Read from nbgrader's converter (the submissions it found, in the order it
    goes through them, less those it will skip as already graded); an empty
    list when that cannot be read.
    """
    info = resources["nbgrader"]
    try:
        converter = preprocessor.parent.parent
        coursedir = converter.coursedir
        pattern = coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>.*)",
                                        "(?P<assignment_id>.*)", escape=True)
        order = []
        for folder in sorted(converter.assignments):
            match = re.match(pattern, folder)
            if match is not None and match.group("assignment_id") == info["assignment"]:
                order += [(match.group("student_id"), Path(path)) for path in sorted(converter.assignments[folder])]
        here = next(index for index, (student, path) in enumerate(order)
                    if student == info["student"] and path.stem == info["notebook"])
        upcoming = []
        for student, path in order[here + 1:]:
            done = Path(coursedir.format_path(coursedir.autograded_directory, student, info["assignment"])) / path.name
            if converter.force or not done.exists():
                upcoming.append((student, path))
        return upcoming
    except Exception:  # nbgrader's internals moved: grade one notebook at a time
        return []


def _submitted(preprocessor, resources) -> Path | None:
    """The submitted file nbgrader sanitized into this notebook (where a grade made ahead comes from)."""
    info = resources["nbgrader"]
    try:
        coursedir = preprocessor.parent.parent.coursedir
        folder = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
        return Path(folder) / f"{info['notebook']}.ipynb"
    except Exception:
        return None


# --- the preprocessors ------------------------------------------------------------------------

class IsolatedExecute(NbGraderPreprocessor):
    """Grade the notebook in the course's sandbox and write each grade cell's result into it."""

    in_kernel = Bool(
        False,
        help="Run nbgrader's own Execute instead: the checks run inside the student's kernel, where the "
             "student's code can change them, write the gradebook and read the solutions. For a course "
             "without bubblewrap only; NOT tamper-proof.",
    ).tag(config=True)
    sandbox = Unicode(
        "auto",
        help="'auto' (bubblewrap when it works here, else plain processes with a warning), 'bwrap' "
             "(refuse to grade without it) or 'none'.",
    ).tag(config=True)
    jobs = Integer(0, help="Sandboxes grading at once: the notebook nbgrader is on and the next ones "
                           "of the run (0: one per CPU that nbgrader itself leaves free, at most two; "
                           "at least one).").tag(config=True)
    hide = List(Unicode(), help="More host folders the sandbox must not show (the course directory "
                                "and the gradebook's folder are hidden anyway).").tag(config=True)

    _warned_in_kernel = False

    def preprocess(self, nb, resources):
        if self.in_kernel:
            if not IsolatedExecute._warned_in_kernel:
                IsolatedExecute._warned_in_kernel = True
                self.log.warning(
                    "IsolatedExecute.in_kernel is on: the checks run in the student's kernel. This is NOT "
                    "tamper-proof: a submission can change the checks, the gradebook and read the solutions. "
                    "Grade with the sandbox (the default) or check with `msegrad grade --gradebook`.")
            return Execute(parent=self.parent).preprocess(nb, resources)
        from autograder import notebook

        student, notebook_id = resources["nbgrader"]["student"], resources["nbgrader"]["notebook"]
        graded, failure = None, None
        try:
            grader = _grader(self, resources)
            submitted = _submitted(self, resources)
            grader.grade_ahead(submitted, _upcoming(self, resources))
            with tempfile.TemporaryDirectory(prefix="msegrad-autograde-") as scratch:
                path = Path(scratch) / f"{notebook_id}.ipynb"
                nbformat.write(nb, str(path))
                try:
                    cells = notebook.answer_cells(path)
                except notebook.NotebookError:
                    cells = None
                if cells is not None and submitted is not None:
                    graded = grader.graded_ahead(submitted, cells)
                if graded is None:
                    graded = grader.grade(student, path)
                else:
                    self.log.debug("Graded %s's notebook ahead of nbgrader (the same code cells)", student)
        except Exception as error:  # a grader failure costs this notebook its points, never full marks
            failure = f"{type(error).__name__}: {error}"
            self.log.error("The grader failed on %s's notebook (%s); it scores 0 and needs manual grading.",
                           student, _text(failure, 300))
        write_results(nb, graded, failure)
        flags = list(graded.flags) if graded is not None else ["grader-error"]
        if graded is not None:
            flagged = [word for word in flags if word in REVIEW_FLAGS]
            if flagged:
                self.log.warning("%s's submission needs a person to look at it: %s.", student,
                                 "; ".join(REVIEW_SENTENCES[word] for word in flagged))
        resources[RESOURCES_KEY] = {"flags": flags, "review": review_cells(nb, graded, flags),
                                    "findings": dict(getattr(graded, "findings", None) or {})}
        return nb, resources


class StartGrader(NbGraderPreprocessor):
    """First of the sanitize preprocessors: the run's sandboxes start here, with IsolatedExecute's settings,
    so that they warm up while nbgrader sanitizes the first notebook instead of after it; and the notebook
    being sanitized is graded ahead from its submitted file, first in the queue, then the next ones."""

    def preprocess(self, nb, resources):
        execute = IsolatedExecute(parent=self.parent)
        if not execute.in_kernel and _grades_isolated(self):
            try:
                grader = _grader(execute, resources)
                submitted = _submitted(self, resources)
                if submitted is not None:
                    grader.grade_ahead(None, [(resources["nbgrader"]["student"], submitted),
                                              *_upcoming(self, resources)])
            except Exception:  # IsolatedExecute tries again on this notebook and reports what fails
                pass
        return nb, resources


def _grades_isolated(preprocessor) -> bool:
    """Whether this autograde runs IsolatedExecute (True when nbgrader's converter cannot be read)."""
    steps = getattr(getattr(preprocessor.parent, "parent", None), "autograde_preprocessors", None)
    if steps is None:
        return True
    return any(getattr(step, "__name__", str(step)).rsplit(".", 1)[-1] == IsolatedExecute.__name__ for step in steps)


def write_results(nb, graded, failure: str | None = None) -> None:
    """Each grade cell's feedback and points, and each student cell's output, into `nb` (in place)."""
    from autograder.checks import INDENT, WIDTH, format_result

    results = {result.cell_id: result for result in (graded.results if graded is not None else [])}
    notes = _notes_by_cell(nb, graded)
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or not utils.is_grade(cell):
            continue
        grade_id = cell.metadata.nbgrader.get("grade_id", "")
        max_points = float(cell.metadata.nbgrader.get("points", 0) or 0)
        result = results.get(grade_id)
        if failure is not None or result is None:
            why = (f"the grader failed ({_text(failure, 300)}); a person will grade it" if failure is not None
                   else "the grader has no check with this id")
            text, points = f"[FAIL] {grade_id}: 0/{max_points:g}  No result: {why}.", 0.0
        else:
            points = _points(result.points, max_points)
            shown = copy.copy(result)
            shown.points, shown.message = points, _text(result.message, 4000)
            text = format_result(shown)
        for note in notes.get(grade_id, []):   # wrapped like the checks' own lines (feedback HTML scrolls otherwise)
            text += "\n" + textwrap.fill(f"Note: {note}", WIDTH, subsequent_indent=INDENT, break_on_hyphens=False,
                                         break_long_words=False)
        cell.outputs = [_stream(text), _points_output(points)]
        cell.execution_count = None
    _write_student_cells(nb, graded)


def _notes_by_cell(nb, graded) -> dict[str, list[str]]:
    """The grader's notes about the submission: a note about one function under its first grade cell,
    the others under the notebook's first grade cell."""
    if graded is None or not graded.notes:
        return {}
    spec = _spec_of(graded)

    grade_ids = [cell.metadata.nbgrader.get("grade_id") for cell in nb.cells
                 if cell.get("cell_type") == "code" and utils.is_grade(cell)]
    if not grade_ids:
        return {}
    placed: dict[str, list[str]] = {}
    for note in graded.notes[:10]:
        note = _text(note, NOTE_CHARS)
        function = next((name for name in spec.FUNCTIONS if note.startswith(f"{name}:")), None)
        target = next((grade_id for grade_id in grade_ids
                       if function and spec.CELLS_BY_ID.get(grade_id) and spec.CELLS_BY_ID[grade_id].function == function),
                      grade_ids[0])
        placed.setdefault(target, []).append(note)
    return placed


def _write_student_cells(nb, graded) -> None:
    """The student's cells show what they printed and raised when the grader ran them."""
    reported = getattr(graded, "cells", None) if graded is not None else None
    student_cells = [cell for cell in nb.cells if _is_student_cell(cell)]
    for index, cell in enumerate(student_cells):
        cell.outputs = []
        cell.execution_count = None
        entry = reported[index] if isinstance(reported, list) and index < len(reported) else None
        if not isinstance(entry, dict):
            continue
        output, error = entry.get("output"), entry.get("error")
        if output:
            cell.outputs.append(_stream(_text(output, CELL_OUTPUT_CHARS)))
        if error:
            cell.outputs.append(_error_output(_text(error, CELL_OUTPUT_CHARS)))


def _spec_of(graded):
    """The spec of the assignment `graded` belongs to."""
    from autograder import assignments
    return assignments.get(getattr(graded, "assignment", None)).spec


def review_cells(nb, graded, flags) -> list[str]:
    """The grade cells a person should look at: those of the flagged functions, or all of them."""
    if not any(word in REVIEW_FLAGS for word in flags):
        return []
    grade_ids = [cell.metadata.nbgrader.get("grade_id") for cell in nb.cells
                 if cell.get("cell_type") == "code" and utils.is_grade(cell)]
    findings = getattr(graded, "findings", None) or {}
    if graded is not None and "grader-error" not in flags and findings:
        # The source reading says which functions: a notebook-wide finding ("*") is every function's.
        functions = {function for function, kinds in findings.items() if set(kinds) & set(REVIEW_FLAGS)}
        if functions and "*" not in functions:
            spec = _spec_of(graded)
            return [grade_id for grade_id in grade_ids
                    if grade_id in spec.CELLS_BY_ID and spec.CELLS_BY_ID[grade_id].function in functions]
        if functions:
            return grade_ids
    if graded is not None and "grader-error" not in flags:
        named = [result.cell_id for result in graded.results if result.mistake in REVIEW_FLAGS]
        if named:
            return [grade_id for grade_id in grade_ids if grade_id in named]
    return grade_ids


class FlagForReview(NbGraderPreprocessor):
    """After SaveAutoGrades: grades a person should look at need manual grading, with a comment saying why."""

    def preprocess(self, nb, resources):
        found = resources.get(RESOURCES_KEY) or {}
        review = found.get("review") or []
        if not review:
            return nb, resources
        from nbgrader.api import Gradebook, MissingEntry

        from autograder import assignments

        info = resources["nbgrader"]
        spec = assignments.get(info["assignment"]).spec
        findings = found.get("findings") or {}

        def comment_for(function: str | None) -> str:
            # That function's findings and the notebook-wide ones; without findings, every flag.
            words = list(findings.get(function, [])) + list(findings.get("*", [])) if findings else []
            if "grader-error" in found.get("flags", []) or not words:
                words += found.get("flags", [])
            why = "; ".join(REVIEW_SENTENCES[word] for word in dict.fromkeys(words) if word in REVIEW_SENTENCES)
            return f"Flagged for a person to review: {why}. The automatic score stands until a grader changes it."

        with Gradebook(info["db_url"]) as gradebook:
            functions = set()
            for grade_id in review:
                try:
                    grade = gradebook.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                grade.needs_manual_grade = True
                if grade_id in spec.CELLS_BY_ID:
                    functions.add(spec.CELLS_BY_ID[grade_id].function)
            for cell in nb.cells:
                if not utils.is_solution(cell):
                    continue
                grade_id = cell.metadata.nbgrader.get("grade_id", "")
                if functions and not any(grade_id.startswith(function) for function in functions):
                    continue
                function = next((name for name in functions if grade_id.startswith(name)), None)
                try:
                    gradebook.find_comment(grade_id, info["notebook"], info["assignment"],
                                           info["student"]).auto_comment = comment_for(function)
                except MissingEntry:
                    continue
            gradebook.db.commit()
        return nb, resources


_RUNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _per_run(preprocessor) -> dict:
    """What the preprocessors keep for the rest of one nbgrader run (keyed by its exporter, which nbgrader
    makes anew for every run, also in a long-lived formgrader); an empty dict outside a run."""
    exporter = preprocessor.parent
    if exporter is None:
        return {}
    try:
        return _RUNS.setdefault(exporter, {})
    except TypeError:   # not weakly referable
        return {}


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's check of one cell's metadata against its JSON schema, with the schema itself checked once.

    ``jsonschema.validate``, which nbgrader calls for every cell, first
    checks the schema against the metaschema: ~30 ms of every notebook's
    autograde, twice. The cell's check is the same: the same errors, the
    best match raised.
    """

    _validators: dict = {}

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        meta = cell.metadata["nbgrader"]
        version = meta.get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        validator = self._validators.get(self.schema_version)
        if validator is None:
            kind = jsonschema.validators.validator_for(self.schema)
            kind.check_schema(self.schema)
            validator = self._validators[self.schema_version] = kind(self.schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(meta))
        if error is not None:
            raise error


class _MetadataValidatorOnce(_MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's MetadataValidator; its call to the base class's validate_cell lands in _SchemaCheckedOnce."""


class CheckCellMetadata(_CheckCellMetadata):
    """nbgrader's CheckCellMetadata (unique grade ids, valid nbgrader metadata) with the schema checked once a
    run instead of once a cell. The same notebooks pass and fail, with the same messages."""

    def preprocess(self, nb, resources):
        try:
            _MetadataValidatorOnce().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message)
        return nb, resources


class OverwriteCells(_OverwriteCells):
    """nbgrader's OverwriteCells, silent about hidden-test cells that are exactly as released.

    The gradebook keeps a hidden-test cell's source with its hidden tests;
    the release cut them, so every honest submission differs from it. Any
    other change to a locked cell is still reported, and every locked cell
    is still restored from the gradebook.
    """

    _as_released = False

    def preprocess_cell(self, cell, resources, cell_index):
        self._as_released = False
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            released = self._released(grade_id)
            self._as_released = released is not None and cell.source == released
        return super().preprocess_cell(cell, resources, cell_index)

    def _released(self, grade_id: str) -> str | None:
        """The released source of a locked cell whose hidden tests the release cut, else None (read from the
        gradebook once a run: the source cells do not change while nbgrader grades)."""
        known = _per_run(self).setdefault("released cells", {})
        key = (self.db_url, self.assignment_id, self.notebook_id, grade_id)
        if key not in known:
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except Exception:  # nbgrader's own code reports a missing cell
                source = None
            known[key] = None
            if source is not None and source.locked:
                released = nbformat.from_dict({"cell_type": source.cell_type, "source": source.source,
                                               "metadata": {}})
                if _ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(released):
                    known[key] = released.source
        return known[key]

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and self._as_released:
            return
        super().report_change(name, attr, old, new)


class ClearHiddenTests(_ClearHiddenTests):
    """nbgrader's ClearHiddenTests, accepting the option the HTML exporter gives every preprocessor."""

    display_data_priority = List(["text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png",
                                  "image/jpeg", "text/plain"]).tag(config=True)


def due_date_utc():
    """course.toml's deadline.due as nbgrader stores dates (naive UTC), or None."""
    import datetime

    from autograder import config
    due = config.get("deadline", "due")
    return None if due is None else due.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def set_due_date(db_url: str, assignment: str) -> None:
    """Write course.toml's due date into the gradebook (what `nbgrader export` and the late penalty read)."""
    from nbgrader.api import Gradebook

    due = due_date_utc()
    with Gradebook(db_url) as gradebook:
        if gradebook.update_or_create_assignment(assignment).duedate != due:
            gradebook.update_or_create_assignment(assignment, duedate=due)


class SetDueDate(NbGraderPreprocessor):
    """The assignment's due date, from course.toml, in the gradebook before anything reads it (once a run)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        done = _per_run(self).setdefault("due date set", set())
        if (info["db_url"], info["assignment"]) not in done:
            set_due_date(info["db_url"], info["assignment"])
            done.add((info["db_url"], info["assignment"]))
        return nb, resources


class CourseLatePolicy(LateSubmissionPlugin):
    """course.toml's late policy: deadline.late_penalty_per_day of the score per day (or part of one)
    late, nothing after deadline.late_days_max days."""

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        import datetime

        from autograder import config

        deadline = config.settings()["deadline"]
        start = datetime.datetime(2000, 1, 1)
        days = config.late_days(start + datetime.timedelta(seconds=total_seconds_late), start)
        factor = config.late_factor(days, deadline["late_penalty_per_day"], deadline["late_days_max"])
        return score * (1.0 - factor)
