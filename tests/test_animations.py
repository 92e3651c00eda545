"""The Manim scenes: objects checked against the reference without rendering, then one real render.

Building the boards compiles LaTeX once into build/manim-tex (reused afterwards).
The render test is marked slow.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

manim = pytest.importorskip("manim")
av = pytest.importorskip("av")

import torch  # noqa: E402
from manim import VGroup  # noqa: E402

from autograder import reference as ref  # noqa: E402
from autograder.notation import COLOURS, EQUATIONS, LATEX  # noqa: E402
from animations import build, render, scenes  # noqa: E402

manim.config.verbosity = "WARNING"
build.use_tex_cache()

# Scene coordinates are float64 but go through Manim's transforms; a
# millionth of a plot unit is far below a pixel and far above round-off.
SCREEN_TOL = 1e-6
# Clearance between lines of the derivation, in Manim units (the frame is 8 high).
LINE_GAP = 0.05
CHOSEN_STEPS = (0, 1, 2, 10, 100, ref.LECTURE_STEPS)


@pytest.fixture(scope="module")
def derivation():
    return build.derivation()


@pytest.fixture(scope="module")
def descent():
    return build.descent_board()


@pytest.fixture(scope="module")
def rates():
    return build.rate_board()


def _colour(mob) -> str:
    return mob.get_fill_color().to_hex().upper()


def _leaves(mob):
    return [m for m in mob.get_family() if len(m.points) > 0]


def _polyline_end(mob) -> np.ndarray:
    return mob.points[-1]


# --------------------------------------------------------------------------
# names and the command line
# --------------------------------------------------------------------------

def test_scene_classes_are_the_rendered_names():
    from autograder.cli import render as cli

    assert render.SCENE_NAMES == cli.SCENE_NAMES == tuple(cls.__name__ for cls in scenes.SCENES)
    assert [n for n in render.SCENE_NAMES if "ChainRule" in n] == ["ChainRuleDerivation"]
    assert [n for n in render.SCENE_NAMES if "Descent" in n] == ["DescentTrajectory", "MinibatchDescent"]
    assert [n for n in render.SCENE_NAMES if "LearningRate" in n] == ["LearningRate"]
    assert render.SCENE_NAMES[:3] == ("ChainRuleDerivation", "DescentTrajectory", "LearningRate")
    assert render.output_path("LearningRate").relative_to(render.REPO_ROOT).as_posix() == "media/videos/LearningRate.mp4"


def test_unknown_scene_is_refused_with_the_valid_names(capsys):
    from autograder.cli import main

    with pytest.raises(render.UnknownSceneError, match="valid scenes: ChainRuleDerivation, DescentTrajectory"):
        render.resolve(["ChainRuleDerivation", "Nope"])
    assert main(["render", "Nope"]) == 2
    err = capsys.readouterr().err
    assert "Nope" in err and all(name in err for name in render.SCENE_NAMES)


# --------------------------------------------------------------------------
# scene 1: the derivation
# --------------------------------------------------------------------------

def test_derivation_lines_spell_the_notation_table():
    for name in set(build.LINES) & set(EQUATIONS):
        joined = " ".join(build.line_tex(name))
        assert build.same_tex(joined, EQUATIONS[name]), (name, build.plain(joined), EQUATIONS[name])
    for key in ("dC_du", "du_dyhat", "dC_dyhat", "dyhat_dm", "dyhat_db", "dC_dm", "dC_db"):
        assert build.plain(build.parts()[key]) == LATEX[key]
    # the chain-rule lines end with the equations they prove
    assert build.LINES["chain_m"][-len(build.LINES["dC_dm"]) + 2:] == build.LINES["dC_dm"][2:]
    assert build.LINES["chain_yhat"][-6:] == build.LINES["dC_dyhat"][2:]


def test_every_step_grows_out_of_lines_already_shown():
    shown = {"cost"}
    for stage_change, step in zip([False] * 5 + [True] + [False] * 4, build.STEPS):
        if stage_change:
            shown = {"dC_dyhat"}
        assert set(step.sources) <= shown, step
        if step.sources:
            source_parts = {p for s in step.sources for p in build.LINES[s]}
            target_parts = set(build.LINES[step.target])
            assert source_parts & target_parts, f"{step.target} shares no part with {step.sources}"
            assert set(step.key_map) <= source_parts and set(step.key_map.values()) <= target_parts
        shown.add(step.target)
    assert {"chain_m", "chain_b"} <= shown


def test_each_symbol_keeps_its_colour_in_every_line(derivation):
    table = build.parts()
    symbol_of = {table[s]: s for s in ("C", "y_hat", "y", "x", "m", "b", "u")}
    symbol_of[table[r"\,x"]] = "x"
    seen = set()
    lines = [line for stage in derivation.stages for line in stage.values()]
    for line in lines:
        for part in line:
            colours = {_colour(m) for m in _leaves(part)}
            if part.tex_string in symbol_of:
                symbol = symbol_of[part.tex_string]
                assert colours == {COLOURS[symbol].upper()}, (symbol, colours)
                seen.add(symbol)
            elif part.tex_string in ("=", "-", "+", "(", ")", ")^2", r"\frac{1}{n}", r"\frac{2}{n}"):
                assert colours == {"#FFFFFF"}, (part.tex_string, colours)
    assert seen == {"C", "y_hat", "y", "x", "m", "b", "u"}
    # a partial derivative carries the colours of both its symbols
    dC_dm = next(p for p in derivation.stages[2]["dC_dm"] if p.tex_string == table["dC_dm"])
    assert {COLOURS["C"].upper(), COLOURS["m"].upper()} <= {_colour(m) for m in _leaves(dC_dm)}


def test_derivation_lines_do_not_overlap_and_stay_in_frame(derivation):
    for i, stage in enumerate(derivation.stages):
        lines = list(stage.values())
        if i == len(derivation.stages) - 1:
            lines += [derivation.evaluation.at, *derivation.evaluation.table]
        for a, b in itertools.combinations(lines, 2):
            assert not build.boxes_overlap(a, b, LINE_GAP), (i, a, b)
        for mob in lines + [derivation.title, *derivation.captions.values()]:
            assert build.in_frame(mob, build.FRAME_MARGIN), (i, mob)
        for line in lines:
            assert not build.boxes_overlap(line, derivation.title, LINE_GAP)
            for caption in derivation.captions.values():
                assert not build.boxes_overlap(line, caption, LINE_GAP), (line, caption)


def test_evaluation_shows_the_reference_partials_and_autograd(derivation):
    x, y = ref.lecture_data()
    evaluation = derivation.evaluation
    hand = {"dC_dm": float(ref.dC_dm(x, y, ref.M_START, ref.B_START)),
            "dC_db": float(ref.dC_db(x, y, ref.M_START, ref.B_START))}
    grads = ref.autograd_gradients(x, y, ref.M_START, ref.B_START)
    assert evaluation.by_hand == hand
    assert evaluation.autograd == {"dC_dm": grads.dC_dm, "dC_db": grads.dC_db}
    cells = [m.tex_string for m in evaluation.table]
    # rows: header, dC/dm, dC/db; columns: symbol, chain rule, autograd
    assert cells[4:6] == [f"{hand['dC_dm']:.3f}", f"{grads.dC_dm:.3f}"]
    assert cells[7:9] == [f"{hand['dC_db']:.3f}", f"{grads.dC_db:.3f}"]
    assert cells[4:6] == ["36.305", "36.305"] and cells[7:9] == ["6.265", "6.265"]  # the lecture's numbers
    assert f"{ref.M_START:.1f}" in evaluation.at.get_tex_string()


# --------------------------------------------------------------------------
# scene 2: descent
# --------------------------------------------------------------------------

@pytest.mark.parametrize("k", CHOSEN_STEPS)
def test_descent_board_matches_the_reference_at_step(descent, k):
    t = descent.trajectory
    descent.show(k)
    # the regression line on screen has the step's slope and intercept
    (x0, y0), (x1, y1) = (descent.data_plot.p2c(p) for p in (descent.line.get_start(), descent.line.get_end()))
    slope = (y1 - y0) / (x1 - x0)
    assert slope == pytest.approx(t.m[k], abs=SCREEN_TOL)
    assert y0 - slope * x0 == pytest.approx(t.b[k], abs=SCREEN_TOL)
    # residuals run from each (x_i, y_i) to the line (clipped to the plot)
    xs, ys = build.lecture_arrays()
    lo, hi = descent.data_plot.y_range
    for seg, xi, yi in zip(descent.residuals, xs, ys):
        (sx, sy), (ex, ey) = (descent.data_plot.p2c(p) for p in (seg.get_start(), seg.get_end()))
        assert sx == pytest.approx(xi, abs=SCREEN_TOL) and ex == pytest.approx(xi, abs=SCREEN_TOL)
        assert sy == pytest.approx(yi, abs=SCREEN_TOL)
        assert ey == pytest.approx(np.clip(t.m[k] * xi + t.b[k], lo, hi), abs=1e-4)
    # readouts
    expected = {"epoch": k, "m": t.m[k], "b": t.b[k], "C": t.cost[k], "dC_dm": t.grad_m[k], "dC_db": t.grad_b[k]}
    for key, number in descent.readouts.items():
        assert number.get_value() == expected[key]
        assert number.text == f"{expected[key]:.{build.READOUT_DECIMALS[key]}f}"
    # the (m, b) path ends at the step's parameters; the cost curve at the step's cost
    assert descent.contour_plot.p2c(_polyline_end(descent.path)) == pytest.approx((t.m[k], t.b[k]), abs=SCREEN_TOL)
    assert descent.contour_plot.p2c(descent.head.get_center()) == pytest.approx((t.m[k], t.b[k]), abs=SCREEN_TOL)
    end = descent.cost_plot.p2c(_polyline_end(descent.cost_curve))
    assert end == pytest.approx((math.log10(1 + k), math.log10(t.cost[k])), abs=SCREEN_TOL)
    # everything stays inside the frame
    for mob in [*descent.static(), *descent.moving(), descent.optimum, descent.least_squares_line]:
        assert build.in_frame(mob), mob


def test_descent_uses_the_lecture_run_and_ends_at_its_converged_values(descent):
    lecture = ref.lecture_descent()
    t = descent.trajectory
    assert t.steps == ref.LECTURE_STEPS and t.lr == ref.LR
    assert (t.m[0], t.b[0]) == pytest.approx((ref.M_START, ref.B_START))
    assert t.final() == lecture.final()
    descent.show(t.steps)
    assert descent.readouts["m"].text == f"{lecture.m[-1]:.4f}"
    assert descent.readouts["b"].text == f"{lecture.b[-1]:.4f}"
    # the marked optimum is the least-squares solution, and the run ends beside it
    ls = ref.least_squares(*ref.lecture_data(dtype=torch.float64))
    star = descent.optimum[0]
    assert descent.contour_plot.p2c(star.get_center()) == pytest.approx(ls, abs=1e-3)
    assert np.hypot(t.m[-1] - ls[0], t.b[-1] - ls[1]) < 0.01


def test_descent_readouts_and_labels_do_not_overlap(descent):
    descent.show(ref.LECTURE_STEPS)
    items = list(descent.readout_labels) + list(descent.readouts.values())
    for a, b in itertools.combinations(items, 2):
        assert not build.boxes_overlap(a, b, 0.02), (a, b)
    panels = [descent.data_plot.mobject, descent.contour_plot.mobject, descent.cost_plot.mobject,
              VGroup(*items), descent.title]
    for a, b in itertools.combinations(panels, 2):
        assert not build.boxes_overlap(a, b), (a, b)


def test_pacing_shows_the_first_steps_and_reaches_the_end():
    steps = ref.LECTURE_STEPS
    frames = int(scenes.DESCENT_SECONDS * 15)  # at 480p15
    epochs = [build.epoch_at(i / frames, steps) for i in range(frames + 1)]
    assert epochs[0] == 0 and epochs[-1] == steps
    assert all(a <= b for a, b in zip(epochs, epochs[1:]))
    # each of the first steps stays on screen for several frames ...
    for k in range(1, 5):
        assert epochs.count(k) >= 4, (k, epochs.count(k))
    # ... and the slow valley still passes by: epoch 100 before three quarters of the run
    assert epochs.index(next(e for e in epochs if e >= 100)) < 0.75 * frames


def test_readout_changes_in_place_without_moving_its_left_edge():
    number = build.Readout(0.5, decimals=4)
    number.place([1.0, -2.0, 0])
    left = number.get_left()[0]
    for value in (-0.4681, 36.305, 1234.5678):
        number.set_value(value)
        assert number.text == f"{value:.4f}"
        assert len(_leaves(number)) == len(number.text)
        assert number.get_left()[0] == pytest.approx(left, abs=0.05)


# --------------------------------------------------------------------------
# scene 3: learning rates
# --------------------------------------------------------------------------

def test_learning_rates_straddle_the_stability_limit(rates):
    x, _ = ref.lecture_data()
    small, good, large = (r.lr for r in rates.runs)
    assert small < good == ref.LR < ref.max_stable_lr(x) < large
    assert [r.verdict for r in rates.runs] == ["crawling", "converging", "diverging"]
    for r in rates.runs:
        assert r.trajectory.m[0] == ref.M_START and r.trajectory.b[0] == ref.B_START
        assert r.trajectory.steps == ref.LECTURE_STEPS


@pytest.mark.parametrize("k", CHOSEN_STEPS)
def test_rate_board_matches_the_runs_and_clips_divergence(rates, k):
    rates.show(k)
    assert rates.epoch_readout.text == str(k)
    for i, (r, path, curve) in enumerate(zip(rates.runs, rates.paths, rates.curves)):
        m, b, c = r.trajectory.m[k], r.trajectory.b[k], r.trajectory.cost[k]
        x0, x1, y0, y1 = rates.contour_plot.box
        inside = x0 <= m <= x1 and y0 <= b <= y1 and k <= rates.clipped_paths[i].last
        head = rates.contour_plot.p2c(rates.heads[i].get_center())
        if inside:
            assert head == pytest.approx((m, b), abs=SCREEN_TOL)
        # every drawn vertex lies inside its chart
        for plot, mob in ((rates.contour_plot, path), (rates.cost_plot, curve)):
            px, py = np.array([plot.p2c(p) for p in mob.points]).T
            bx0, bx1, by0, by1 = plot.box
            assert np.all((px >= bx0 - 1e-9) & (px <= bx1 + 1e-9) & (py >= by0 - 1e-9) & (py <= by1 + 1e-9))
        shown, clipped = rates.shown_cost(i, k)
        if clipped:
            assert r.verdict == "diverging" and rates.cost_readouts[i].text == f"{rates.c_clip:.0f}"
            assert rates.clipped_marks[i][1].get_fill_opacity() == 1
        else:
            assert rates.cost_readouts[i].text == f"{c:.3f}"
            assert rates.cost_plot.p2c(_polyline_end(curve)) == pytest.approx(
                (math.log10(1 + k), math.log10(c)), abs=SCREEN_TOL)
    for mob in [*rates.static(), *rates.moving(), *rates.verdicts]:
        assert build.in_frame(mob), mob


def test_rate_board_ends_crawling_converging_and_off_the_chart(rates):
    rates.show(rates.steps)
    small, good, large = rates.runs
    ls = ref.least_squares(*ref.lecture_data(dtype=torch.float64))
    assert rates.contour_plot.p2c(rates.heads[1].get_center()) == pytest.approx(good.trajectory.final(), abs=SCREEN_TOL)
    assert np.hypot(*(np.array(good.trajectory.final()) - ls)) < 0.01
    assert np.hypot(*(np.array(small.trajectory.final()) - ls)) > 0.5
    assert rates.clipped_paths[2].last < 20 and rates.clipped_curves[2].last < 100
    legend = list(rates.legend) + rates.cost_readouts + rates.verdicts + [rates.epoch_label, rates.epoch_readout,
                                                                          rates.limit_note]
    for a, b in itertools.combinations(legend, 2):
        assert not build.boxes_overlap(a, b, 0.02), (a, b)


# --------------------------------------------------------------------------
# scene 4: the step field
# --------------------------------------------------------------------------

def test_field_arrows_are_one_descent_step_at_a_common_scale():
    board = build.field_board()
    x, y = ref.lecture_data(torch.float64)
    assert len(board.arrows) == len(board.tails) > 20
    for arrow, (m, b) in zip(board.arrows, board.tails):
        one_step = ref.descent(x, y, m, b, lr=ref.LR, epochs=1)
        step = (one_step.m[1] - m, one_step.b[1] - b)
        start = board.plot.p2c(arrow.get_start())
        end = board.plot.p2c(arrow.get_end())
        assert start == pytest.approx((m, b), abs=SCREEN_TOL)
        assert (np.array(end) - start) == pytest.approx(board.scale * np.array(step), abs=1e-4)
        assert build.in_frame(arrow)
    board.show(board.trajectory.steps)
    assert board.plot.p2c(_polyline_end(board.path)) == pytest.approx(board.trajectory.final(), abs=SCREEN_TOL)
    for mob in [*board.static(), *board.moving(), board.optimum]:
        assert build.in_frame(mob), mob
    assert not build.boxes_overlap(board.legend, board.plot.mobject)


# --------------------------------------------------------------------------
# a real render
# --------------------------------------------------------------------------

def _probe(path):
    """Duration (s), resolution, and three frames (as arrays) at 10%, 50% and 95%."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        frames = [f for f in container.decode(video=0)]
        size = (stream.codec_context.width, stream.codec_context.height)
        rate = float(stream.average_rate)
    picks = [frames[int(len(frames) * q)].to_ndarray(format="rgb24") for q in (0.1, 0.5, 0.95)]
    return duration, size, rate, len(frames), picks


@pytest.mark.slow
def test_every_scene_renders_to_a_real_video(tmp_path):
    paths = render.render(None, "low", tmp_path, progress=False, jobs=2)
    assert paths == [tmp_path.resolve() / "videos" / f"{n}.mp4" for n in render.SCENE_NAMES]
    for path in paths:
        duration, size, rate, count, frames = _probe(path)
        assert size == (854, 480) and rate == pytest.approx(15, rel=1e-3)
        assert duration > 15 and count == pytest.approx(duration * 15, abs=2)
        for frame in frames:
            lit = (frame.max(axis=2) > 60).mean()
            assert 0.002 < lit < 0.6, (path.name, lit)   # drawn on, not blank, not washed out
        assert not np.array_equal(frames[0], frames[1]), f"{path.name} does not move"


def test_readme_says_the_lecture_run_stops_short_of_the_optimum():
    """The README's scene table says what the reference computes (lesson 3 says the same)."""
    from pathlib import Path

    end = np.array(ref.lecture_descent().final())
    optimum = np.array(ref.least_squares(*ref.lecture_data(torch.float64)))
    assert np.max(np.abs(end - optimum)) > 1e-3
    readme = (Path(__file__).resolve().parents[1] / "animations" / "README.md").read_text()
    for claim in ("to the least-squares optimum", "reaches the least-squares optimum", "at the least-squares optimum"):
        assert claim not in readme, claim
    assert "stop short" in readme


# --------------------------------------------------------------------------
# scene 5: the weight vector's descent (assignment 2)
# --------------------------------------------------------------------------

# The scene's costs are shown with two decimals; the reference's own numbers are compared exactly.
MINIBATCH_STEPS = (0, 1, 2, 13, 14, 15, 27, 41, 42)
# Contour vertices are linear interpolations on a 160 x 160 grid: their cost is the level's to
# within a few parts in a million (measured: under 1e-5), far below a visible difference.
CONTOUR_REL_TOL = 1e-3


@pytest.fixture(scope="module")
def minibatch():
    return build.minibatch_board()


def _vector_reference():
    from autograder.assignments.mse_gradient_vector import data as vdata
    from autograder.assignments.mse_gradient_vector import reference as vref

    X, y = vref.diabetes(torch.float64)
    columns = [vdata.DIABETES_FEATURES.index(name) for name in build.MINIBATCH_FEATURES]
    return vref, X.numpy()[:, columns], y.numpy()


def test_minibatch_runs_are_the_reference_paths(minibatch):
    vref, X, y = _vector_reference()
    w_best, b_best = vref.least_squares(X, y)
    p = minibatch.problem
    assert np.array_equal(p.X, X) and np.array_equal(p.y, y)
    assert np.array_equal(p.w_best, w_best) and p.b_best == b_best
    steps = build.MINIBATCH_EPOCHS * vref.steps_per_epoch(len(y), build.MINIBATCH_SIZE)
    assert p.steps == steps == 42
    expected = [vref.gradient_descent(X, y, build.MINIBATCH_W_START, b_best, build.MINIBATCH_LR, epochs=steps)]
    expected += [vref.minibatch_sgd(X, y, build.MINIBATCH_W_START, b_best, build.MINIBATCH_LR, build.MINIBATCH_EPOCHS,
                                    build.MINIBATCH_SIZE, seed) for seed in build.MINIBATCH_SEEDS]
    assert [run.seed for run in p.runs] == [None, *build.MINIBATCH_SEEDS]
    assert len(set(build.MINIBATCH_SEEDS)) == 2
    for run, path in zip(p.runs, expected):
        assert np.array_equal(run.w, np.asarray(path.w)) and run.path.b == path.b
        assert [b.tolist() for b in run.path.batches] == [b.tolist() for b in path.batches]
        assert np.array_equal(run.cost, vref.path_costs(X, y, path))
    # two seeds, two different paths; each differs from the full batch
    assert not np.allclose(p.runs[1].w, p.runs[2].w)
    assert all(not np.allclose(run.w, p.runs[0].w) for run in p.runs[1:])


@pytest.mark.parametrize("k", MINIBATCH_STEPS)
def test_minibatch_board_shows_each_run_at_step(minibatch, k):
    minibatch.show(k)
    for run, path, head, readout in zip(minibatch.problem.runs, minibatch.paths, minibatch.heads,
                                        minibatch.cost_readouts):
        assert minibatch.plot.p2c(_polyline_end(path)) == pytest.approx(tuple(run.w[k]), abs=SCREEN_TOL)
        assert minibatch.plot.p2c(head.get_center()) == pytest.approx(tuple(run.w[k]), abs=SCREEN_TOL)
        assert len(path.get_anchors()) >= 2
        assert readout.text == f"{run.cost[k]:.2f}"
    assert minibatch.step_readout.text == str(k)
    assert minibatch.epoch_readout.text == f"{k / (minibatch.steps / build.MINIBATCH_EPOCHS):.2f}"


def test_minibatch_heads_move_part_way_between_steps(minibatch):
    minibatch.show(10.5)
    for run, head in zip(minibatch.problem.runs, minibatch.heads):
        assert minibatch.plot.p2c(head.get_center()) == pytest.approx(tuple((run.w[10] + run.w[11]) / 2), abs=SCREEN_TOL)
    minibatch.show(minibatch.steps)


def test_minibatch_contours_are_the_reference_cost_at_b_star(minibatch):
    vref, X, y = _vector_reference()
    p = minibatch.problem
    assert len(minibatch.contours) >= 5
    costs = []
    for curve in minibatch.contours:
        corners = curve.get_anchors()[::15]
        w = np.array([minibatch.plot.p2c(point) for point in corners])
        values = vref.cost_surface(X, y, w[:, 0], w[:, 1], p.b_best).diagonal()
        assert np.ptp(values) / values.mean() < CONTOUR_REL_TOL, "a contour line is not one level of C"
        costs.append(values.mean())
    assert min(costs) > p.c_best
    star = minibatch.optimum[0]
    assert minibatch.plot.p2c(star.get_center()) == pytest.approx(tuple(p.w_best), abs=SCREEN_TOL)
    assert minibatch.optimum[3].get_tex_string() == f"{p.c_best:.2f}"


def test_minibatch_notes_say_what_the_reference_computes(minibatch):
    p = minibatch.problem
    notes = " ".join(line.get_tex_string() for line in minibatch.notes)
    full_b = np.abs(np.asarray(p.runs[0].path.b) - p.b_best).max()
    moved = max(np.abs(np.asarray(run.path.b) - p.b_best).max() for run in p.runs[1:])
    # the full batch keeps b at b* (the features have mean 0): the note claims it only when it holds
    assert full_b < build.B_ROUNDING and "keeps" in notes
    assert f"b^* = {p.b_best:.2f}" in notes and f"up to {moved:.1f}" in notes
    assert f"all {len(p.y)} patients" in notes and f"batch of {build.MINIBATCH_SIZE}" in notes
    assert f"{p.lr:g}" in minibatch.title.get_tex_string()


def test_minibatch_board_stays_in_frame_without_overlaps(minibatch):
    minibatch.show(minibatch.steps)
    for mob in [*minibatch.static(), *minibatch.moving(), minibatch.optimum]:
        assert build.in_frame(mob, build.FRAME_MARGIN), mob
    right = VGroup(minibatch.legend, *minibatch.cost_readouts, minibatch.optimum[1:], minibatch.counter_labels,
                   minibatch.step_readout, minibatch.epoch_readout)
    assert not build.boxes_overlap(right, minibatch.plot.mobject, LINE_GAP)
    assert not build.boxes_overlap(right, minibatch.labels, LINE_GAP)
    assert not build.boxes_overlap(minibatch.notes, VGroup(minibatch.plot.mobject, minibatch.labels), LINE_GAP)
    assert not build.boxes_overlap(minibatch.title, VGroup(minibatch.plot.mobject, minibatch.labels, right), LINE_GAP)
    for a, b in itertools.combinations([*minibatch.legend, *minibatch.cost_readouts, *minibatch.optimum[1:],
                                        *minibatch.counter_labels], 2):
        assert not build.boxes_overlap(a, b), (a, b)
    for line in minibatch.notes:   # one line each: \mbox keeps LaTeX from wrapping them
        assert line.height < 0.3, line.get_tex_string()


def test_minibatch_scene_runs_without_rendering_and_ends_on_the_last_step():
    """construct() with animations skipped: nothing is drawn, the board ends in its final state."""
    from manim import tempconfig
    from manim.renderer.cairo_renderer import CairoRenderer

    with tempconfig({"dry_run": True, "frame_rate": 5, "pixel_width": 160, "pixel_height": 90}):
        scene = scenes.MinibatchDescent(renderer=CairoRenderer(skip_animations=True))
        scene.render()
    board = scene.board
    assert board.shown == board.steps
    for run, path in zip(board.problem.runs, board.paths):
        assert board.plot.p2c(_polyline_end(path)) == pytest.approx(tuple(run.w[-1]), abs=SCREEN_TOL)
    assert scene.renderer.time == pytest.approx(0.6 + 2 * scenes.PAUSE_SECONDS + scenes.MINIBATCH_SECONDS
                                                + 1.0 + 3 * scenes.PAUSE_SECONDS)
    assert board.optimum in scene.mobjects
