"""The lessons in course/: clean in git, in sync with course/build.py, and when run
from a clean kernel they show the lecture's numbers, inline plots and working links."""
from __future__ import annotations

import functools
import html
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import numpy as np
import pytest

from autograder import reference as ref
from autograder.notation import EQUATIONS

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `course` is not an installed package
    sys.path.insert(0, str(ROOT))

from course import build, export, show  # noqa: E402

LESSONS = export.lesson_paths()
NAMES = [path.stem for path in LESSONS]


@functools.cache
def lecture_numbers() -> dict[str, tuple[float, int, str]]:
    """name -> (value from the reference, decimals shown, the source lecture's number)."""
    run = ref.lecture_descent()
    x, _ = ref.lecture_data()
    return {
        "C at the start": (run.cost[0], 4, "19.6755"),
        "dC/dm at the start": (run.grad_m[0], 3, "36.305"),
        "dC/db at the start": (run.grad_b[0], 3, "6.265"),
        "m after one step": (run.m[1], 4, "0.5369"),
        "b after one step": (run.b[1], 4, "0.0374"),
        "C after one step": (run.cost[1], 4, "8.5722"),
        "m after the full run": (run.m[-1], 4, "-0.4681"),
        "b after the full run": (run.b[-1], 4, "1.7543"),
        "C after the full run": (run.cost[-1], 4, "0.0195"),
        "divergence threshold": (ref.max_stable_lr(x), 5, "0.05491"),
        # DESIGN.md's reference numbers, as lesson 5 shows them (the d = 1 case of the vector form)
        "dC/dm at the start, 4 places": (run.grad_m[0], 4, "36.3050"),
        "dC/db at the start, 4 places": (run.grad_b[0], 4, "6.2650"),
    }


# Which lesson computes and shows which of the lecture's numbers.
SHOWN_IN = {
    "01_cost_and_autodiff": ["C at the start", "dC/dm at the start", "dC/db at the start"],
    "02_gradient_by_hand": ["C at the start", "dC/dm at the start", "dC/db at the start"],
    "03_gradient_descent": ["C at the start", "dC/dm at the start", "dC/db at the start",
                            "m after one step", "b after one step", "C after one step",
                            "m after the full run", "b after the full run", "C after the full run"],
    "04_learning_rate": ["divergence threshold"],
    "05_vector_form": ["dC/dm at the start, 4 places", "dC/db at the start, 4 places", "divergence threshold"],
}


def output_text(nb) -> str:
    """Everything the reader sees in the outputs, with typographic minus signs made ASCII."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            for kind in ("text/markdown", "text/html", "text/plain"):
                if kind in output.get("data", {}):
                    parts.append(output.data[kind])
    return "\n".join(parts).replace("\u2212", "-")


def shows_number(text: str, number: str) -> bool:
    """``number`` appears in ``text`` as a whole number (not inside a longer one)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """All lessons executed once from clean kernels and exported to HTML in a temporary folder."""
    out = tmp_path_factory.mktemp("lessons")
    lessons, index = export.export(out)
    return {lesson.source.stem: lesson for lesson in lessons}, index


# --- the committed notebooks ------------------------------------------------------------

def test_there_are_lessons_and_each_has_a_place_in_the_test():
    assert NAMES == sorted(SHOWN_IN), f"lessons {NAMES} vs expected {sorted(SHOWN_IN)}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_committed_lesson_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [cell.id for cell in nb.cells if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells with outputs or execution counts: {dirty} (house style #9)"


@pytest.mark.parametrize("name", NAMES)
def test_committed_lesson_matches_its_build_source(name):
    assert build.paths()[name].read_text() == build.text(name), (
        f"course/{name}.ipynb differs from course/build.py: run `python -m course.build`")


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_markdown_types_no_numbers(path):
    """Numbers in the prose come from code outputs; Markdown cells hold none."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        prose = re.sub(r"\]\([^)]*\)", "]", cell.source)  # link targets like (02_gradient_by_hand.ipynb)
        typed = re.findall(r"\d+\.\d+|(?<![\w.])\d{3,}(?!\w)", prose)
        assert not typed, f"{path.name} cell {cell.id} types numbers {typed}: compute and display them"


def test_lessons_derive_every_step_in_the_notation_tables_words():
    """Each equation of the lecture's derivation appears in the lessons exactly as notation.py spells it."""
    markdown = "\n".join(cell.source for path in LESSONS for cell in nbformat.read(path, as_version=4).cells
                         if cell.cell_type == "markdown")
    missing = [key for key, equation in EQUATIONS.items() if f"$$ {equation} $$" not in markdown]
    assert not missing, f"equations missing from the lessons: {missing}"


def test_reference_reproduces_the_lecture_numbers():
    for name, (value, digits, lecture) in lecture_numbers().items():
        assert f"{value:.{digits}f}" == lecture, f"{name}: reference gives {value!r}, lecture says {lecture}"


def test_table_shows_whole_numbers_without_decimals_and_no_negative_zero():
    table = show.table({"x_i": [0, 1, 7], "u_i": [-0.0, 1.23456, -2.0]})
    assert table.rows == [["1", "0", "0.0000"], ["2", "1", "1.2346"], ["3", "7", "-2.0000"]]


def test_table_html_has_fixed_column_widths_and_escapes_text():
    page = show.Table(["", "$x_i$", "`code`"], [["a < b", "1.5", "**2**"]])._repr_html_()
    assert "table-layout: fixed" in page and page.count("<col ") == 3
    assert "a &lt; b" in page and "<code>code</code>" in page and "<b>2</b>" in page


def test_video_link_resolves_from_the_page_folder(tmp_path, monkeypatch):
    videos = tmp_path / "media" / "videos"
    videos.mkdir(parents=True)
    (videos / "Scene.mp4").write_bytes(b"\0")
    page_dir = tmp_path / "out" / "lessons"
    page_dir.mkdir(parents=True)
    monkeypatch.setenv(show.LESSON_BASE_ENV, str(page_dir))
    src = re.search(r'src="([^"]+)"', show.video_output("Scene", video_dir=videos)._repr_html_()).group(1)
    assert src == "../../media/videos/Scene.mp4"
    assert (page_dir / src).resolve() == (videos / "Scene.mp4").resolve()


def test_missing_video_says_how_to_render_it(tmp_path):
    message = show.video_output("Scene", video_dir=tmp_path)._repr_markdown_()
    assert "msegrad render --quality low Scene" in message and "make videos" in message


# --- the lessons, executed ------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_lesson_runs_cleanly_from_a_fresh_kernel(exported, name):
    lessons, _ = exported
    nb = lessons[name].notebook
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    stderr = [o.text for c in nb.cells for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"
              and not o.text.startswith("Matplotlib is building the font cache")]  # first run only
    assert not errors and not stderr, f"{name}: errors {errors}, stderr {stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_lesson_shows_the_lecture_numbers(exported, name):
    lessons, _ = exported
    text = output_text(lessons[name].notebook)
    numbers = lecture_numbers()
    missing = [f"{key} ({numbers[key][2]})" for key in SHOWN_IN[name] if not shows_number(text, numbers[key][2])]
    assert not missing, f"{name} does not show: {', '.join(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_exported_page_has_inline_plots_and_resolving_links(exported, name):
    lessons, _ = exported
    lesson = lessons[name]
    page = lesson.html.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') >= 1, f"{name}: no inline plot"
    videos = re.findall(r'<video[^>]*\ssrc="([^"]+)"', page)
    calls = sum(cell.source.count("show.video(") for cell in lesson.notebook.cells)
    assert len(videos) + page.count("is not rendered yet") == calls, f"{name}: a video cell shows nothing"
    for src in videos:
        target = (lesson.html.parent / unquote(html.unescape(src))).resolve()
        assert target.is_file(), f"{name}: video {src} does not resolve from {lesson.html.parent}"
    for href in re.findall(r'href="([^"]+\.(?:ipynb|html))"', page):
        target = (lesson.html.parent / unquote(html.unescape(href))).resolve()
        if target.suffix == ".html":
            assert target.is_file(), f"{name}: link {href} does not resolve"
        else:
            assert target == show.EXERCISE.resolve(), f"{name}: unexpected notebook link {href}"
    assert ".ipynb)" not in page, "links between lessons should point at the .html pages"


@pytest.mark.slow
def test_index_links_every_lesson(exported):
    lessons, index = exported
    page = index.read_text(encoding="utf-8")
    for lesson in lessons.values():
        assert f'href="{lesson.html.name}"' in page and html.escape(lesson.title) in page


def test_every_video_is_embedded_in_a_lesson():
    scenes = re.findall(r"^class (\w+)\(Scene\)", (ROOT / "animations" / "scenes.py").read_text(), re.MULTILINE)
    assert scenes
    embedded = "\n".join(text for cells in build.LESSONS.values() for _, text in cells)
    for scene in scenes:
        assert f'show.video("{scene}")' in embedded, f"{scene} appears in no lesson (course/build.py)"


# --- lesson 5: the vector form (assignment 2) ------------------------------------------------

VECTOR = "05_vector_form"
# The same sums in another order (a matrix product against a sum over eight terms), at float64.
FLOAT64_SUM_TOL = 1e-14


def _numbers_after(text: str, label: str, count: int) -> list[str]:
    """The first ``count`` numbers in ``text`` after ``label``."""
    start = text.index(label) + len(label)
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?", text[start:])[:count]


def test_vector_d1_reference_is_assignment_1s():
    """The vector form with one feature gives back assignment 1's numbers, as lesson 5 says."""
    import torch
    from autograder.assignments.mse_gradient_vector import data as vdata
    from autograder.assignments.mse_gradient_vector import reference as vref

    X1, y1 = vref.lecture_data(torch.float64)
    x, y = ref.lecture_data(torch.float64)
    # w as a float64 array: a tuple of Python floats would pass through a float32 tensor in predict()
    w = np.asarray(vdata.W_START, dtype=np.float64)
    grad_w = vref.grad_w(X1, y1, w, vdata.B_START_VECTOR)
    assert grad_w.shape == (1,)
    assert ref.relative_error(grad_w[0], ref.dC_dm(x, y, ref.M_START, ref.B_START)) < FLOAT64_SUM_TOL
    assert ref.relative_error(vref.grad_b(X1, y1, w, vdata.B_START_VECTOR),
                              ref.dC_db(x, y, ref.M_START, ref.B_START)) < FLOAT64_SUM_TOL
    assert np.allclose(vref.hessian(X1), ref.hessian(x), rtol=0, atol=0)
    assert vref.max_stable_lr(X1) == pytest.approx(ref.max_stable_lr(x), rel=1e-15)


@pytest.mark.slow
def test_vector_lesson_shows_the_d1_numbers_of_assignment_1(exported):
    from autograder.assignments.mse_gradient_vector import data as vdata
    from autograder.assignments.mse_gradient_vector import reference as vref

    text = output_text(exported[0][VECTOR].notebook)
    X1, y1 = vref.lecture_data()
    x, y = ref.lecture_data()
    grads = ref.autograd_gradients(x, y, ref.M_START, ref.B_START)
    # the table's rows: vector form (d = 1), lesson 2's formula, autograd; all 4 places
    dC_dm = _numbers_after(text, "| $\\frac{\\partial C}{\\partial m}$ |", 3)
    dC_db = _numbers_after(text, "| $\\frac{\\partial C}{\\partial b}$ |", 3)
    assert dC_dm == [f"{vref.grad_w(X1, y1, vdata.W_START, vdata.B_START_VECTOR)[0].item():.4f}",
                     f"{ref.dC_dm(x, y, ref.M_START, ref.B_START).item():.4f}", f"{grads.dC_dm:.4f}"]
    assert dC_db == [f"{vref.grad_b(X1, y1, vdata.W_START, vdata.B_START_VECTOR).item():.4f}",
                     f"{ref.dC_db(x, y, ref.M_START, ref.B_START).item():.4f}", f"{grads.dC_db:.4f}"]
    assert set(dC_dm) == {"36.3050"} and set(dC_db) == {"6.2650"}
    assert f"**{vref.max_stable_lr(X1):.5f}** (lesson 4 found {ref.max_stable_lr(x):.5f})" in text
    assert vdata.DIABETES_SOURCE in text


@pytest.mark.slow
def test_vector_lesson_numbers_are_the_vector_reference(exported):
    import torch
    from autograder.assignments.mse_gradient_vector import data as vdata
    from autograder.assignments.mse_gradient_vector import reference as vref

    text = output_text(exported[0][VECTOR].notebook)
    X, y = vref.diabetes(torch.float64)
    n, d = X.shape
    assert f"$X$ has shape ({n}, {d})" in text
    # the gradient at the lesson's point: by index, by X^T, by autograd, row by row
    g = torch.Generator().manual_seed(0)
    w = 10 * torch.randn(d, generator=g, dtype=torch.float64)
    b = 100.0
    grads = vref.autograd_gradients(X, y, w, b)
    matrix = vref.grad_w(X, y, w, b)
    for j in range(d):
        row = _numbers_after(text, f"| {j + 1} | {vdata.DIABETES_FEATURES[j]} |", 3)
        assert row == [f"{matrix[j].item():.4f}"] * 2 + [f"{grads.w[j]:.4f}"], j
    assert f"{vref.grad_b(X, y, w, b).item():.4f} by the formula, {grads.b:.4f} by autograd" in text
    # the Hessian and the threshold on the diabetes data
    eigenvalues = np.linalg.eigvalsh(vref.hessian(X))
    assert f"$\\lambda_{{\\max}}$ = {eigenvalues[-1]:.4f}" in text
    assert f"**{vref.max_stable_lr(X):.4f}**" in text
    # the mini-batch runs: steps per epoch and what one epoch of each reaches
    least = vref.cost(X, y, *vref.least_squares(X, y)).item()
    for size in (8, 32, 128):
        per_epoch = vref.steps_per_epoch(n, size)
        after_one = [vref.path_costs(X, y, vref.minibatch_sgd(X, y, np.zeros(d), 0.0, 0.05, 1, size, seed))[-1] - least
                     for seed in (0, 1, 2)]
        assert f"| B = {size} | {per_epoch} |" in text
        assert f"{min(after_one):.1f} to {max(after_one):.1f}" in text, size
    full = vref.path_costs(X, y, vref.gradient_descent(X, y, np.zeros(d), 0.0, 0.05, 1))
    assert f"| {full[1] - least:.1f} |" in text


@pytest.mark.slow
def test_vector_lesson_plots_mini_batch_noise(exported):
    """The noise figure is there: two rows (per step, per epoch), one column per batch size, labelled."""
    nb = exported[0][VECTOR].notebook
    figures = [cell for cell in nb.cells if cell.cell_type == "code" and "fig.suptitle" in cell.source]
    assert len(figures) == 1
    outputs = figures[0].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    source = figures[0].source
    for label in ('set_xlabel("step")', 'set_xlabel("epoch', "set_ylabel(", "legend(", "full batch"):
        assert label in source, label
