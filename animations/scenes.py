"""The course's Manim scenes: one idea each, objects built in ``animations.build``.

Render (480p15, into media/videos/<Scene>.mp4):

    .venv/bin/msegrad render ChainRuleDerivation DescentTrajectory LearningRate --quality low

or with Manim directly (PYTHONHASHSEED=0 keeps renders identical run to run):

    PYTHONHASHSEED=0 .venv/bin/manim -ql --disable_caching animations/scenes.py DescentTrajectory
"""
from __future__ import annotations

from manim import (
    DOWN, AnimationGroup, Create, FadeIn, FadeOut, FadeTransform, LaggedStart, ReplacementTransform,
    Scene, UpdateFromAlphaFunc, Write, linear,
)

from animations import build

build.use_tex_cache()

def grow(sources, target, key_map=None):
    """Animate ``target`` growing out of ``sources`` (MathTex lines left in place).

    Like TransformMatchingTex (parts match when their LaTeX is equal), except that
    ``key_map`` pairs of different shapes morph into each other (Manim 0.22's
    key_map needs equal glyph counts), a part used twice in the target comes
    from the same source part, and the sources stay on screen. Unmatched target
    parts fade in; copies of unused source parts fade out into the target.
    """
    key_map = key_map or {}
    pool = {}
    for line in sources:
        for part in line:
            pool.setdefault(part.tex_string, []).append(part)
    used, anims = set(), []
    for part in target:
        key = part.tex_string
        wanted = [k for k, v in key_map.items() if v == key] + [key]
        match = next((pool[k] for k in wanted if k in pool), None)
        if match is None:
            anims.append(FadeIn(part, shift=0.2 * DOWN))
            continue
        source = next((m for m in match if id(m) not in used), match[0])
        used.add(id(source))
        anims.append(ReplacementTransform(source.copy(), part))
    leftovers = [part for line in sources for part in line if id(part) not in used
                 and part.tex_string not in {t.tex_string for t in target}]
    anims.extend(FadeOut(part.copy(), target_position=target) for part in leftovers)
    return AnimationGroup(*anims)


# Running times in seconds of the parts that move.
DESCENT_SECONDS = 18.0
RATES_SECONDS = 16.0
FIELD_SECONDS = 10.0
MINIBATCH_SECONDS = 21.0  # 42 steps, half a second each
STEP_SECONDS = 1.6
PAUSE_SECONDS = 1.2


class ChainRuleDerivation(Scene):
    """C = 1/n sum (y_hat - y)^2, differentiated line by line, then checked against autograd."""

    def construct(self):
        d = build.derivation()
        stage0, stage1, stage2 = d.stages
        caption = d.captions["cost"]
        self.play(FadeIn(d.title), Write(stage0["cost"]), FadeIn(caption), run_time=STEP_SECONDS)
        self.wait(PAUSE_SECONDS)
        shown = {"cost": stage0["cost"]}
        for step in build.STEPS:
            caption = self.derive(step, {**stage0, **stage1}, shown, d.captions, caption)
            if step.target == "chain_yhat":
                caption = self.next_stage(shown, {"chain_yhat": stage1["dC_dyhat"]}, d.captions["chain_yhat"], caption)
                shown = {"dC_dyhat": stage1["dC_dyhat"]}
        targets = {"chain_m": stage2["dC_dm"], "chain_b": stage2["dC_db"]}
        caption = self.next_stage(shown, targets, d.captions["dC_dm"], caption)
        evaluation = d.evaluation
        self.play(FadeIn(evaluation.at), FadeTransform(caption, d.captions["evaluate"]), run_time=STEP_SECONDS / 2)
        self.play(LaggedStart(*(FadeIn(cell) for cell in evaluation.table), lag_ratio=0.15), run_time=STEP_SECONDS * 1.5)
        self.wait(PAUSE_SECONDS * 3)

    def derive(self, step, lines, shown, captions, caption):
        """Grow ``step.target`` out of its sources; swap the caption when it changes."""
        target = lines[step.target]
        if step.sources:
            anims = [grow([shown[name] for name in step.sources], target, step.tex_key_map())]
        else:
            anims = [Write(target)]
        new_caption = captions[step.caption]
        if new_caption is not caption:
            anims.append(FadeTransform(caption, new_caption))
        self.play(*anims, run_time=STEP_SECONDS)
        self.settle(target)
        self.wait(PAUSE_SECONDS)
        shown[step.target] = target
        return new_caption

    def next_stage(self, shown, carried, new_caption, caption):
        """Clear the board except the lines in ``carried``, which move to their next form."""
        gone = [mob for name, mob in shown.items() if name not in carried]
        self.play(*(FadeOut(mob) for mob in gone),
                  *(grow([shown[name]], target) for name, target in carried.items()),
                  *(FadeOut(shown[name]) for name in carried),
                  FadeTransform(caption, new_caption), run_time=STEP_SECONDS)
        for target in carried.values():
            self.settle(target)
        self.wait(PAUSE_SECONDS)
        return new_caption

    def settle(self, line):
        """After ``grow``, the scene holds the line's parts; hold the line itself instead."""
        self.remove(*line.submobjects)
        self.add(line)


def play_board(scene, board, seconds):
    """Fade a board in, then run its descent from step 0 to the last over `seconds`."""
    moving = board.moving()
    scene.play(FadeIn(board.static()), FadeIn(moving), run_time=1.5)
    scene.wait(PAUSE_SECONDS)
    steps = board.steps
    scene.play(UpdateFromAlphaFunc(moving, lambda _, a: board.show(build.epoch_at(a, steps))),
               run_time=seconds, rate_func=linear)


class DescentTrajectory(Scene):
    """The lecture's 1001 steps of gradient descent: the line, the readouts, the path and the cost."""

    def construct(self):
        board = build.descent_board()
        play_board(self, board, DESCENT_SECONDS)
        self.play(FadeIn(board.optimum), Create(board.least_squares_line), run_time=1.5)
        self.wait(PAUSE_SECONDS * 3)


class LearningRate(Scene):
    """Too small crawls, the lecture's converges, above 2/lambda_max diverges."""

    def construct(self):
        board = build.rate_board()
        play_board(self, board, RATES_SECONDS)
        self.play(LaggedStart(*(FadeIn(word) for word in board.verdicts), lag_ratio=0.5), run_time=1.5)
        self.wait(PAUSE_SECONDS * 3)


class GradientField(Scene):
    """Where each point of the cost surface would step, and the lecture's run following the arrows."""

    def construct(self):
        board = build.field_board()
        self.play(FadeIn(board.static()), run_time=1.0)
        self.play(LaggedStart(*(FadeIn(arrow) for arrow in board.arrows), lag_ratio=0.02), run_time=2.0)
        self.wait(PAUSE_SECONDS * 2)
        moving = board.moving()
        steps = board.trajectory.steps
        self.play(FadeIn(moving), run_time=0.5)
        self.play(UpdateFromAlphaFunc(moving, lambda _, a: board.show(build.epoch_at(a, steps))),
                  run_time=FIELD_SECONDS, rate_func=linear)
        self.play(FadeIn(board.optimum), run_time=1.0)
        self.wait(PAUSE_SECONDS * 3)


class MinibatchDescent(Scene):
    """Assignment 2: the weight vector's descent on two features, full batch against two mini-batch seeds."""

    def construct(self):
        board = self.board = build.minibatch_board()  # kept for tests that run construct() without rendering
        moving = board.moving()
        # A short fade: the board has hundreds of glyphs, and every faded frame redraws them all.
        self.play(FadeIn(board.static()), FadeIn(moving), run_time=0.6)
        self.wait(PAUSE_SECONDS * 2)  # time to read the notes under the plot
        self.play(UpdateFromAlphaFunc(moving, lambda _, a: board.show(a * board.steps)),
                  run_time=MINIBATCH_SECONDS, rate_func=linear)
        self.play(FadeIn(board.optimum), run_time=1.0)
        self.wait(PAUSE_SECONDS * 3)


SCENES = (ChainRuleDerivation, DescentTrajectory, LearningRate, GradientField, MinibatchDescent)
