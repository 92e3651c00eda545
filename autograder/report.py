"""The class report: what a grades CSV says about the class, as one HTML page with plots.

``write_report(csv_path, out_dir)`` reads the CSV that ``msegrad grade``
writes (student, score, max_score, one column per grade cell, flags, and when
present ``mistakes`` and ``seconds``) and writes ``out_dir/index.html`` with
PNG plots beside it: the score histogram, the pass rate of every check, the
named mistakes (the misconceptions to take up in the next lecture, with the
catalogue's sentence for each), the flagged students and the slowest
submissions. ``Report.summary()`` is the same in a few lines for the terminal.

Rows are parsed into numpy arrays once; every statistic is a vectorised pass
over them, so 10,000 students cost about as much as 25 (the plots dominate).
"""
from __future__ import annotations

import csv
import html
import io
import math
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import assignments, spec

DEFAULT_OUT = Path("out") / "report"
REQUIRED = ("student", "score", "max_score", "flags")
OPTIONAL = ("mistakes", "seconds", "assignment")
# Rows listed by name in the page; the plots and counts always cover everyone.
MAX_FLAGGED_ROWS = 100
SLOWEST_ROWS = 10
MAX_MISTAKE_BARS = 15
# Mistakes that are not in the catalogue's sentences: why a notebook could not be graded at all.
NOTEBOOK_SENTENCES = {
    "not-json": "was not valid JSON: not a notebook saved from Jupyter.",
    "not-notebook": "was JSON but not a Jupyter notebook.",
    "no-answers": "had no answer cells: not the notebook released by the course.",
    "unreadable": "could not be read.",
    "no-notebook": "was not submitted (no .ipynb file).",
    "answer-key": "reached for the grader's own code or answers (imports, solutions/, the gradebook).",
    "autograd": "used autograd where the gradient was to be derived by hand.",
    "review": "does something the grader cannot see through: read it before the grade is final.",
    "grader-error": "could not be judged: the grader failed on it.",
}
# Flags that say how the whole run went when every row has them (grading without
# bubblewrap flags everyone): reported once, not as every student's flag.
RUN_FLAGS = ("unsandboxed", "no-cgroup", "no-namespaces")
GREEN, AMBER, RED, GREY, BLUE = "#1a7f37", "#d4a72c", "#cf222e", "#8c959f", "#0969da"


class ReportError(Exception):
    """A grades CSV that cannot be reported on: missing, empty or malformed."""


@dataclass
class ClassGrades:
    """A grades CSV as arrays: one entry per student, in file order."""

    path: Path
    students: list[str]
    scores: np.ndarray                  # (n,)
    max_score: float
    cell_ids: list[str]
    cell_max: np.ndarray                # (cells,) the points each check is worth
    points: np.ndarray                  # (n, cells)
    flags: list[list[str]]
    mistakes: list[dict[str, str]] | None = None     # per student: {cell_id: mistake_id}; None without the column
    seconds: np.ndarray | None = None                # (n,), NaN where empty; None without the column
    warnings: list[str] = field(default_factory=list)
    unit: assignments.Assignment | None = None       # the assignment the CSV grades

    @property
    def spec(self):
        return assignments.get(self.unit).spec

    @property
    def size(self) -> int:
        return len(self.students)


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReportError(f"line {line}: {column} is {text!r}, not a number") from None
    if not math.isfinite(value):
        raise ReportError(f"line {line}: {column} is {text!r}, not a finite number")
    return value


def _function_of(cell_id: str, own=spec) -> str:
    """The function a cell grades: cell ids begin with its name (the longest that fits)."""
    if cell_id in own.CELLS_BY_ID:
        return own.CELLS_BY_ID[cell_id].function
    matches = [name for name in own.FUNCTIONS if cell_id.startswith(name)]
    return max(matches, key=len) if matches else cell_id


def _unit_of(header: list[str], body, index: dict) -> assignments.Assignment:
    """The assignment a CSV grades: its assignment column, else the unit that has its first grade cell."""
    if "assignment" in index and body:
        name = body[0][1][index["assignment"]].strip()
        if name in assignments.names():
            return assignments.get(name)
    for name in header:
        if name not in REQUIRED and name not in OPTIONAL:
            try:
                return assignments.for_cell(name)
            except KeyError:
                continue
    return assignments.get()


def read_grades(csv_path: str | os.PathLike) -> ClassGrades:
    """Parse a grades CSV; ReportError names the problem (and the line) when it is not one."""
    path = Path(csv_path)
    if not path.exists():
        raise ReportError(f"{path}: no such file")
    if path.is_dir():
        raise ReportError(f"{path}: is a folder, not a grades CSV")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror})") from None
    expected = ", ".join(("student", "score", "max_score", "<one column per check>", "flags"))
    if not data.strip():
        raise ReportError(f"{path}: is empty; expected the CSV `msegrad grade --csv` writes ({expected})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReportError(f"{path}: is not UTF-8 text ({error.reason} at byte {error.start}); is it a CSV?") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [name.strip() for name in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        shown = ", ".join(header[:6]) + (", ..." if len(header) > 6 else "")
        raise ReportError(f"{path}: not a grades CSV: no {', '.join(missing)} column"
                          f"{'s' if len(missing) > 1 else ''} in the header ({shown}); expected {expected}")
    if len(set(header)) != len(header):
        raise ReportError(f"{path}: the header names a column twice")
    index = {name: position for position, name in enumerate(header)}
    cell_ids = [name for name in header if name not in REQUIRED and name not in OPTIONAL]
    warnings = []
    body = rows[1:]
    if body and len(body[-1]) != len(header) and not text.endswith(("\n", "\r")):
        # A grading run still writing (or killed mid-row) leaves its last line cut short.
        warnings.append(f"line {len(rows)} is cut short (is grading still running?) and was left out")
        body = body[:-1]
    body = [(line, row) for line, row in enumerate(body, start=2) if any(cell.strip() for cell in row)]
    if not body:
        raise ReportError(f"{path}: has a header but no students")
    for line, row in body:
        if len(row) != len(header):
            raise ReportError(f"line {line}: {len(row)} fields, the header has {len(header)}")
    unit = _unit_of(header, body, index)
    own = unit.spec
    if "assignment" in index and len({row[index["assignment"]] for _, row in body}) > 1:
        raise ReportError(f"{path}: rows of several assignments; report one assignment's CSV at a time")
    n = len(body)
    students = [row[index["student"]] for _, row in body]
    scores = np.array([_number(row[index["score"]], line, "score") for line, row in body])
    maxima = np.array([_number(row[index["max_score"]], line, "max_score") for line, row in body])
    points = np.empty((n, len(cell_ids)))
    for column, cell_id in enumerate(cell_ids):
        position = index[cell_id]
        try:
            points[:, column] = np.array([row[position] for _, row in body], dtype=float)
        except ValueError:   # find the offending line for the message
            for line, row in body:
                _number(row[position], line, cell_id)
        if not np.all(np.isfinite(points[:, column])):
            line = body[int(np.argmax(~np.isfinite(points[:, column])))][0]
            raise ReportError(f"line {line}: {cell_id} is not a finite number")
    cell_max = np.array([own.CELLS_BY_ID[cell_id].points if cell_id in own.CELLS_BY_ID
                         else max(float(points[:, column].max()), 1.0)
                         for column, cell_id in enumerate(cell_ids)], dtype=float)
    unknown = [cell_id for cell_id in cell_ids if cell_id not in own.CELLS_BY_ID]
    if unknown:
        warnings.append(f"columns not in this course's checks (their best score is taken as their maximum): "
                        f"{', '.join(unknown)}")
    max_score = float(np.max(maxima))
    if np.any(maxima != max_score):
        warnings.append("max_score differs between rows; the largest is used")
    flags = [row[index["flags"]].split() for _, row in body]
    mistakes = None
    if "mistakes" in index:
        mistakes = []
        for line, row in body:
            found = {}
            for token in row[index["mistakes"]].split():
                cell_id, equals, mistake = token.partition("=")
                if not equals or not cell_id or not mistake:
                    raise ReportError(f"line {line}: mistakes has {token!r}; expected cell_id=mistake_id words")
                found[cell_id] = mistake
            mistakes.append(found)
    seconds = None
    if "seconds" in index:
        seconds = np.array([_number(row[index["seconds"]], line, "seconds") if row[index["seconds"]].strip()
                            else math.nan for line, row in body])
    return ClassGrades(path, students, scores, max_score, cell_ids, cell_max, points, flags,
                       mistakes, seconds, warnings, unit)


# --- statistics ---------------------------------------------------------------------------

@dataclass
class MistakeCount:
    """One named mistake: how many students made it, and in which functions and checks."""

    id: str
    students: int
    functions: Counter            # function -> students
    cells: Counter                # cell id -> students
    unit: assignments.Assignment | None = None

    def sentence(self) -> str:
        """The catalogue's sentence, with the function it is about as its subject."""
        own = assignments.get(self.unit).spec
        function = self.functions.most_common(1)[0][0]
        subject = own.NAMES.get(function, function)
        if len(self.functions) > 1:
            subject = "A gradient" if all(name in own.GRADIENT_FUNCTIONS for name in self.functions) \
                else "The function"
        text = catalogue_sentences(self.unit).get(self.id)
        if text is None:
            text = _mistakes(self.unit).sentence_of(self.id)     # a pair of catalogued mistakes, "a+b"
        if text is None:
            return "(not in the mistake catalogue)"
        return f"{subject} {text}" if not text[:1].isupper() else text

    @property
    def misconception(self) -> bool:
        """A wrong formula or update rule from the catalogue, as opposed to code that did not run or return."""
        return all(part in misconception_ids(self.unit) for part in self.id.split("+"))


def _display(count: MistakeCount, function: str) -> str:
    """How the feedback names a function of the count's assignment ("dC/dm")."""
    return assignments.get(count.unit).spec.NAMES.get(function, function)


def _full_stop(sentence: str) -> str:
    return sentence if sentence.endswith((".", "?", "!")) else sentence + "."


_SENTENCES: dict[str, dict[str, str]] = {}
_MISCONCEPTIONS: dict[str, frozenset[str]] = {}


def _mistakes(unit=None):
    """The assignment's mistake catalogue (docs/assignments.md: CATALOGUE, KIND_SENTENCES, sentence_of)."""
    return assignments.get(unit).module("mistakes")


def misconception_ids(unit=None) -> frozenset[str]:
    """The catalogue's formula and descent mistakes (what a lecture can address)."""
    name = assignments.get(unit).name
    if name not in _MISCONCEPTIONS:
        _MISCONCEPTIONS[name] = frozenset(m.id for m in _mistakes(unit).CATALOGUE)
    return _MISCONCEPTIONS[name]


def catalogue_sentences(unit=None) -> dict[str, str]:
    """mistake id -> the sentence that names it (imports the catalogue, and torch with it, once)."""
    name = assignments.get(unit).name
    if name not in _SENTENCES:
        from autograder import judge
        catalogue = _mistakes(unit)
        sentences = {kind: _full_stop(sentence) for kind, sentence in judge.FAILURES.items()}
        sentences.update(NOTEBOOK_SENTENCES)
        sentences.update({kind: _full_stop(sentence) for kind, sentence in catalogue.KIND_SENTENCES.items()})
        for mistake in catalogue.CATALOGUE:
            sentences[mistake.id] = mistake.sentence
        _SENTENCES[name] = sentences
    return _SENTENCES[name]


@dataclass
class Report:
    grades: ClassGrades

    # Scores and checks -------------------------------------------------------------
    @property
    def mean(self) -> float:
        return float(np.mean(self.grades.scores))

    @property
    def median(self) -> float:
        return float(np.median(self.grades.scores))

    def full_marks(self) -> int:
        return int(np.sum(self.grades.scores >= self.grades.max_score - 1e-9))

    def check_rates(self) -> list[tuple[str, float, float, float]]:
        """(cell id, fraction with full points, with some, with none) per check, in CSV order."""
        points, maxima = self.grades.points, self.grades.cell_max
        full = np.mean(points >= maxima - 1e-9, axis=0)
        none = np.mean(points <= 1e-9, axis=0)
        return [(cell_id, float(full[i]), float(1.0 - full[i] - none[i]), float(none[i]))
                for i, cell_id in enumerate(self.grades.cell_ids)]

    # Mistakes -----------------------------------------------------------------------
    def mistake_counts(self) -> list[MistakeCount] | None:
        """Named mistakes by the number of students who made them (most first); None without the column."""
        if self.grades.mistakes is None:
            return None
        functions: dict[str, Counter] = defaultdict(Counter)
        cells: dict[str, Counter] = defaultdict(Counter)
        students: Counter = Counter()
        for found in self.grades.mistakes:
            per_student = defaultdict(set)
            for cell_id, mistake in found.items():
                cells[mistake][cell_id] += 1
                per_student[mistake].add(_function_of(cell_id, self.grades.spec))
            for mistake, names in per_student.items():
                students[mistake] += 1
                functions[mistake].update(names)
        return [MistakeCount(mistake, count, functions[mistake], cells[mistake], self.grades.unit)
                for mistake, count in sorted(students.items(), key=lambda item: (-item[1], item[0]))]

    def misconceptions(self) -> list[MistakeCount] | None:
        """The catalogue's wrong formulas and update rules, most common first; None without the column."""
        counts = self.mistake_counts()
        return None if counts is None else [count for count in counts if count.misconception]

    def other_problems(self) -> list[MistakeCount] | None:
        """Lost points for other reasons: not written, errors, crashes, timeouts, wrong types ..."""
        counts = self.mistake_counts()
        return None if counts is None else [count for count in counts if not count.misconception]

    # Flags and time -----------------------------------------------------------------
    def run_flags(self) -> list[str]:
        """RUN_FLAGS that every row carries: said once about the run, left out of the students' flags."""
        return [word for word in RUN_FLAGS if all(word in words for words in self.grades.flags)]

    def student_flags(self, row: int) -> list[str]:
        skip = self.run_flags()
        return [word for word in self.grades.flags[row] if word not in skip]

    def flag_counts(self) -> Counter:
        skip = set(self.run_flags())
        return Counter(word for words in self.grades.flags for word in set(words) if word not in skip)

    def flagged(self) -> list[int]:
        skip = set(self.run_flags())
        return [row for row, words in enumerate(self.grades.flags) if set(words) - skip]

    def slowest(self, count: int = SLOWEST_ROWS) -> list[int] | None:
        """Rows of the slowest submissions (student code's seconds), slowest first; None without the column."""
        seconds = self.grades.seconds
        if seconds is None:
            return None
        known = np.flatnonzero(np.isfinite(seconds))
        if known.size == 0:
            return []
        count = min(count, known.size)
        top = known[np.argpartition(-seconds[known], count - 1)[:count]]
        return [int(row) for row in top[np.argsort(-seconds[top], kind="stable")]]

    # The terminal's summary ---------------------------------------------------------
    def summary(self) -> str:
        grades = self.grades
        lines = [f"{grades.size:,} student{'s' if grades.size != 1 else ''}: mean {self.mean:.2f} / {grades.max_score:g}, "
                 f"median {self.median:g}, {self.full_marks():,} with full marks"]
        counts = self.misconceptions()
        if counts is None:
            lines.append("top mistakes: unknown (the CSV has no mistakes column)")
        elif not counts:
            lines.append("top mistakes: none named")
        else:
            lines.append("top mistakes: " + ", ".join(
                f"{count.id} ({count.students:,} student{'s' if count.students != 1 else ''})" for count in counts[:3]))
        flagged = self.flagged()
        if flagged:
            common = ", ".join(f"{word} {number}" for word, number in self.flag_counts().most_common(5))
            lines.append(f"flagged: {len(flagged):,} student{'s' if len(flagged) != 1 else ''} ({common})")
        else:
            lines.append("flagged: none")
        if "unsandboxed" in self.run_flags():
            lines.append("WARNING: every submission was graded without the sandbox (flag unsandboxed)")
        if "no-cgroup" in self.run_flags():
            lines.append("note: memory and processes were capped per process, not per submission (flag no-cgroup)")
        return "\n".join(lines)


# --- plots ----------------------------------------------------------------------------------

def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height), dpi=128, layout="constrained")
    return figure, figure.subplots()


def _save(figure, path: Path) -> None:
    figure.savefig(path, format="png")


def plot_scores(report: Report, path: Path) -> None:
    grades = report.grades
    figure, axes = _figure(7.5, 3.4)
    top = max(grades.max_score, float(grades.scores.max()))
    edges = np.arange(-0.5, math.floor(top) + 1.5, 1.0)
    counts, _, bars = axes.hist(grades.scores, bins=edges, color=BLUE, edgecolor="white")
    for bar, low in zip(bars, edges[:-1]):
        if low + 0.5 >= grades.max_score - 1e-9:
            bar.set_facecolor(GREEN)
    axes.axvline(report.mean, color="black", linewidth=1.2, label=f"mean {report.mean:.2f}")
    axes.axvline(report.median, color="black", linewidth=1.2, linestyle="--", label=f"median {report.median:g}")
    axes.set_xlim(-0.8, top + 0.8)
    axes.set_xlabel(f"score (out of {grades.max_score:g}; bars are one point wide)")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    _save(figure, path)


def plot_checks(report: Report, path: Path) -> None:
    rates = report.check_rates()
    figure, axes = _figure(7.5, 0.42 * len(rates) + 1.0)
    own = report.grades.spec
    labels = [cell_id + ("" if cell_id not in own.CELLS_BY_ID or own.CELLS_BY_ID[cell_id].visible else " (hidden)")
              for cell_id, *_ in rates]
    y = np.arange(len(rates))[::-1]
    full = np.array([rate[1] for rate in rates]) * 100
    partial = np.array([rate[2] for rate in rates]) * 100
    none = np.array([rate[3] for rate in rates]) * 100
    axes.barh(y, full, color=GREEN, label="full points")
    axes.barh(y, partial, left=full, color=AMBER, label="some points")
    axes.barh(y, none, left=full + partial, color=RED, label="no points")
    for row, value in zip(y, full):
        axes.text(1.5, row, f"{value:.0f}%", va="center", ha="left", color="white" if value >= 8 else "black",
                  fontsize=9, fontweight="bold")
    axes.set_yticks(y, labels, fontsize=9)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of students")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    _save(figure, path)


def plot_mistakes(counts: list[MistakeCount], size: int, path: Path) -> None:
    shown = counts[:MAX_MISTAKE_BARS]
    figure, axes = _figure(7.5, 0.38 * len(shown) + 1.0)
    y = np.arange(len(shown))[::-1]
    values = [count.students for count in shown]
    axes.barh(y, values, color=RED)
    for row, value in zip(y, values):
        axes.text(value, row, f" {value:,} ({_percent(value, size)})", va="center", fontsize=9)
    labels = [f"{count.id} · {', '.join(_display(count, name) for name, _ in count.functions.most_common())}"
              for count in shown]
    axes.set_yticks(y, labels, fontsize=9)
    axes.set_xlim(0, max(values) * 1.25)
    axes.set_xlabel("students who made the mistake")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    _save(figure, path)


def plot_flags(flag_counts: Counter, path: Path) -> None:
    items = flag_counts.most_common()
    figure, axes = _figure(7.5, 0.3 * len(items) + 1.0)
    y = np.arange(len(items))[::-1]
    axes.barh(y, [count for _, count in items], color=AMBER, height=0.6)
    for row, (_, count) in zip(y, items):
        axes.text(count, row, f" {count}", va="center", fontsize=9)
    axes.set_yticks(y, [word for word, _ in items], fontsize=9)
    axes.set_xlim(0, max(count for _, count in items) * 1.2)
    axes.set_xlabel("students flagged")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    _save(figure, path)


def plot_seconds(seconds: np.ndarray, path: Path) -> None:
    known = seconds[np.isfinite(seconds)]
    figure, axes = _figure(7.5, 2.8)
    low = max(float(known.min()), 1e-3)
    high = max(float(known.max()), low * 10)
    axes.hist(np.clip(known, low, None), bins=np.geomspace(low, high, 40), color=GREY, edgecolor="white")
    axes.set_xscale("log")
    from matplotlib.ticker import FuncFormatter
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g} s"))
    axes.set_xlabel("seconds the student's code ran (log scale)")
    axes.set_ylabel("students")
    axes.spines[["top", "right"]].set_visible(False)
    _save(figure, path)


# --- the page --------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h3 { margin-top: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.lead { color: #555; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1.2rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .9rem; min-width: 8rem; }
.card b { display: block; font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.card span { color: #555; font-size: .85rem; }
img { max-width: 100%; height: auto; display: block; margin: .6rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
table.compact { width: auto; min-width: 28rem; }
table.mistakes { table-layout: fixed; }
table.mistakes code { overflow-wrap: anywhere; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
.flag { display: inline-block; background: #fff1e5; border: 1px solid #d4a72c; border-radius: 3px; padding: 0 .3rem; margin: 0 .2rem .1rem 0; font-size: .85rem; }
.note { background: #f6f8fa; border-left: 4px solid #8c959f; padding: .5rem .8rem; }
.warn { background: #fff8c5; border-left: 4px solid #d4a72c; padding: .5rem .8rem; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _percent(count: int, size: int) -> str:
    share = 100 * count / size
    return "<1%" if 0 < share < 0.5 else f"{share:.0f}%"


def _students(count: int) -> str:
    return f"{count:,} student{'s' if count != 1 else ''}"


def _mistake_table(counts: list[MistakeCount], size: int, heading: str = "mistake") -> str:
    rows = ['<table class="mistakes"><colgroup><col style="width: 13rem"><col style="width: 6.5rem">'
            '<col style="width: 11rem"><col></colgroup>',
            f"<tr><th>{heading}</th><th>students</th><th>in</th><th>what it means</th></tr>"]
    for count in counts:
        where = ", ".join(f"{_display(count, name)} ({number:,})" for name, number in count.functions.most_common())
        rows.append(f'<tr><td><code>{_e(count.id)}</code></td><td class="n">{count.students:,} '
                    f'({_percent(count.students, size)})</td><td>{_e(where)}</td><td>{_e(count.sentence())}</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _flags_html(words) -> str:
    return " ".join(f'<span class="flag">{_e(word)}</span>' for word in words)


def _page(report: Report, images: dict[str, str]) -> str:
    grades = report.grades
    size = grades.size
    parts = [f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class report: {_e(report.grades.spec.ASSIGNMENT)}</title><style>{STYLE}</style></head><body>
<h1>Class report: {_e(report.grades.spec.ASSIGNMENT)}</h1>
<p class="lead">From <code>{_e(grades.path.name)}</code>: {_students(size)}, graded out of {grades.max_score:g} points.</p>
"""]
    for warning in grades.warnings:
        parts.append(f'<p class="warn">{_e(warning)}</p>')
    if "unsandboxed" in report.run_flags():
        parts.append('<p class="warn">Every submission was graded <b>without the sandbox</b> (each row is flagged '
                     '<code>unsandboxed</code>): student code ran with resource limits only.</p>')
    flagged = report.flagged()
    parts.append('<div class="cards">' + "".join(
        f'<div class="card"><b>{value}</b><span>{_e(label)}</span></div>' for value, label in (
            (f"{size:,}", "students"), (f"{report.mean:.2f}", "mean score"), (f"{report.median:g}", "median score"),
            (f"{report.full_marks():,}", "full marks"), (f"{len(flagged):,}", "flagged"))) + "</div>")

    parts.append('<h2 id="scores">Scores</h2>')
    parts.append(f'<img src="{images["scores"]}" alt="Histogram of the scores: mean {report.mean:.2f}, median {report.median:g}">')

    parts.append('<h2 id="checks">Checks</h2><p>The share of students with full, some and no points on every '
                 'check, in notebook order. Hidden checks are the ones students cannot run before submitting.</p>')
    parts.append(f'<img src="{images["checks"]}" alt="Pass rate of every check">')
    parts.append("<table><tr><th>check</th><th>points</th><th>full points</th><th>what it checks</th></tr>")
    for cell_id, full, partial, none in report.check_rates():
        cell = report.grades.spec.CELLS_BY_ID.get(cell_id)
        described = cell.description if cell else ""
        worth = f"{cell.points:g}" if cell else "?"
        parts.append(f'<tr><td><code>{_e(cell_id)}</code>{"" if not cell or cell.visible else " (hidden)"}</td>'
                     f'<td class="n">{worth}</td><td class="n">{100 * full:.0f}%</td><td>{_e(described)}</td></tr>')
    parts.append("</table>")

    parts.append('<h2 id="mistakes">Mistakes to address in the next lecture</h2>')
    counts = report.misconceptions()
    if counts is None:
        parts.append('<p class="note">This CSV has no <code>mistakes</code> column, so the named mistakes cannot '
                     'be counted. Grade again with a version of <code>msegrad grade</code> that writes it; the '
                     'pass rates above show where points were lost.</p>')
    else:
        if not counts:
            parts.append('<p class="note">No check lost points to a wrong formula or update rule from the '
                         'catalogue.</p>')
        else:
            parts.append("<p>Each wrong formula or update rule the grader recognised, by the number of students who "
                         "made it (a student counts once however many checks it cost them), with the sentence "
                         "their feedback showed.</p>")
            if len(counts) > MAX_MISTAKE_BARS:
                parts.append(f"<p>The plot shows the {MAX_MISTAKE_BARS} most common; the table lists all {len(counts)}.</p>")
            parts.append(f'<img src="{images["mistakes"]}" alt="Students per named mistake">')
            parts.append(_mistake_table(counts, size))
        others = report.other_problems()
        if others:
            parts.append('<h3>Other reasons for lost points</h3><p>Code that was not written, raised an error, '
                         'crashed, ran out of time or returned the wrong kind of value.</p>')
            parts.append(_mistake_table(others, size, heading="problem"))

    parts.append('<h2 id="flagged">Flagged students</h2>')
    if not flagged:
        parts.append('<p class="note">No submission was flagged (no timeouts, crashes, memory blow-ups, tampering '
                     'or unsandboxed runs).</p>')
    else:
        parts.append(f"<p>{_students(len(flagged))} whose grading hit something worth a look: timeouts, crashes, "
                     "memory, tampering with the grader's libraries, code that ran outside the sandbox. "
                     "The score already accounts for it; the flag says why.</p>")
        parts.append(f'<img src="{images["flags"]}" alt="Students per flag">')
        parts.append('<table class="compact"><tr><th>student</th><th>score</th><th>flags</th></tr>')
        for row in flagged[:MAX_FLAGGED_ROWS]:
            parts.append(f'<tr><td>{_e(grades.students[row])}</td><td class="n">{grades.scores[row]:g}</td>'
                         f"<td>{_flags_html(report.student_flags(row))}</td></tr>")
        parts.append("</table>")
        if len(flagged) > MAX_FLAGGED_ROWS:
            parts.append(f"<p>... and {len(flagged) - MAX_FLAGGED_ROWS:,} more: see the <code>flags</code> column "
                         f"of <code>{_e(grades.path.name)}</code>.</p>")

    parts.append('<h2 id="slowest">Slowest submissions</h2>')
    slowest = report.slowest()
    if slowest is None:
        parts.append('<p class="note">This CSV has no <code>seconds</code> column, so run times are unknown.</p>')
    elif not slowest:
        parts.append('<p class="note">No run times were recorded.</p>')
    else:
        parts.append("<p>Seconds the student's own code ran (the top level and every check's calls), slowest first.</p>")
        parts.append(f'<img src="{images["seconds"]}" alt="Distribution of run times">')
        parts.append('<table class="compact"><tr><th>student</th><th>seconds</th><th>score</th><th>flags</th></tr>')
        for row in slowest:
            parts.append(f'<tr><td>{_e(grades.students[row])}</td><td class="n">{grades.seconds[row]:.2f}</td>'
                         f'<td class="n">{grades.scores[row]:g}</td><td>{_flags_html(report.student_flags(row))}</td></tr>')
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def build_report(csv_path: str | os.PathLike) -> Report:
    return Report(read_grades(csv_path))


def write(report: Report, out_dir: str | os.PathLike = DEFAULT_OUT) -> Path:
    """Write index.html and its PNGs into out_dir (created); returns index.html's path."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"{out}: cannot be created ({error.strerror})") from None
    images = {"scores": "scores.png", "checks": "checks.png"}
    plot_scores(report, out / images["scores"])
    plot_checks(report, out / images["checks"])
    counts = report.misconceptions()
    if counts:
        images["mistakes"] = "mistakes.png"
        plot_mistakes(counts, report.grades.size, out / images["mistakes"])
    flag_counts = report.flag_counts()
    if flag_counts:
        images["flags"] = "flags.png"
        plot_flags(flag_counts, out / images["flags"])
    if report.slowest():
        images["seconds"] = "seconds.png"
        plot_seconds(report.grades.seconds, out / images["seconds"])
    # Plots left over from an earlier report of another CSV would be stale.
    for stale in {"mistakes.png", "flags.png", "seconds.png"} - set(images.values()):
        (out / stale).unlink(missing_ok=True)
    index = out / "index.html"
    index.write_text(_page(report, images), encoding="utf-8")
    return index


def write_index(csv_paths, out_dir: str | os.PathLike = DEFAULT_OUT) -> Path:
    """out_dir/index.html: one line per assignment's report (written beside it, in out_dir/<id>/)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for csv_path in csv_paths:
        built = build_report(csv_path)
        name = built.grades.spec.ASSIGNMENT
        if not (out / name / "index.html").exists():
            write(built, out / name)
        top = built.misconceptions() or []
        common = ", ".join(f"<code>{_e(count.id)}</code> ({count.students})" for count in top[:3]) or "none named"
        rows.append(f'<tr><td><a href="{_e(name)}/index.html">{_e(name)}</a></td>'
                    f'<td class="n">{built.grades.size:,}</td>'
                    f'<td class="n">{built.mean:.2f} / {built.grades.max_score:g}</td>'
                    f'<td class="n">{built.full_marks():,}</td><td>{common}</td></tr>')
    for stale in ("scores.png", "checks.png", "mistakes.png", "flags.png", "seconds.png"):
        (out / stale).unlink(missing_ok=True)    # a one-assignment report written here before
    index = out / "index.html"
    index.write_text(f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Class reports</title><style>{STYLE}</style></head><body>
<h1>Class reports</h1>
<p>One report per assignment, from the grades CSV <code>msegrad grade</code> wrote for it.</p>
<table><tr><th>assignment</th><th>students</th><th>mean score</th><th>full marks</th>
<th>most common misconceptions (students)</th></tr>
{"".join(rows)}
</table></body></html>
""", encoding="utf-8")
    return index


def write_report(csv_path: str | os.PathLike, out_dir: str | os.PathLike = DEFAULT_OUT) -> Path:
    """The class report of a grades CSV: out_dir/index.html (and its PNGs). Raises ReportError on a bad CSV."""
    return write(build_report(csv_path), out_dir)


# --- a made-up class, for the report's tests and benchmark ----------------------------------

def synthetic_grades(path: str | os.PathLike, students: int, *, seed: int = 0, mistakes: bool = True,
                     seconds: bool = True) -> Path:
    """Write a grades CSV of `students` made-up students in msegrad grade's format; returns its path.

    Each function is right, or wrong by one of the catalogue's mistakes for
    it (losing every check of that function), with the frequencies of a
    real class roughly: the factor 2 and the mean are the classics. A few
    students are flagged. mistakes / seconds: write those trailing columns.
    """
    from autograder import mistakes as catalogue
    rng = np.random.default_rng(seed)
    by_function = {function: [m.id for m in catalogue.GRADIENT_MISTAKES if function in m.functions]
                   for function in ("dC_dyhat", "dC_dm", "dC_db")}
    by_function = {function: list(dict.fromkeys(ids)) for function, ids in by_function.items()}
    by_function["sgd"] = [m.id for m in catalogue.DESCENT_MISTAKES]
    wrong = {"dC_dyhat": 0.15, "dC_dm": 0.3, "dC_db": 0.2, "sgd": 0.25}
    flag_words = ["timeout", "crash", "memory", "tamper", "cell-error"]
    columns = ["student", "score", "max_score", *[cell.id for cell in spec.GRADE_CELLS], "flags"]
    columns += (["mistakes"] if mistakes else []) + (["seconds"] if seconds else [])
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for number in range(students):
            row = {"student": f"student{number:05d}", "max_score": f"{spec.MAX_SCORE:g}"}
            lost, flags = [], []
            for function in spec.FUNCTIONS:
                cells = spec.cells_for(function)
                if rng.random() < 0.03:
                    kind = "not_implemented"
                elif rng.random() < wrong[function]:
                    ids = by_function[function]
                    weights = np.linspace(2.0, 0.2, len(ids)) ** 2
                    kind = str(rng.choice(ids, p=weights / weights.sum()))
                else:
                    kind = None
                # Some mistakes show only on the random cases: the first (visible) check passes
                # and the others earn partial credit.
                partial = kind is not None and kind != "not_implemented" and rng.random() < 0.3
                for index, cell in enumerate(cells):
                    if kind is None or (partial and index == 0):
                        row[cell.id] = f"{cell.points:g}"
                        continue
                    row[cell.id] = f"{round(cell.points * rng.integers(1, 7) / 7, 2):g}" if partial else "0"
                    lost.append(f"{cell.id}={kind}")
            if rng.random() < 0.04:
                flags.append(str(rng.choice(flag_words)))
            row["score"] = f"{sum(float(row[cell.id]) for cell in spec.GRADE_CELLS):g}"
            row["flags"] = " ".join(flags)
            row["mistakes"] = " ".join(lost)
            row["seconds"] = f"{rng.lognormal(-0.5, 0.6) + (60.0 if 'timeout' in flags else 0.0):.3f}"
            writer.writerow([row.get(column, "") for column in columns])
    return path
