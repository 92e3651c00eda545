"""Plots for the lessons, in the course's colours (autograder.notation.COLOURS).

The colours were chosen for the videos' dark background, so the plots use a
dark background too. The math comes from autograder.reference; these helpers
only draw numbers they are given or that the reference computes.
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np

from autograder import reference as ref
from autograder.notation import COLOURS, LATEX

BACKGROUND = "#1C1C1C"
FOREGROUND = "#DDDDDD"
GRID = "#3A3A3A"


def use_course_style() -> None:
    """Dark figures with light text, so that COLOURS (light hues, white gradient) stay readable."""
    plt.rcParams.update({
        "figure.facecolor": BACKGROUND,
        "axes.facecolor": BACKGROUND,
        "savefig.facecolor": BACKGROUND,
        "axes.edgecolor": FOREGROUND,
        "axes.labelcolor": FOREGROUND,
        "text.color": FOREGROUND,
        "xtick.color": FOREGROUND,
        "ytick.color": FOREGROUND,
        "axes.grid": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "legend.facecolor": BACKGROUND,
        "legend.edgecolor": GRID,
        "font.size": 11,
        "axes.titlesize": 12,
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (7.0, 4.5),
    })


def _numbers(values) -> np.ndarray:
    """A float numpy array from a tensor (detached) or array-like."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float).reshape(-1)


def _tex(symbol: str) -> str:
    """The notation's symbol for a plot label; fractions written inline (dC/dm), which
    stay legible at label size where mathtext's stacked fractions do not."""
    inline = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", LATEX[symbol])
    return f"${inline}$"


def regression_plot(ax, x, y, m, b, *, cost=None, grad_m=None, grad_b=None,
                    title: str | None = None, digits: int = 4, compact: bool = False):
    """The lecture's labelled regression plot on ``ax``.

    Points (x_i, y_i), the line y_hat = m x + b, the residuals u_i as segments;
    the cost in the title; m, b and, when given, their gradients on the axis labels.
    m, b, cost and the gradients may be floats or one-element tensors.
    """
    x, y = _numbers(x), _numbers(y)
    m, b = ref.as_scalar(m), ref.as_scalar(b)
    size = 10 if compact else 11
    pad = 0.5
    ends = np.array([x.min() - pad, x.max() + pad])
    y_hat = m * x + b
    ax.vlines(x, y, y_hat, color=COLOURS["u"], linewidth=1.2 if compact else 1.6, alpha=0.9,
              label=f"residual {_tex('u')}", zorder=2)
    ax.plot(ends, m * ends + b, color=COLOURS["y_hat"], linewidth=1.6 if compact else 2.2,
            label=f"line {_tex('y_hat')}", zorder=3)
    ax.scatter(x, y, color=COLOURS["y"], s=14 if compact else 36, label=f"data {_tex('y')}", zorder=4)
    ax.set_xlim(*ends)

    heading = [] if title is None else [title]
    if cost is not None:
        heading.append(f"$C$ = {ref.as_scalar(cost):.{digits}f}")
    if heading:
        ax.set_title(": ".join(heading), color=COLOURS["C"], fontsize=size + 1)
    m_label = f"$m$ = {m:.{digits}f}"
    if grad_m is not None:
        m_label += f",  {_tex('dC_dm')} = {ref.as_scalar(grad_m):.{digits}f}"
    b_label = f"$b$ = {b:.{digits}f}"
    if grad_b is not None:
        b_label += f",  {_tex('dC_db')} = {ref.as_scalar(grad_b):.{digits}f}"
    # Small plots drop the axis names: the labels are for m, b and their gradients.
    ax.set_xlabel(m_label if compact else f"$x$    {m_label}", color=COLOURS["m"], fontsize=size)
    ax.set_ylabel(b_label if compact else f"$y$    {b_label}", color=COLOURS["b"], fontsize=size)
    ax.tick_params(labelsize=size - 2)
    if not compact:
        ax.legend(loc="best", fontsize=size - 1)
    return ax


def cost_history(ax, costs, label: str | None = None, colour: str | None = None):
    """C against the step number (index 0 is the start) on a log scale."""
    costs = _numbers(costs)
    ax.semilogy(np.arange(len(costs)), costs, color=colour or COLOURS["C"], label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("$C$ (log scale)")
    return ax


def cost_contours(ax, x, y, m_range=(-1.5, 1.5), b_range=(-1.0, 3.0), levels: int = 14):
    """Contours of C over (m, b) (log-spaced levels) and the least-squares optimum as a star."""
    m_values = np.linspace(*m_range, 241)
    b_values = np.linspace(*b_range, 241)
    surface = ref.cost_surface(x, y, m_values, b_values)
    m_best, b_best = ref.least_squares(x, y)
    c_best = float(ref.cost_surface(x, y, [m_best], [b_best])[0, 0])
    lowest = max(surface.min(), c_best, 1e-3)
    contour_levels = np.geomspace(lowest * 1.5, surface.max(), levels)
    ax.contour(m_values, b_values, surface, levels=contour_levels, colors=COLOURS["reference"],
               linewidths=0.8, alpha=0.8)
    ax.plot(m_best, b_best, marker="*", markersize=15, color=FOREGROUND,
            markeredgecolor=BACKGROUND, linestyle="none", label="least squares", zorder=5)
    ax.set_xlim(*m_range)
    ax.set_ylim(*b_range)
    ax.set_xlabel("$m$", color=COLOURS["m"])
    ax.set_ylabel("$b$", color=COLOURS["b"])
    ax.set_title("contours of $C$ over $(m, b)$", color=COLOURS["C"])
    return ax


def path(ax, m_values, b_values, label: str | None = None, colour: str | None = None):
    """A descent run's (m, b) points, joined in order, on a contour plot."""
    ax.plot(_numbers(m_values), _numbers(b_values), color=colour or COLOURS["y_hat"],
            marker="o", markersize=3, linewidth=1.2, label=label, zorder=4)
    return ax
