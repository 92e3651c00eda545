"""Builders for the scenes: plain functions that tests can call without rendering.

Every number, point, line and path comes from ``autograder.reference``; every
symbol's spelling and colour from ``autograder.notation``. The scenes in
``animations.scenes`` only arrange and animate what is built here.

Symbols carry their colour inside the LaTeX (``{\\color[HTML]{...} m}``), so a
symbol has the same colour in every line, and ``TransformMatchingTex`` matches
parts whose LaTeX (colour included) is identical.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from contourpy import contour_generator
from manim import (
    DOWN, LEFT, RIGHT, UP,
    Axes, DashedLine, Dot, Line, MathTex, Star, Tex, TexTemplate,
    VGroup, VMobject, config,
)

from autograder import reference as ref
from autograder.notation import COLOURS, LATEX

REPO_ROOT = Path(__file__).resolve().parents[1]
# LaTeX output is cached here, outside any media directory, so every render and
# every test run reuses it.
TEX_DIR = REPO_ROOT / "build" / "manim-tex"

FONT_SIZE = 34          # equations
SMALL_FONT_SIZE = 26    # readouts, captions, axis labels
TICK_FONT_SIZE = 20
# Visible margin kept free at the frame's edges (Manim units; the frame is 8 high).
FRAME_MARGIN = 0.15
WHITE = "#FFFFFF"
GREY = COLOURS["reference"]


def use_tex_cache(tex_dir: Path = TEX_DIR) -> None:
    """Point Manim's LaTeX cache at ``tex_dir`` (call before building any MathTex)."""
    tex_dir.mkdir(parents=True, exist_ok=True)
    config.tex_dir = str(tex_dir)


@lru_cache(maxsize=1)
def tex_template() -> TexTemplate:
    """Manim's default template plus xcolor, for symbols coloured inside the LaTeX."""
    template = TexTemplate()
    template.add_to_preamble(r"\usepackage{xcolor}")
    return template


def mtex(*parts: str, font_size: float = FONT_SIZE, **kwargs) -> MathTex:
    return lighten(MathTex(*parts, font_size=font_size, tex_template=tex_template(), **kwargs))


def text(body: str, font_size: float = SMALL_FONT_SIZE, **kwargs) -> Tex:
    return lighten(Tex(body, font_size=font_size, tex_template=tex_template(), **kwargs))


def lighten(tex: MathTex) -> MathTex:
    """Drop what Manim keeps from parsing the SVG, once the outlines exist.

    Every glyph keeps its parsed svgelements path and every MathTex a table of
    SVG groups; animations deep-copy both (about 50 ms per equation copy here).
    The outlines, colours and parts (``tex_string``) stay.
    """
    for mob in tex.get_family():
        if hasattr(mob, "path_obj"):
            mob.path_obj = None
    tex.id_to_vgroup_dict = {}
    return tex


# --------------------------------------------------------------------------
# Notation: coloured symbols
# --------------------------------------------------------------------------

def colour_of(symbol: str) -> str:
    return COLOURS.get(symbol, WHITE)


def sym(symbol: str) -> str:
    """LaTeX for a symbol of the notation table, wrapped in its colour."""
    latex = LATEX[symbol]
    if symbol not in COLOURS:
        return latex
    return r"{\color[HTML]{%s} %s}" % (COLOURS[symbol].lstrip("#").upper(), latex)


def squared(symbol: str) -> str:
    """The symbol squared, typeset as one atom (u_i^2, not {u_i}^2) with a white exponent."""
    return sym(symbol)[:-1] + r"^{\color[HTML]{%s} 2}}" % WHITE.lstrip("#")


def partial(numerator: str, denominator: str) -> str:
    r"""\frac{\partial N}{\partial D} with both symbols coloured."""
    return r"\frac{\partial %s}{\partial %s}" % (sym(numerator), sym(denominator))


_COLOUR_OPEN = re.compile(r"\{\\color\[HTML\]\{[0-9A-Fa-f]{6}\} ")


def plain(tex: str) -> str:
    """``tex`` without the colour wrappers that ``sym`` adds."""
    out, closers, i = [], [], 0
    while i < len(tex):
        match = _COLOUR_OPEN.match(tex, i)
        if match:
            closers.append(0)
            i = match.end()
            continue
        ch = tex[i]
        if ch == "\\" and i + 1 < len(tex):
            out.append(tex[i:i + 2])
            i += 2
            continue
        if ch == "{" and closers:
            closers[-1] += 1
        elif ch == "}" and closers:
            if closers[-1] == 0:
                closers.pop()
                i += 1
                continue
            closers[-1] -= 1
        out.append(ch)
        i += 1
    return "".join(out)


def same_tex(a: str, b: str) -> bool:
    """Equal up to colour wrappers, whitespace and braces around a single token (x^{2} = x^2)."""
    def norm(s: str) -> str:
        return re.sub(r"\{(\w)\}", r"\1", re.sub(r"\s+", "", plain(s)))
    return norm(a) == norm(b)


def fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


# --------------------------------------------------------------------------
# Scene 1: the chain-rule derivation
# --------------------------------------------------------------------------

def parts() -> dict[str, str]:
    """The pieces equations are made of; equal pieces match across lines."""
    return {
        "C": sym("C"), "=": "=", "+": "+", "-": "-", "(": "(", ")": ")", ")^2": ")^2",
        "1/n": r"\frac{1}{n}", "2/n": r"\frac{2}{n}", "sum": r"\sum_{i=1}^{n}",
        "y_hat": sym("y_hat"), "y": sym("y"), "x": sym("x"), "m": sym("m"), "b": sym("b"),
        r"\,x": r"\, " + sym("x"),   # x_i after a bracket, with the notation table's thin space
        "u": sym("u"), "u^2": squared("u"), "2u/n": r"\frac{2 %s}{n}" % sym("u"),
        "1": "1",
        "dC_du": partial("C", "u"), "du_dyhat": partial("u", "y_hat"),
        "dC_dyhat": partial("C", "y_hat"), "dyhat_dm": partial("y_hat", "m"),
        "dyhat_db": partial("y_hat", "b"), "dC_dm": partial("C", "m"), "dC_db": partial("C", "b"),
    }


# Each line of the derivation as a list of part names, in the lecture's order.
LINES: dict[str, list[str]] = {
    "cost": ["C", "=", "1/n", "sum", "(", "y_hat", "-", "y", ")^2"],
    "u": ["u", "=", "y_hat", "-", "y"],
    "cost_u": ["C", "=", "1/n", "sum", "u^2"],
    "dC_du": ["dC_du", "=", "2u/n"],
    "du_dyhat": ["du_dyhat", "=", "1"],
    "chain_yhat": ["dC_dyhat", "=", "dC_du", "du_dyhat", "=", "2/n", "(", "y_hat", "-", "y", ")"],
    "dC_dyhat": ["dC_dyhat", "=", "2/n", "(", "y_hat", "-", "y", ")"],
    "model": ["y_hat", "=", "m", "x", "+", "b"],
    "dyhat_dm": ["dyhat_dm", "=", "x"],
    "dyhat_db": ["dyhat_db", "=", "1"],
    "chain_m": ["dC_dm", "=", "sum", "dC_dyhat", "dyhat_dm", "=", "2/n", "sum", "(", "y_hat", "-", "y", ")", r"\,x"],
    "chain_b": ["dC_db", "=", "sum", "dC_dyhat", "dyhat_db", "=", "2/n", "sum", "(", "y_hat", "-", "y", ")"],
    "dC_dm": ["dC_dm", "=", "2/n", "sum", "(", "y_hat", "-", "y", ")", r"\,x"],
    "dC_db": ["dC_db", "=", "2/n", "sum", "(", "y_hat", "-", "y", ")"],
}


def line_tex(name: str) -> list[str]:
    table = parts()
    return [table[p] for p in LINES[name]]


def equation(name: str, font_size: float = FONT_SIZE) -> MathTex:
    return mtex(*line_tex(name), font_size=font_size)


@dataclass(frozen=True)
class Step:
    """One move of the derivation: ``target`` grows out of copies of ``sources``.

    ``key_map`` pairs a source part with the target part it turns into (part names).
    """

    target: str
    sources: tuple[str, ...]
    caption: str
    key_map: dict[str, str] = field(default_factory=dict)

    def tex_key_map(self) -> dict[str, str]:
        table = parts()
        return {table[a]: table[b] for a, b in self.key_map.items()}


# Stages: each is a list of rows, each row a list of line names shown side by side.
STAGES: list[list[list[str]]] = [
    [["cost"], ["u", "cost_u"], ["dC_du", "du_dyhat"], ["chain_yhat"]],
    [["dC_dyhat"], ["model"], ["dyhat_dm", "dyhat_db"], ["chain_m"], ["chain_b"]],
    [["dC_dm"], ["dC_db"]],
]


def captions() -> dict[str, str]:
    s = {k: "$" + sym(k) + "$" for k in ("u", "y_hat", "m", "b", "C")}
    return {
        "cost": r"The cost: the mean of the squared errors",
        "u": r"Name the error %s" % s["u"],
        "cost_u": r"so %s is a mean of squares of %s" % (s["C"], s["u"]),
        "dC_du": r"Power rule: each $%s$ contributes $%s$" % (squared("u"), r"\frac{2 %s}{n}" % sym("u")),
        "du_dyhat": r"%s moves one for one with %s" % (s["u"], s["y_hat"]),
        "chain_yhat": r"Chain rule through %s" % s["u"],
        "model": r"The model: a line with slope %s and intercept %s" % (s["m"], s["b"]),
        "dyhat_dm": r"How %s moves with %s and with %s" % (s["y_hat"], s["m"], s["b"]),
        "chain_m": r"Chain rule, summed over every instance $i$",
        "dC_dm": r"The gradient of the mean squared error",
        "evaluate": r"On the lecture's data, by hand and by autograd",
    }


# The derivation, move by move. Stage changes are handled by the scene.
STEPS: list[Step] = [
    Step("u", ("cost",), "u"),
    Step("cost_u", ("cost", "u"), "cost_u", {"u": "u^2"}),
    Step("dC_du", ("cost_u",), "dC_du", {"u^2": "2u/n", "C": "dC_du"}),
    Step("du_dyhat", ("u",), "du_dyhat", {"u": "du_dyhat", "y_hat": "1"}),
    Step("chain_yhat", ("dC_du", "du_dyhat", "u"), "chain_yhat", {"2u/n": "2/n"}),
    # stage 2 starts from chain_yhat's result, dC_dyhat
    Step("model", (), "model"),
    Step("dyhat_dm", ("model",), "dyhat_dm", {"y_hat": "dyhat_dm"}),
    Step("dyhat_db", ("model",), "dyhat_dm", {"y_hat": "dyhat_db", "b": "1"}),
    Step("chain_m", ("dC_dyhat", "dyhat_dm"), "chain_m", {"x": r"\,x"}),
    Step("chain_b", ("dC_dyhat", "dyhat_db"), "chain_m"),
]


def title(body: str) -> Tex:
    return text(body, font_size=36).to_edge(UP, buff=0.3)


def caption_mobject(body: str) -> Tex:
    return text(body, font_size=SMALL_FONT_SIZE, color=GREY).to_edge(DOWN, buff=0.35)


def layout_stage(rows: list[list[str]], top: float = 2.7, row_buff: float = 0.42,
                 column_buff: float = 1.2) -> dict[str, MathTex]:
    """Build and place a stage's lines: rows from ``top`` downwards, centred."""
    lines: dict[str, MathTex] = {}
    row_groups = []
    for row in rows:
        group = VGroup(*(equation(name) for name in row)).arrange(RIGHT, buff=column_buff)
        lines.update(zip(row, group))
        row_groups.append(group)
    board = VGroup(*row_groups).arrange(DOWN, buff=row_buff)
    board.move_to([0, top - board.height / 2, 0])
    return lines


@dataclass
class Derivation:
    title: Tex
    stages: list[dict[str, MathTex]]
    captions: dict[str, Tex]
    evaluation: "Evaluation"


@dataclass
class Evaluation:
    """The end of scene 1: both partials on the lecture's data, by hand and by autograd."""

    at: MathTex              # "at m = 0.9, b = 0.1, n = 8"
    table: VGroup            # rows: header, dC/dm, dC/db; columns: symbol, chain rule, autograd
    by_hand: dict[str, float]
    autograd: dict[str, float]

    def group(self) -> VGroup:
        return VGroup(self.at, self.table)


def evaluation_values() -> tuple[dict[str, float], dict[str, float]]:
    """dC/dm and dC/db at the lecture's start: the hand-derived formulas and autograd."""
    x, y = ref.lecture_data()
    by_hand = {"dC_dm": float(ref.dC_dm(x, y, ref.M_START, ref.B_START)),
               "dC_db": float(ref.dC_db(x, y, ref.M_START, ref.B_START))}
    grads = ref.autograd_gradients(x, y, ref.M_START, ref.B_START)
    return by_hand, {"dC_dm": grads.dC_dm, "dC_db": grads.dC_db}


def build_evaluation(top: float) -> Evaluation:
    x, _ = ref.lecture_data()
    by_hand, autograd = evaluation_values()
    table = parts()
    at = mtex(r"\text{at }", table["m"], "=", fmt(ref.M_START, 1), r",\quad", table["b"], "=",
              fmt(ref.B_START, 1), r",\quad", "n", "=", str(len(x)), font_size=SMALL_FONT_SIZE + 4)
    header = [text(""), text("chain rule"), text(r"autograd (\texttt{torch})")]
    rows = [header]
    for key in ("dC_dm", "dC_db"):
        rows.append([mtex(table[key]), mtex(fmt(by_hand[key])), mtex(fmt(autograd[key]))])
    grid = VGroup(*(mob for row in rows for mob in row)).arrange_in_grid(
        rows=len(rows), cols=3, buff=(1.0, 0.35), col_alignments="rcc")
    group = VGroup(at, grid).arrange(DOWN, buff=0.4)
    group.move_to([0, top - group.height / 2, 0])
    return Evaluation(at=at, table=grid, by_hand=by_hand, autograd=autograd)


def derivation() -> Derivation:
    """All lines of the derivation, placed stage by stage, with captions and the evaluation."""
    head = title(r"The gradient of the mean squared error")
    top = head.get_bottom()[1] - 0.35
    stages = [layout_stage(rows, top=top) for rows in STAGES]
    caps = {key: caption_mobject(body) for key, body in captions().items()}
    final_bottom = min(m.get_bottom()[1] for m in stages[-1].values())
    evaluation = build_evaluation(top=final_bottom - 0.55)
    return Derivation(title=head, stages=stages, captions=caps, evaluation=evaluation)


# --------------------------------------------------------------------------
# Plots shared by scenes 2 and 3
# --------------------------------------------------------------------------

def epoch_at(alpha: float, steps: int, knee: float = 4.0) -> int:
    """Epoch shown at animation progress ``alpha`` in [0, 1].

    Exponential in time, so the first big steps each take a visible fraction of
    a second and the hundreds of small steps in the valley still pass by:
    epoch = knee ((1 + steps/knee)^alpha - 1).
    """
    alpha = min(max(alpha, 0.0), 1.0)
    value = knee * ((1.0 + steps / knee) ** alpha - 1.0)
    return int(min(steps, math.floor(value + 1e-9)))


def nice_range(low: float, high: float, pad: float = 0.1) -> tuple[float, float]:
    span = high - low
    return low - pad * span, high + pad * span


def axis_label(symbol: str, font_size: float = SMALL_FONT_SIZE) -> MathTex:
    return mtex(sym(symbol), font_size=font_size)


class Plot:
    """Axes whose lines run along the box's left and bottom edges, wherever zero is.

    Manim's Axes cross at the origin; plots of (m, b) or of log C read better
    with the axes at the edges. ``c2p``/``p2c`` work in the plot's own units.
    """

    def __init__(self, x_range, y_range, width: float, height: float,
                 x_labels: dict[float, str] | None = None, y_labels: dict[float, str] | None = None):
        self.x_range = (float(x_range[0]), float(x_range[1]))
        self.y_range = (float(y_range[0]), float(y_range[1]))
        self.axes = Axes(
            x_range=[0, self.x_range[1] - self.x_range[0], self.x_range[1] - self.x_range[0]],
            y_range=[0, self.y_range[1] - self.y_range[0], self.y_range[1] - self.y_range[0]],
            x_length=width, y_length=height, tips=False,
            axis_config={"stroke_width": 2, "color": GREY, "include_ticks": False},
        )
        x_labels = x_labels if x_labels is not None else tick_labels(self.x_range)
        y_labels = y_labels if y_labels is not None else tick_labels(self.y_range)
        self.labels = VGroup()
        for value, label in x_labels.items():
            self.labels.add(mtex(label, font_size=TICK_FONT_SIZE).next_to(self.c2p(value, self.y_range[0]), DOWN, buff=0.12))
        for value, label in y_labels.items():
            self.labels.add(mtex(label, font_size=TICK_FONT_SIZE).next_to(self.c2p(self.x_range[0], value), LEFT, buff=0.12))
        self.ticks = VGroup(
            *(Line(self.c2p(v, self.y_range[0]), self.c2p(v, self.y_range[0]) + UP * 0.08, color=GREY, stroke_width=2)
              for v in x_labels),
            *(Line(self.c2p(self.x_range[0], v), self.c2p(self.x_range[0], v) + RIGHT * 0.08, color=GREY, stroke_width=2)
              for v in y_labels),
        )
        self.mobject = VGroup(self.axes, self.ticks, self.labels)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (*self.x_range, *self.y_range)

    def c2p(self, x: float, y: float) -> np.ndarray:
        return np.asarray(self.axes.c2p(x - self.x_range[0], y - self.y_range[0]), float)

    def points(self, xs, ys) -> np.ndarray:
        """Plot coordinates to scene points, vectorised: shape (k, 3)."""
        origin = self.c2p(self.x_range[0], self.y_range[0])
        ex = self.c2p(self.x_range[0] + 1, self.y_range[0]) - origin
        ey = self.c2p(self.x_range[0], self.y_range[0] + 1) - origin
        return (origin + np.outer(np.asarray(xs, float) - self.x_range[0], ex)
                + np.outer(np.asarray(ys, float) - self.y_range[0], ey))

    def p2c(self, point) -> tuple[float, float]:
        x, y = self.axes.p2c(np.asarray(point, float))[:2]
        return x + self.x_range[0], y + self.y_range[0]

    def label_axes(self, x_label, y_label) -> VGroup:
        """Axis names: x under the right end of the x axis, y above the top of the y axis."""
        right = self.c2p(self.x_range[1], self.y_range[0])
        top = self.c2p(self.x_range[0], self.y_range[1])
        return VGroup(x_label.next_to(right, RIGHT, buff=0.15), y_label.next_to(top, UP, buff=0.1))


def tick_step(span) -> float:
    raw = (span[1] - span[0]) / 5
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw:
            return mult * power
    return 10 * power


def tick_labels(span, step: float | None = None) -> dict[float, str]:
    """Round values inside ``span`` every ``step``, as LaTeX strings."""
    step = step if step is not None else tick_step(span)
    first = math.ceil(span[0] / step - 1e-9)
    last = math.floor(span[1] / step + 1e-9)
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    return {k * step: f"{k * step + 0.0:.{digits}f}" for k in range(first, last + 1)}


def clip_segment(p, q, box) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of segment p-q inside box = (x0, x1, y0, y1) (Liang-Barsky), or None."""
    x0, x1, y0, y1 = box
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    d = q - p
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-d[0], p[0] - x0), (d[0], x1 - p[0]), (-d[1], p[1] - y0), (d[1], y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return None
            continue
        t = qk / pk
        if pk < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return p + t0 * d, p + t1 * d


def clipped_path(points: np.ndarray, box) -> tuple[np.ndarray, int]:
    """Polyline ``points`` cut where it first leaves ``box``.

    Returns (vertices, last): the vertices to draw (the exit point replaces the
    first vertex outside) and the index of the last original point drawn.
    """
    out = [points[0]]
    for k in range(1, len(points)):
        if not np.all(np.isfinite(points[k])):
            return np.array(out), k - 1
        seg = clip_segment(points[k - 1], points[k], box)
        if seg is None:
            return np.array(out), k - 1
        if not np.allclose(seg[1], points[k]):
            out.append(seg[1])
            return np.array(out), k - 1
        out.append(points[k])
    return np.array(out), len(points) - 1


class GrowingPolyline:
    """Draw the first k+1 vertices of a long polyline cheaply, frame after frame.

    Vertices closer than ``min_step`` (scene units) to the last kept one are
    skipped, except the current head, so late frames do not redraw a thousand
    overlapping segments.
    """

    def __init__(self, scene_points: np.ndarray, min_step: float = 0.02):
        self.points = np.asarray(scene_points, float)
        keep, last = [0], self.points[0]
        for k in range(1, len(self.points)):
            if np.linalg.norm(self.points[k] - last) >= min_step:
                keep.append(k)
                last = self.points[k]
        self.keep = np.array(keep)

    def prefix(self, k: int) -> np.ndarray:
        k = min(k, len(self.points) - 1)
        n = int(np.searchsorted(self.keep, k, side="right"))
        idx = self.keep[:n]
        if idx[-1] != k:
            idx = np.append(idx, k)
        pts = self.points[idx]
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        return pts


def set_polyline(mob: VMobject, pts: np.ndarray) -> None:
    mob.set_points_as_corners(pts)


def contour_lines(plot: Plot, levels, resolution: int = 160) -> VGroup:
    """Level sets of the lecture's cost over the plot's (m, b) box, traced by contourpy."""
    x, y = lecture_arrays()
    m_values = np.linspace(*plot.x_range, resolution)
    b_values = np.linspace(*plot.y_range, resolution)
    surface = ref.cost_surface(x, y, m_values, b_values)
    generator = contour_generator(x=m_values, y=b_values, z=surface)
    group = VGroup()
    for i, level in enumerate(levels):
        opacity = 0.85 - 0.55 * i / max(1, len(levels) - 1)
        for vertices in generator.lines(level):
            if len(vertices) < 2:
                continue
            curve = VMobject(stroke_color=COLOURS["C"], stroke_width=1.5, stroke_opacity=opacity)
            curve.set_points_as_corners(plot.points(vertices[:, 0], vertices[:, 1]))
            group.add(curve)
    return group


def cost_levels(c_min: float, c_max: float, count: int) -> np.ndarray:
    """Contour levels spaced evenly in log(C - C_min), so the valley floor is traced too."""
    return c_min + np.geomspace((c_max - c_min) * 2e-3, (c_max - c_min) * 0.7, count)


@lru_cache(maxsize=1)
def lecture_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's (x, y) as float64 numpy arrays (the float32 values, widened)."""
    x, y = ref.lecture_data()
    return x.numpy().astype(float), y.numpy().astype(float)


def least_squares_point() -> tuple[float, float]:
    x, y = ref.lecture_data(torch.float64)
    return ref.least_squares(x, y)


def least_squares_cost() -> float:
    x, y = ref.lecture_data(torch.float64)
    return float(ref.cost(x, y, *ref.least_squares(x, y)))


def log_cost_plot(epochs: int, c_low: float, c_high: float, width: float, height: float) -> Plot:
    """x = log10(1 + epoch), labelled in epochs; y = log10(C), labelled in powers of ten."""
    y_lo, y_hi = math.floor(math.log10(c_low)), math.ceil(math.log10(c_high))
    x_ticks = [0] + [10 ** p for p in range(1, int(math.log10(epochs)) + 1)]
    return Plot((0, math.log10(1 + epochs)), (y_lo, y_hi), width, height,
                x_labels={math.log10(1 + e): str(e) for e in x_ticks},
                y_labels={p: f"10^{{{p}}}" for p in range(y_lo, y_hi + 1)})


def cost_curve_points(plot: Plot, cost: np.ndarray) -> np.ndarray:
    """Scene points of (log10(1 + epoch), log10 C), C clipped into the plot's y range."""
    y_lo, y_hi = plot.y_range
    with np.errstate(all="ignore"):
        logc = np.log10(np.where(np.isfinite(cost), cost, np.inf))
    logc = np.clip(logc, y_lo, y_hi)
    return plot.points(np.log10(1 + np.arange(len(cost))), logc)


class Readout(VMobject):
    """A number that can change every frame without LaTeX or deep copies.

    Manim's DecimalNumber deep-copies a glyph per character on every
    ``set_value`` (milliseconds per number per frame). Here the glyph outlines
    of "0123456789.-" are compiled once; ``set_value`` copies their points
    into a fixed set of slots. Digits share one advance (tabular figures), so
    the number does not jitter. The left edge stays where it was put.
    """

    GLYPHS = "0123456789.-"

    def __init__(self, value: float = 0.0, decimals: int = 4, font_size: float = SMALL_FONT_SIZE + 2,
                 color: str = WHITE, slots: int = 12):
        super().__init__()
        self.decimals = decimals
        self.font_size = font_size
        self.templates, self.advances = _glyph_templates(font_size)
        self.slots = [VMobject(fill_color=color, fill_opacity=1.0, stroke_width=0) for _ in range(slots)]
        self.add(*self.slots)
        self.anchor = np.zeros(3)
        self.number = None
        self.text = ""
        self.set_value(value)

    def set_value(self, value: float, decimals: int | None = None) -> "Readout":
        """Show ``value`` with ``decimals`` places (the readout's own number by default)."""
        self.number = float(value)
        string = f"{value:.{self.decimals if decimals is None else decimals}f}"
        if string == self.text:
            return self
        if len(string) > len(self.slots):
            raise ValueError(f"{string!r} needs more than {len(self.slots)} characters")
        self.text = string
        x = 0.0
        for i, slot in enumerate(self.slots):
            if i < len(string):
                ch = string[i]
                slot.set_points(self.templates[ch] + self.anchor + np.array([x, 0.0, 0.0]))
                x += self.advances[ch]
            else:
                slot.clear_points()
        return self

    def get_value(self) -> float:
        return self.number

    def shift(self, *vectors):
        super().shift(*vectors)
        self.anchor = self.anchor + sum(vectors)
        return self

    def place(self, left_centre) -> "Readout":
        """Put the number's left edge, at the height of a digit's centre, on ``left_centre``."""
        self.shift(np.asarray(left_centre, float) - self.anchor)
        return self


@lru_cache(maxsize=None)
def _glyph_templates(font_size: float) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Glyph outlines relative to (left edge, digit centre) and advances, from one LaTeX compile."""
    glyphs = mtex(Readout.GLYPHS, font_size=font_size)
    pieces = glyphs.family_members_with_points()
    if len(pieces) != len(Readout.GLYPHS):
        raise RuntimeError(f"expected {len(Readout.GLYPHS)} glyphs, got {len(pieces)}")
    pieces = sorted(pieces, key=lambda p: p.get_left()[0])
    digit_centre = np.mean([p.get_center()[1] for p in pieces[:10]])
    digit_width = max(p.width for p in pieces[:10])
    gap = 0.18 * digit_width
    templates, advances = {}, {}
    for ch, piece in zip(Readout.GLYPHS, pieces):
        origin = np.array([piece.get_left()[0], digit_centre, 0.0])
        if ch.isdigit():   # centre each digit in a common advance
            origin[0] -= (digit_width - piece.width) / 2
            advances[ch] = digit_width + gap
        else:
            advances[ch] = piece.width + 1.5 * gap
        templates[ch] = piece.points - origin
    return templates, advances


# --------------------------------------------------------------------------
# Scene 2: the descent trajectory
# --------------------------------------------------------------------------

READOUTS = ("epoch", "m", "b", "C", "dC_dm", "dC_db")
READOUT_DECIMALS = {"epoch": 0, "m": 4, "b": 4, "C": 4, "dC_dm": 4, "dC_db": 4}


def readout_label(key: str) -> MathTex:
    if key == "epoch":
        return text("epoch", font_size=SMALL_FONT_SIZE + 2)
    latex = sym(key) if key in ("m", "b", "C") else partial("C", key[-1])
    return mtex(latex, "=", font_size=SMALL_FONT_SIZE + 2)


@dataclass
class DescentBoard:
    """Every object of the descent scene; ``show(k)`` puts them all in the state after k steps."""

    trajectory: ref.Trajectory
    title: Tex
    data_plot: Plot
    data_labels: VGroup
    points: VGroup
    line: Line
    residuals: VGroup
    readouts: dict[str, Readout]
    readout_labels: VGroup
    contour_plot: Plot
    contour_labels: VGroup
    contours: VGroup
    path: VMobject
    head: Dot
    optimum: VGroup
    cost_plot: Plot
    cost_labels: VGroup
    cost_curve: VMobject
    cost_head: Dot
    least_squares_line: Line
    path_poly: GrowingPolyline
    cost_poly: GrowingPolyline
    epoch: int = -1

    @property
    def steps(self) -> int:
        return self.trajectory.steps

    def static(self) -> VGroup:
        """What never moves (drawn once into the background)."""
        return VGroup(self.title, self.data_plot.mobject, self.data_labels, self.contour_plot.mobject,
                      self.contour_labels, self.contours, self.cost_plot.mobject, self.cost_labels,
                      self.readout_labels, self.points)

    def moving(self) -> VGroup:
        return VGroup(self.residuals, self.line, self.path, self.head, self.cost_curve,
                      self.cost_head, *self.readouts.values())

    def state(self, k: int) -> dict[str, float]:
        t = self.trajectory
        return {"epoch": k, "m": t.m[k], "b": t.b[k], "C": t.cost[k],
                "dC_dm": t.grad_m[k], "dC_db": t.grad_b[k]}

    def show(self, k: int) -> None:
        k = int(min(max(k, 0), self.steps))
        if k == self.epoch:
            return
        self.epoch = k
        state = self.state(k)
        place_line(self.data_plot, self.line, state["m"], state["b"])
        place_residuals(self.data_plot, self.residuals, state["m"], state["b"])
        for key, number in self.readouts.items():
            number.set_value(state[key])
        set_polyline(self.path, self.path_poly.prefix(k))
        self.head.move_to(self.path_poly.points[k])
        set_polyline(self.cost_curve, self.cost_poly.prefix(k))
        self.cost_head.move_to(self.cost_poly.points[k])


def data_plot_for(x: np.ndarray, y: np.ndarray, width: float, height: float) -> Plot:
    x_lo, x_hi = math.floor(x.min()), math.ceil(x.max())
    y_lo, y_hi = math.floor(y.min()), math.ceil(y.max()) + 1
    return Plot((x_lo - 0.5, x_hi + 0.5), (y_lo, y_hi), width, height,
                x_labels=tick_labels((x_lo, x_hi), 1), y_labels=tick_labels((y_lo, y_hi), 1))


def place_line(plot: Plot, line: Line, m: float, b: float) -> None:
    """Put ``line`` on y_hat = m x + b, clipped to the plot's box."""
    x0, x1, y0, y1 = plot.box
    seg = clip_segment((x0, m * x0 + b), (x1, m * x1 + b), plot.box)
    if seg is None:  # entirely outside: lay it along the nearest edge
        seg = (np.array([x0, np.clip(m * x0 + b, y0, y1)]), np.array([x1, np.clip(m * x1 + b, y0, y1)]))
    line.put_start_and_end_on(plot.c2p(*seg[0]), plot.c2p(*seg[1]))


def place_residuals(plot: Plot, residuals: VGroup, m: float, b: float) -> None:
    """Vertical segments from each (x_i, y_i) to the line, clipped to the plot's box."""
    x, y = lecture_arrays()
    y_hat = ref.predict(x, m, b)
    _, _, y0, y1 = plot.box
    for seg, xi, yi, yh in zip(residuals, x, y, y_hat):
        start, end = plot.c2p(xi, yi), plot.c2p(xi, float(np.clip(yh, y0, y1)))
        if np.allclose(start, end):
            end = end + np.array([0, 1e-4, 0])
        seg.put_start_and_end_on(start, end)


def descent_board(trajectory: ref.Trajectory | None = None) -> DescentBoard:
    """The descent scene, laid out on the 16:9 frame, in the state before the first step."""
    t = trajectory if trajectory is not None else ref.lecture_descent()
    x, y = lecture_arrays()
    ls_m, ls_b = least_squares_point()
    c_min = least_squares_cost()

    head_title = text(r"Gradient descent on the lecture's data, $%s = %s$" % (LATEX["lr"], f"{t.lr:g}"),
                      font_size=32).to_edge(UP, buff=0.2)

    # left: data, line, residuals; readouts below
    data_plot = data_plot_for(x, y, width=6.0, height=3.6)
    data_plot.mobject.move_to([-3.45, 0.85, 0])
    data_labels = data_plot.label_axes(axis_label("x"), axis_label("y"))
    points = VGroup(*(Dot(data_plot.c2p(xi, yi), radius=0.065, color=COLOURS["y"]) for xi, yi in zip(x, y)))
    line = Line(LEFT, RIGHT, color=COLOURS["y_hat"], stroke_width=4)
    residuals = VGroup(*(Line(UP, DOWN, color=COLOURS["u"], stroke_width=3) for _ in x))
    ls_line = Line(LEFT, RIGHT)
    place_line(data_plot, ls_line, ls_m, ls_b)
    ls_line = DashedLine(ls_line.get_start(), ls_line.get_end(), color=WHITE, stroke_width=2, dash_length=0.12)

    readout_labels, readouts = VGroup(), {}
    left = data_plot.axes.get_left()[0]
    col_x = [left + 1.2, left + 4.3]          # where labels end and numbers start
    row_y0 = data_plot.mobject.get_bottom()[1] - 0.5
    for i, key in enumerate(READOUTS):
        col, row = divmod(i, 3)
        y_pos = row_y0 - row * 0.82
        label = readout_label(key).move_to([col_x[col], y_pos, 0], aligned_edge=RIGHT)
        number = Readout(0, decimals=READOUT_DECIMALS[key], color=colour_of(key)).place([col_x[col] + 0.15, y_pos, 0])
        readout_labels.add(label)
        readouts[key] = number

    # right top: contours of C over (m, b), with the path
    m_range = nice_range(min(t.m.min(), ls_m), max(t.m.max(), ls_m), 0.12)
    b_range = nice_range(min(t.b.min(), ls_b), max(t.b.max(), ls_b), 0.12)
    contour_plot = Plot(m_range, b_range, width=5.0, height=3.0)
    contour_plot.mobject.move_to([3.55, 1.25, 0])
    contour_labels = contour_plot.label_axes(axis_label("m"), axis_label("b"))
    corner_costs = ref.cost_surface(x, y, list(m_range), list(b_range))
    contours = contour_lines(contour_plot, cost_levels(c_min, corner_costs.max(), 9))
    path_points = contour_plot.points(t.m, t.b)
    path = VMobject(stroke_color=WHITE, stroke_width=2.5)
    head = Dot(path_points[0], radius=0.06, color=WHITE)
    star = Star(n=5, outer_radius=0.13, color=WHITE, fill_opacity=1, stroke_width=0).move_to(
        contour_plot.c2p(ls_m, ls_b))
    star_label = text("least squares", font_size=TICK_FONT_SIZE + 2).next_to(star, RIGHT, buff=0.12)
    optimum = VGroup(star, star_label)

    # right bottom: C against epoch, both on log scales
    cost_plot = log_cost_plot(t.steps, min(t.cost.min(), c_min), t.cost.max(), width=5.0, height=2.2)
    cost_plot.mobject.move_to([3.45, -2.35, 0])
    cost_labels = cost_plot.label_axes(text("epoch", font_size=TICK_FONT_SIZE + 2), axis_label("C"))
    cost_points = cost_curve_points(cost_plot, t.cost)
    cost_curve = VMobject(stroke_color=COLOURS["C"], stroke_width=3)
    cost_head = Dot(cost_points[0], radius=0.05, color=COLOURS["C"])

    board = DescentBoard(
        trajectory=t, title=head_title, data_plot=data_plot, data_labels=data_labels, points=points,
        line=line, residuals=residuals, readouts=readouts, readout_labels=readout_labels,
        contour_plot=contour_plot, contour_labels=contour_labels, contours=contours, path=path,
        head=head, optimum=optimum, cost_plot=cost_plot, cost_labels=cost_labels,
        cost_curve=cost_curve, cost_head=cost_head, least_squares_line=ls_line,
        path_poly=GrowingPolyline(path_points), cost_poly=GrowingPolyline(cost_points),
    )
    board.show(0)
    return board


# --------------------------------------------------------------------------
# Scene 3: three learning rates
# --------------------------------------------------------------------------

@dataclass
class Run:
    """One learning rate's run and how it ends (computed, not asserted)."""

    lr: float
    trajectory: ref.Trajectory
    verdict: str          # "crawling", "converging" or "diverging"
    colour: str


# Run colours: not symbols of the notation table, so none of its colours.
RUN_COLOURS = ("#5CD0B3", "#FFFFFF", "#D147BD")
# A run "converges" when its final cost is within this factor of the least-squares cost.
CONVERGED_COST_FACTOR = 1.01


def learning_rates() -> tuple[float, float, float]:
    """Too small (a tenth of the lecture's), the lecture's, and the next hundredth above 2/lambda_max."""
    x, _ = ref.lecture_data()
    too_large = math.ceil(ref.max_stable_lr(x) * 100) / 100
    return ref.LR / 10, ref.LR, too_large


def verdict(trajectory: ref.Trajectory, c_min: float) -> str:
    final = trajectory.cost[-1]
    if not np.isfinite(final) or final > trajectory.cost[0]:
        return "diverging"
    if final <= c_min * CONVERGED_COST_FACTOR:
        return "converging"
    return "crawling"


def runs(steps: int = ref.LECTURE_STEPS) -> list[Run]:
    x, y = ref.lecture_data()
    c_min = least_squares_cost()
    out = []
    for lr, colour in zip(learning_rates(), RUN_COLOURS):
        t = ref.descent(x, y, ref.M_START, ref.B_START, lr=lr, epochs=steps)
        out.append(Run(lr=lr, trajectory=t, verdict=verdict(t, c_min), colour=colour))
    return out


@dataclass
class Clipped:
    """A run's polyline in scene points, frozen at the point where it leaves its chart.

    ``last`` is the last step drawn inside; vertices after it repeat the exit point.
    """

    points: np.ndarray
    last: int
    poly: GrowingPolyline


def clip_run(plot: Plot, xs: np.ndarray, ys: np.ndarray) -> Clipped:
    pts = np.stack([xs, ys], axis=1)
    drawn, last = clipped_path(pts, plot.box)
    full = np.empty_like(pts)
    full[: last + 1] = drawn[: last + 1]
    full[last + 1:] = drawn[-1]
    scene_pts = plot.points(full[:, 0], full[:, 1])
    return Clipped(scene_pts, last, GrowingPolyline(scene_pts))


@dataclass
class RateBoard:
    runs: list[Run]
    title: Tex
    contour_plot: Plot
    contour_labels: VGroup
    contours: VGroup
    optimum: VGroup
    paths: list[VMobject]
    heads: list[Dot]
    cost_plot: Plot
    cost_labels: VGroup
    curves: list[VMobject]
    legend: VGroup                 # header (eta, C), then per run: swatch, eta
    cost_readouts: list[Readout]
    clipped_marks: list[VGroup]    # ("=", ">"): ">" shows when C is off the chart
    verdicts: list[Tex]
    epoch_label: Tex
    epoch_readout: Readout
    limit_note: MathTex
    clipped_paths: list[Clipped]
    clipped_curves: list[Clipped]
    c_clip: float
    epoch: int = -1

    @property
    def steps(self) -> int:
        return self.runs[0].trajectory.steps

    def static(self) -> VGroup:
        return VGroup(self.title, self.contour_plot.mobject, self.contour_labels, self.contours, self.optimum,
                      self.cost_plot.mobject, self.cost_labels, self.legend, self.epoch_label, self.limit_note)

    def moving(self) -> VGroup:
        return VGroup(*self.paths, *self.heads, *self.curves, *self.cost_readouts,
                      *self.clipped_marks, self.epoch_readout)

    def shown_cost(self, i: int, k: int) -> tuple[float, bool]:
        """Cost readout of run i at step k, clipped to the chart's top; True when clipped."""
        c = self.runs[i].trajectory.cost[k]
        if not np.isfinite(c) or c > self.c_clip:
            return self.c_clip, True
        return float(c), False

    def show(self, k: int) -> None:
        k = int(min(max(k, 0), self.steps))
        if k == self.epoch:
            return
        self.epoch = k
        self.epoch_readout.set_value(k)
        for i in range(len(self.runs)):
            path, curve = self.clipped_paths[i], self.clipped_curves[i]
            set_polyline(self.paths[i], path.poly.prefix(min(k, path.last + 1)))
            self.heads[i].move_to(path.points[k])
            set_polyline(self.curves[i], curve.poly.prefix(min(k, curve.last + 1)))
            value, clipped = self.shown_cost(i, k)
            self.cost_readouts[i].set_value(value, decimals=0 if clipped else None)
            equals, greater = self.clipped_marks[i]
            equals.set_opacity(0.0 if clipped else 1.0)
            greater.set_opacity(1.0 if clipped else 0.0)


def rate_board(steps: int = ref.LECTURE_STEPS) -> RateBoard:
    """Scene 3's objects: contour plot with three paths, costs on a log chart, a legend."""
    rs = runs(steps)
    x, y = lecture_arrays()
    ls_m, ls_b = least_squares_point()
    c_min = least_squares_cost()

    head_title = text(r"Three learning rates $%s$ from the same start" % LATEX["lr"],
                      font_size=32).to_edge(UP, buff=0.2)

    # The chart is sized by the runs that stay bounded, with room for the divergent one to swing.
    bounded = [r.trajectory for r in rs if r.verdict != "diverging"]
    m_all = np.concatenate([t.m for t in bounded] + [[ls_m]])
    b_all = np.concatenate([t.b for t in bounded] + [[ls_b]])
    contour_plot = Plot(nice_range(m_all.min(), m_all.max(), 1.1), nice_range(b_all.min(), b_all.max(), 0.25),
                        width=6.2, height=4.9)
    contour_plot.mobject.move_to([-3.55, 0.05, 0])
    contour_labels = contour_plot.label_axes(axis_label("m"), axis_label("b"))
    corner_costs = ref.cost_surface(x, y, list(contour_plot.x_range), list(contour_plot.y_range))
    contours = contour_lines(contour_plot, cost_levels(c_min, corner_costs.max(), 10))
    star = Star(n=5, outer_radius=0.13, color=GREY, fill_opacity=1, stroke_width=0).move_to(
        contour_plot.c2p(ls_m, ls_b))
    optimum = VGroup(star, text("least squares", font_size=TICK_FONT_SIZE + 2, color=GREY).next_to(star, RIGHT, buff=0.12))

    paths, heads, clipped_paths = [], [], []
    for r in rs:
        clipped = clip_run(contour_plot, r.trajectory.m, r.trajectory.b)
        clipped_paths.append(clipped)
        paths.append(VMobject(stroke_color=r.colour, stroke_width=2.5))
        heads.append(Dot(clipped.points[0], radius=0.07, color=r.colour))

    # cost chart: log C against log epoch, clipped at the top
    c_top = rs[0].trajectory.cost[0] * 50
    cost_plot = log_cost_plot(steps, c_min, c_top, width=4.9, height=2.5)
    cost_plot.mobject.move_to([3.6, 1.45, 0])
    c_clip = 10.0 ** cost_plot.y_range[1]
    cost_labels = cost_plot.label_axes(text("epoch", font_size=TICK_FONT_SIZE + 2), axis_label("C"))
    curves, clipped_curves = [], []
    for r in rs:
        cost = r.trajectory.cost
        with np.errstate(all="ignore"):
            logc = np.log10(np.where(np.isfinite(cost), cost, np.inf))
        clipped_curves.append(clip_run(cost_plot, np.log10(1 + np.arange(len(cost))), logc))
        curves.append(VMobject(stroke_color=r.colour, stroke_width=3))

    # legend: a header, then one row per run: swatch, eta, C (with "=" or ">" when off the chart), verdict
    legend, readouts, marks, verdicts = VGroup(), [], [], []
    col = cost_plot.axes.get_left()[0] - 0.2
    top = cost_plot.mobject.get_bottom()[1] - 0.45
    x_eta, x_rel, x_word = col + 0.45, col + 1.75, col + 3.75
    header = VGroup(mtex(LATEX["lr"], font_size=SMALL_FONT_SIZE + 2).move_to([x_eta, top, 0], aligned_edge=LEFT),
                    mtex(sym("C"), font_size=SMALL_FONT_SIZE + 2).move_to([x_rel + 0.4, top, 0], aligned_edge=LEFT))
    legend.add(header)
    for i, r in enumerate(rs):
        y_pos = top - (i + 1) * 0.55
        swatch = Line(LEFT * 0.2, RIGHT * 0.2, color=r.colour, stroke_width=5).move_to([col, y_pos, 0])
        eta = mtex(f"{r.lr:g}", font_size=SMALL_FONT_SIZE + 2).move_to([x_eta, y_pos, 0], aligned_edge=LEFT)
        equals = mtex("=", font_size=SMALL_FONT_SIZE + 2).move_to([x_rel, y_pos, 0], aligned_edge=LEFT)
        mark = mtex(">", font_size=SMALL_FONT_SIZE + 2).move_to(equals)
        number = Readout(0, decimals=3, color=COLOURS["C"]).place([x_rel + 0.4, y_pos, 0])
        word = text(r.verdict, font_size=SMALL_FONT_SIZE + 2, color=r.colour).move_to([x_word, y_pos, 0], aligned_edge=LEFT)
        legend.add(VGroup(swatch, eta))
        readouts.append(number)
        marks.append(VGroup(equals, mark))
        verdicts.append(word)
    y_epoch = top - 4 * 0.55 - 0.1
    epoch_label = text("epoch", font_size=SMALL_FONT_SIZE + 2).move_to([col - 0.2, y_epoch, 0], aligned_edge=LEFT)
    epoch_readout = Readout(0, decimals=0).place([epoch_label.get_right()[0] + 0.2, y_epoch, 0])
    limit = ref.max_stable_lr(x)
    limit_note = mtex(r"\text{stable only for }", LATEX["lr"], r"< \frac{2}{\lambda_{\max}} =", fmt(limit, 4),
                      font_size=SMALL_FONT_SIZE + 2)
    limit_note.move_to([col - 0.2, y_epoch - 0.75, 0], aligned_edge=LEFT)

    board = RateBoard(
        runs=rs, title=head_title, contour_plot=contour_plot, contour_labels=contour_labels,
        contours=contours, optimum=optimum, paths=paths, heads=heads, cost_plot=cost_plot,
        cost_labels=cost_labels, curves=curves, legend=legend, cost_readouts=readouts,
        clipped_marks=marks, verdicts=verdicts, epoch_label=epoch_label, epoch_readout=epoch_readout,
        limit_note=limit_note, clipped_paths=clipped_paths, clipped_curves=clipped_curves, c_clip=c_clip,
    )
    board.show(0)
    return board


# --------------------------------------------------------------------------
# Scene 4: the steps gradient descent would take, all over the cost surface
# --------------------------------------------------------------------------

# Arrows are drawn at a common scale; the longest spans this fraction of a grid cell.
ARROW_CELL_FRACTION = 0.85


@dataclass
class FieldBoard:
    """Arrows of one descent step, -lr * grad C, from a grid of (m, b), and the lecture's run."""

    title: Tex
    plot: Plot
    labels: VGroup
    contours: VGroup
    arrows: VGroup
    tails: np.ndarray          # (k, 2) grid points (m, b)
    steps: np.ndarray          # (k, 2) the step -lr * (dC/dm, dC/db) at each tail
    scale: float               # arrows are drawn `scale` times the step
    legend: VGroup
    trajectory: ref.Trajectory
    path: VMobject
    head: Dot
    optimum: VGroup
    path_poly: GrowingPolyline
    epoch: int = -1

    def static(self) -> VGroup:
        return VGroup(self.title, self.plot.mobject, self.labels, self.contours, self.legend)

    def moving(self) -> VGroup:
        return VGroup(self.path, self.head)

    def show(self, k: int) -> None:
        k = int(min(max(k, 0), self.trajectory.steps))
        if k == self.epoch:
            return
        self.epoch = k
        set_polyline(self.path, self.path_poly.prefix(k))
        self.head.move_to(self.path_poly.points[k])


def field_board(columns: int = 9, rows: int = 7) -> FieldBoard:
    """The contour plot with a grid of step arrows at the lecture's learning rate."""
    from manim import Arrow

    t = ref.lecture_descent()
    x, y = lecture_arrays()
    xt, yt = ref.lecture_data(torch.float64)
    ls_m, ls_b = least_squares_point()
    c_min = least_squares_cost()
    head_title = text(r"Each arrow: one step $-%s \nabla C$ from its tail, $%s = %s$"
                      % (LATEX["lr"], LATEX["lr"], f"{t.lr:g}"), font_size=32).to_edge(UP, buff=0.2)
    m_range = nice_range(min(t.m.min(), ls_m), max(t.m.max(), ls_m), 0.12)
    b_range = nice_range(min(t.b.min(), ls_b), max(t.b.max(), ls_b), 0.12)
    plot = Plot(m_range, b_range, width=8.4, height=5.6)
    plot.mobject.move_to([-1.7, -0.35, 0])
    labels = plot.label_axes(axis_label("m"), axis_label("b"))
    corner_costs = ref.cost_surface(x, y, list(m_range), list(b_range))
    contours = contour_lines(plot, cost_levels(c_min, corner_costs.max(), 9))

    ms = np.linspace(*m_range, columns + 2)[1:-1]
    bs = np.linspace(*b_range, rows + 2)[1:-1]
    tails = np.array([(m, b) for b in bs for m in ms])
    steps = np.array([(-t.lr * float(ref.dC_dm(xt, yt, m, b)), -t.lr * float(ref.dC_db(xt, yt, m, b)))
                      for m, b in tails])
    starts = plot.points(tails[:, 0], tails[:, 1])
    ends = plot.points(tails[:, 0] + steps[:, 0], tails[:, 1] + steps[:, 1])
    screen = np.linalg.norm(ends - starts, axis=1)
    cell = min(np.linalg.norm(plot.c2p(ms[1], bs[0]) - plot.c2p(ms[0], bs[0])),
               np.linalg.norm(plot.c2p(ms[0], bs[1]) - plot.c2p(ms[0], bs[0])))
    scale = ARROW_CELL_FRACTION * cell / screen.max()
    arrows = VGroup(*(Arrow(a, a + scale * (e - a), buff=0, stroke_width=3, color=GREY,
                            max_tip_length_to_length_ratio=0.3, max_stroke_width_to_length_ratio=8)
                      for a, e in zip(starts, ends)))

    path_points = plot.points(t.m, t.b)
    path = VMobject(stroke_color=WHITE, stroke_width=3.5)
    head = Dot(path_points[0], radius=0.07, color=WHITE)
    star = Star(n=5, outer_radius=0.14, color=WHITE, fill_opacity=1, stroke_width=0).move_to(plot.c2p(ls_m, ls_b))
    optimum = VGroup(star, text("least squares", font_size=TICK_FONT_SIZE + 2).next_to(star, RIGHT, buff=0.12))

    legend = VGroup(
        text(r"arrows drawn $\times %s$" % fmt(scale, 1), font_size=SMALL_FONT_SIZE),
        text(r"long across the valley,", font_size=SMALL_FONT_SIZE),
        text(r"short along it", font_size=SMALL_FONT_SIZE),
        VGroup(Line(LEFT * 0.2, RIGHT * 0.2, color=WHITE, stroke_width=4),
               text("the lecture's run", font_size=SMALL_FONT_SIZE)).arrange(RIGHT, buff=0.15),
    ).arrange(DOWN, aligned_edge=LEFT, buff=0.22)
    legend.next_to(plot.mobject, RIGHT, buff=0.6).align_to(plot.axes, UP)

    board = FieldBoard(title=head_title, plot=plot, labels=labels, contours=contours, arrows=arrows,
                       tails=tails, steps=steps, scale=scale, legend=legend, trajectory=t, path=path,
                       head=head, optimum=optimum, path_poly=GrowingPolyline(path_points))
    board.show(0)
    return board


def in_frame(mob, margin: float = 0.0) -> bool:
    """True when ``mob``'s bounding box lies inside the camera frame (less ``margin``)."""
    half_w, half_h = config.frame_width / 2 - margin, config.frame_height / 2 - margin
    if len(mob.get_all_points()) == 0:
        return True
    left, right = mob.get_left()[0], mob.get_right()[0]
    bottom, top = mob.get_bottom()[1], mob.get_top()[1]
    return left >= -half_w and right <= half_w and bottom >= -half_h and top <= half_h


def boxes_overlap(a, b, gap: float = 0.0) -> bool:
    """True when the bounding boxes of ``a`` and ``b`` come closer than ``gap`` (empty ones never do)."""
    if len(a.get_all_points()) == 0 or len(b.get_all_points()) == 0:
        return False
    return not (a.get_right()[0] + gap <= b.get_left()[0] or b.get_right()[0] + gap <= a.get_left()[0]
                or a.get_top()[1] + gap <= b.get_bottom()[1] or b.get_top()[1] + gap <= a.get_bottom()[1])


# --------------------------------------------------------------------------
# Scene 5: the weight vector's descent, full batch and mini-batches (assignment 2)
# --------------------------------------------------------------------------

# Two of the diabetes features: body mass index raises the disease measure, s3 (HDL
# cholesterol) lowers it, and the two are correlated, so the contours are tilted ellipses.
MINIBATCH_FEATURES = ("bmi", "s3")
MINIBATCH_LR = 0.1
MINIBATCH_SIZE = 32
MINIBATCH_EPOCHS = 3
MINIBATCH_SEEDS = (0, 1)
# Every run starts at w = 0 and at the least-squares intercept b*.
MINIBATCH_W_START = (0.0, 0.0)
# The full batch's b stays at b* up to float64 rounding (its gradient in b is zero when the features
# have mean 0); the note on screen says so only when it holds within this.
B_ROUNDING = 1e-9


@dataclass
class WeightRun:
    """One run on the two-feature problem: its reference path and its cost on all the data at each step."""

    name: str                       # as the legend shows it (LaTeX-free text)
    batch_size: int
    seed: int | None                # None for the full batch
    path: "vref.MinibatchPath"
    cost: np.ndarray                # C on all n instances after each step, shape (steps + 1,)
    colour: str

    @property
    def w(self) -> np.ndarray:
        """(steps + 1, 2): w after each step."""
        return np.asarray(self.path.w)


@dataclass
class TwoFeatureProblem:
    X: np.ndarray                   # (n, 2), standardised features
    y: np.ndarray                   # (n,)
    features: tuple[str, str]
    w_best: np.ndarray              # least squares (2,)
    b_best: float
    c_best: float
    lr: float
    steps: int
    runs: list[WeightRun]


def two_feature_problem() -> TwoFeatureProblem:
    """The scene's problem and its three runs, all from assignment 2's reference (float64)."""
    from autograder.assignments.mse_gradient_vector import data as vdata
    from autograder.assignments.mse_gradient_vector import reference as vref

    X_all, y = vref.diabetes(torch.float64)
    columns = [vdata.DIABETES_FEATURES.index(name) for name in MINIBATCH_FEATURES]
    X, y = X_all.numpy()[:, columns], y.numpy()
    n = X.shape[0]
    w_best, b_best = vref.least_squares(X, y)
    c_best = float(vref.cost(torch.as_tensor(X), torch.as_tensor(y), w_best, b_best))
    steps = MINIBATCH_EPOCHS * vref.steps_per_epoch(n, MINIBATCH_SIZE)
    full = vref.gradient_descent(X, y, MINIBATCH_W_START, b_best, MINIBATCH_LR, epochs=steps)
    runs = [WeightRun(f"full batch, B = {n}", n, None, full, vref.path_costs(X, y, full), RUN_COLOURS[1])]
    for seed, colour in zip(MINIBATCH_SEEDS, (RUN_COLOURS[0], RUN_COLOURS[2])):
        path = vref.minibatch_sgd(X, y, MINIBATCH_W_START, b_best, MINIBATCH_LR, MINIBATCH_EPOCHS,
                                  MINIBATCH_SIZE, seed)
        runs.append(WeightRun(f"B = {MINIBATCH_SIZE}, seed {seed}", MINIBATCH_SIZE, seed, path,
                              vref.path_costs(X, y, path), colour))
    return TwoFeatureProblem(X, y, MINIBATCH_FEATURES, np.asarray(w_best), float(b_best), c_best,
                             MINIBATCH_LR, steps, runs)


# The scene's text is built once and never looked up again: skipping Manim's SVG cache saves
# a deep copy of every glyph's parsed outline (about a second of the render here).
ONCE = {"use_svg_cache": False}


def weight_label(j: int, feature: str) -> MathTex:
    return mtex(r"{\color[HTML]{%s} w_%d}" % (COLOURS["m"].lstrip("#").upper(), j),
                r"\ (\text{%s})" % feature, font_size=SMALL_FONT_SIZE, **ONCE)


def equal_scale_box(x_range, y_range, max_width: float, max_height: float) -> tuple[float, float]:
    """Width and height (scene units) that fit the box and give both axes the same scale."""
    span_x, span_y = x_range[1] - x_range[0], y_range[1] - y_range[0]
    scale = min(max_width / span_x, max_height / span_y)
    return span_x * scale, span_y * scale


@dataclass
class MinibatchBoard:
    """Scene 5's objects; ``show(t)`` puts every run after t steps (t may be fractional: the
    heads then sit part way along their next step)."""

    problem: TwoFeatureProblem
    title: Tex
    plot: Plot
    labels: VGroup
    contours: VGroup
    start: VGroup
    optimum: VGroup                 # the star on the plot and its legend row
    paths: list[VMobject]
    heads: list[Dot]
    legend: VGroup                  # header, then per run: swatch and name
    cost_readouts: list[Readout]
    counter_labels: VGroup          # "step", "epoch" and what an epoch is
    step_readout: Readout
    epoch_readout: Readout
    notes: VGroup
    scene_paths: list[np.ndarray] = field(default_factory=list)   # (steps + 1, 3) per run
    shown: float = -1.0

    @property
    def steps(self) -> int:
        return self.problem.steps

    def static(self) -> VGroup:
        return VGroup(self.title, self.plot.mobject, self.labels, self.contours, self.start,
                      self.legend, self.counter_labels, self.notes)

    def moving(self) -> VGroup:
        return VGroup(*self.paths, *self.heads, *self.cost_readouts, self.step_readout, self.epoch_readout)

    def show(self, t: float) -> None:
        t = float(min(max(t, 0.0), self.steps))
        if t == self.shown:
            return
        self.shown = t
        k = int(math.floor(t + 1e-9))
        part = t - k
        for run, points, path, head, readout in zip(self.problem.runs, self.scene_paths, self.paths,
                                                    self.heads, self.cost_readouts):
            drawn = points[: k + 1]
            if part > 0 and k < self.steps:
                drawn = np.vstack([drawn, points[k] + part * (points[k + 1] - points[k])])
            if len(drawn) == 1:
                drawn = np.vstack([drawn, drawn])
            set_polyline(path, drawn)
            head.move_to(drawn[-1])
            readout.set_value(run.cost[k])
        self.step_readout.set_value(k)
        self.epoch_readout.set_value(k / (self.steps / MINIBATCH_EPOCHS))


def minibatch_board() -> MinibatchBoard:
    """The contours of C over (w1, w2) at b = b*, with the full-batch path and two mini-batch paths."""
    from autograder.assignments.mse_gradient_vector import reference as vref

    p = two_feature_problem()
    n = p.X.shape[0]
    per_epoch = p.steps // MINIBATCH_EPOCHS
    small = TICK_FONT_SIZE + 2

    head_title = text(r"Full batch and mini-batches on two diabetes features, $%s = %s$"
                      % (LATEX["lr"], f"{p.lr:g}"), font_size=32, **ONCE).to_edge(UP, buff=0.2)

    every = np.vstack([run.w for run in p.runs] + [p.w_best[None, :]])
    x_range = nice_range(every[:, 0].min(), every[:, 0].max(), 0.06)
    y_range = nice_range(every[:, 1].min(), every[:, 1].max(), 0.12)
    width, height = equal_scale_box(x_range, y_range, 8.2, 4.3)
    plot = Plot(x_range, y_range, width=width, height=height)
    plot.mobject.move_to([-2.45, 0.55, 0])
    labels = plot.label_axes(weight_label(1, p.features[0]), weight_label(2, p.features[1]))

    resolution = 160
    w1 = np.linspace(*x_range, resolution)
    w2 = np.linspace(*y_range, resolution)
    surface = vref.cost_surface(p.X, p.y, w1, w2, p.b_best)
    corners = vref.cost_surface(p.X, p.y, list(x_range), list(y_range), p.b_best)
    levels = p.c_best + np.geomspace((corners.max() - p.c_best) * 4e-3, (corners.max() - p.c_best) * 0.9, 10)
    generator = contour_generator(x=w1, y=w2, z=surface)
    contours = VGroup()
    for i, level in enumerate(levels):
        opacity = 0.85 - 0.55 * i / max(1, len(levels) - 1)
        for vertices in generator.lines(level):
            if len(vertices) >= 2:
                curve = VMobject(stroke_color=COLOURS["C"], stroke_width=1.5, stroke_opacity=opacity)
                curve.set_points_as_corners(plot.points(vertices[:, 0], vertices[:, 1]))
                contours.add(curve)

    start_dot = Dot(plot.c2p(*MINIBATCH_W_START), radius=0.06, color=GREY)
    start = VGroup(start_dot, text("start", font_size=small, color=GREY, **ONCE)
                   .next_to(start_dot, UP + RIGHT, buff=0.08))

    scene_paths, paths, heads = [], [], []
    for run in p.runs:
        points = plot.points(run.w[:, 0], run.w[:, 1])
        scene_paths.append(points)
        full = run.seed is None
        paths.append(VMobject(stroke_color=run.colour, stroke_width=3.5 if full else 2.5))
        heads.append(Dot(points[0], radius=0.075 if full else 0.06, color=run.colour))

    # right: one row per run with its cost on all the data, the least-squares cost, the counters
    col = labels[0].get_right()[0] + 0.35
    top = plot.axes.get_top()[1] + 0.1
    row = 0.9
    header = text(r"$%s$ on all %d patients" % (sym("C"), n), font_size=SMALL_FONT_SIZE, **ONCE)
    header.move_to([col, top, 0], aligned_edge=LEFT)
    legend, readouts = VGroup(header), []
    for i, run in enumerate(p.runs):
        y_name = top - 0.6 - i * row
        swatch = Line(LEFT * 0.2, RIGHT * 0.2, color=run.colour, stroke_width=5).move_to([col + 0.2, y_name, 0])
        name = text(run.name, font_size=SMALL_FONT_SIZE, **ONCE).next_to(swatch, RIGHT, buff=0.15)
        legend.add(VGroup(swatch, name))
        readouts.append(Readout(run.cost[0], decimals=2, color=COLOURS["C"]).place([col + 0.55, y_name - 0.4, 0]))
    y_best = top - 0.6 - len(p.runs) * row
    star = Star(n=5, outer_radius=0.15, color=WHITE, fill_opacity=1, stroke_width=0).move_to(plot.c2p(*p.w_best))
    legend_star = Star(n=5, outer_radius=0.13, color=WHITE, fill_opacity=1, stroke_width=0).move_to([col + 0.2, y_best, 0])
    best_name = text("least squares", font_size=SMALL_FONT_SIZE, **ONCE).next_to(legend_star, RIGHT, buff=0.2)
    best_cost = mtex(fmt(p.c_best, 2), font_size=SMALL_FONT_SIZE + 2, color=COLOURS["C"], **ONCE)
    best_cost.move_to([col + 0.55, y_best - 0.4, 0], aligned_edge=LEFT)
    optimum = VGroup(star, legend_star, best_name, best_cost)

    y_step = y_best - row - 0.05
    step_label = text("step", font_size=SMALL_FONT_SIZE + 2, **ONCE).move_to([col, y_step, 0], aligned_edge=LEFT)
    epoch_label = text("epoch", font_size=SMALL_FONT_SIZE + 2, **ONCE).move_to([col, y_step - 0.5, 0], aligned_edge=LEFT)
    number_x = epoch_label.get_right()[0] + 0.25
    per_epoch_note = text(r"(%d steps of $B = %d$)" % (per_epoch, MINIBATCH_SIZE), font_size=small, color=GREY, **ONCE)
    per_epoch_note.move_to([col, y_step - 0.95, 0], aligned_edge=LEFT)
    step_readout = Readout(0, decimals=0).place([number_x, y_step, 0])
    epoch_readout = Readout(0, decimals=2).place([number_x, y_step - 0.5, 0])
    counter_labels = VGroup(step_label, epoch_label, per_epoch_note)

    # below: what the picture is, in numbers
    b_moves = max(float(np.max(np.abs(np.asarray(run.path.b) - p.b_best))) for run in p.runs if run.seed is not None)
    b_full = float(np.max(np.abs(np.asarray(p.runs[0].path.b) - p.b_best)))
    b = "$" + sym("b") + "$"
    full_b = (r"with features of mean 0 the full batch keeps %s at $b^*$," % b if b_full < B_ROUNDING
              else r"the full batch moves %s by up to %s," % (b, fmt(b_full, 1)))
    lines = [
        r"Contours: $%s$ over $(w_1, w_2)$ with %s fixed at $b^* = %s$, the least-squares intercept."
        % (sym("C"), b, fmt(p.b_best, 2)),
        r"All runs start at $w = 0$, %s $= b^*$; %s" % (b, full_b),
        r"the mini-batches move it by up to %s. Each step reads all %d patients, or a batch of %d."
        % (fmt(b_moves, 1), n, MINIBATCH_SIZE),
    ]
    # \mbox: one line each (Tex's centred paragraph would wrap them)
    notes = VGroup(*(text(r"\mbox{%s}" % line, font_size=small, **ONCE) for line in lines))
    notes.arrange(DOWN, aligned_edge=LEFT, buff=0.14)
    notes.to_edge(DOWN, buff=0.22).to_edge(LEFT, buff=0.45)

    board = MinibatchBoard(
        problem=p, title=head_title, plot=plot, labels=labels, contours=contours, start=start,
        optimum=optimum, paths=paths, heads=heads, legend=legend, cost_readouts=readouts,
        counter_labels=counter_labels, step_readout=step_readout, epoch_readout=epoch_readout,
        notes=notes, scene_paths=scene_paths,
    )
    board.show(0)
    return board
