"""Write the lesson notebooks course/NN_*.ipynb from the cells below.

    python -m course.build            # rewrite the notebooks
    python -m course.build --check    # exit 1 if a notebook differs from this file

The notebooks are generated so that their LaTeX is the notation table's, word
for word: in Markdown cells ``{{eq:NAME}}`` becomes the display equation
``EQUATIONS[NAME]``, ``{{sym:NAME}}`` the inline symbol ``$LATEX[NAME]$`` and
``{{tex:NAME}}`` the bare ``LATEX[NAME]`` (to build larger formulas).
Markdown cells hold no numbers: code cells compute and display them.
The notebooks are written without outputs (house style #9).
"""
from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

import nbformat

from autograder.notation import EQUATIONS, LATEX

COURSE = Path(__file__).resolve().parent

SETUP = r'''
import sys
from pathlib import Path

# The lessons run from course/ or from the repository root: put the root on sys.path for `course`.
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "course" / "plots.py").is_file())
sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from autograder import reference as ref
from autograder.notation import COLOURS, LATEX
from course import plots, show

plots.use_course_style()
'''

TITLE = "# The gradient of mean squared error\n"


def md(text: str) -> tuple[str, str]:
    return ("markdown", text)


def code(text: str) -> tuple[str, str]:
    return ("code", text)


LESSONS: dict[str, list[tuple[str, str]]] = {}

LESSONS["01_cost_and_autodiff"] = [
    md(TITLE + r'''
## 1. Cost and autodiff

From the *ML Foundations* lecture *The Gradient of Mean Squared Error*. We draw a line
through a few points, measure how wrong it is with mean squared error (MSE), and ask
torch how that error changes when the line's slope and intercept move.
Notebook 2 derives the same numbers by hand, notebook 3 uses them to fit the line,
notebook 4 is about the size of the steps.

Every number in the text is computed by the code next to it, from `autograder.reference`,
where the course keeps its math.
'''),
    code(SETUP),
    md(r'''
## The data

Inputs {{sym:x}} and targets {{sym:y}}, one pair per instance $i = 1, \dots, n$:
'''),
    code(r'''
x, y = ref.lecture_data()
n = len(x)
show.md(f"$n$ = {n} instances")
x, y
'''),
    md(r'''
## The line

The model predicts {{sym:y_hat}} from {{sym:x}} with a slope $m$ and an intercept $b$:

{{eq:model}}

Like the lecture, we start from a poor guess, stored as one-element tensors.
`requires_grad_()` asks torch to record every operation done with them, so that it can
differentiate afterwards.
'''),
    code(r'''
m = torch.tensor([ref.M_START]).requires_grad_()
b = torch.tensor([ref.B_START]).requires_grad_()
m, b
'''),
    md(r'''
## Forward pass

Apply the line to every {{sym:x}} at once:
'''),
    code(r'''
y_hat = ref.predict(x, m, b)
y_hat
'''),
    code(r'''
fig, ax = plt.subplots()
plots.regression_plot(ax, x, y, m, b, title="the starting line")
plt.show()
'''),
    md(r'''
The red segments are the residuals {{eq:u}}
how far each prediction misses its target.

## Mean squared error

The quadratic cost of one instance is its squared residual, $(\hat{y}_i - y_i)^2$.
MSE is the average of that cost over all $n$ instances:

{{eq:cost}}

Squaring makes every miss count as positive, and a miss twice as large costs four times as much.
'''),
    code(r'''
squared = (y_hat - y) ** 2
display(show.table({LATEX["x"]: x, LATEX["y"]: y, LATEX["y_hat"]: y_hat,
                    r"(\hat{y}_i - y_i)^2": squared}))
C = ref.mse(y_hat, y)
show.md(f"$C$ = {squared.sum().item():.4f} / {n} = **{C.item():.4f}**")
'''),
    md(r'''
## Autodiff first

Before deriving anything, ask torch. `C.backward()` walks the recorded operations back
from $C$ to the parameters and stores {{sym:dC_dm}} in `m.grad` and {{sym:dC_db}} in `b.grad`.
'''),
    code(r'''
C.backward()
m.grad, b.grad
'''),
    code(r'''
dC_dm, dC_db = m.grad.item(), b.grad.item()
show.md(f"${LATEX['dC_dm']}$ = **{dC_dm:.3f}** and ${LATEX['dC_db']}$ = **{dC_db:.3f}**")
'''),
    md(r'''
### What do these numbers mean?

A partial derivative is a slope: how fast $C$ changes when one parameter moves a little
and the other stays where it is. Check it: nudge each parameter by a small $\delta$ and
recompute the cost (in float64, so rounding does not blur the difference).
'''),
    code(r'''
delta = 1e-3
x64, y64 = ref.lecture_data(torch.float64)
C0 = ref.cost(x64, y64, ref.M_START, ref.B_START).item()
rise_m = ref.cost(x64, y64, ref.M_START + delta, ref.B_START).item() - C0
rise_b = ref.cost(x64, y64, ref.M_START, ref.B_START + delta).item() - C0
show.md(
    f"- $m$ + {delta:g}: $C$ rises by {rise_m:.6f}, close to "
    f"{delta:g} × ${LATEX['dC_dm']}$ = {delta * dC_dm:.6f}\n"
    f"- $b$ + {delta:g}: $C$ rises by {rise_b:.6f}, close to "
    f"{delta:g} × ${LATEX['dC_db']}$ = {delta * dC_db:.6f}")
'''),
    code(r'''
def effect(slope):
    """What raising a parameter does to the cost, from the sign of its partial derivative."""
    return "raise" if slope > 0 else "lower"

show.md(
    f"- Both signs matter: raising $m$ would **{effect(dC_dm)}** the cost, raising $b$ would "
    f"**{effect(dC_db)}** it. To reduce $C$, move each parameter against the sign of its derivative.\n"
    f"- The sizes matter too: ${LATEX['dC_dm']}$ is {dC_dm / dC_db:.1f} times ${LATEX['dC_db']}$, "
    f"so here the cost is far more sensitive to the slope than to the intercept.")
'''),
    md(r'''
Why the slope matters more: raising $m$ moves each prediction {{sym:y_hat}} by {{sym:x}}
(a lot for the instances on the right), raising $b$ moves every prediction by the same
small amount. Notebook 2 makes this exact with the chain rule.

Next: [2. The gradient by hand](02_gradient_by_hand.ipynb)
'''),
]

LESSONS["02_gradient_by_hand"] = [
    md(TITLE + r'''
## 2. The gradient by hand

We derive {{sym:dC_dm}} and {{sym:dC_db}} with the chain rule, one link at a time,
evaluate each formula in code and check it against autograd.
Keep the index $i$ in view: $C$ is one number, but it depends on $n$ predictions
{{sym:y_hat}}, one per instance.
'''),
    code(SETUP),
    code(r'''
x, y = ref.lecture_data()
n = len(x)
m = torch.tensor([ref.M_START]).requires_grad_()
b = torch.tensor([ref.B_START]).requires_grad_()
y_hat = ref.predict(x, m, b)
y_hat.retain_grad()  # keep dC/dy_hat_i as well, to check the first links
C = ref.mse(y_hat, y)
C.backward()
show.md(f"The start of notebook 1: $m$ = {m.item():.1f}, $b$ = {b.item():.1f}, $C$ = {C.item():.4f}; "
        f"autograd gives ${LATEX['dC_dm']}$ = {m.grad.item():.3f} and ${LATEX['dC_db']}$ = {b.grad.item():.3f}.")
'''),
    md(r'''
## Link 1: from $C$ to the residuals

Name the residual of instance $i$

{{eq:u}}

so that the cost is an average of squares:

{{eq:cost_u}}

Only the $i$-th term of the sum contains {{sym:u}}, so the power rule gives

{{eq:dC_du}}

## Link 2: from the residuals to the predictions

{{sym:y}} is data, it does not change with {{sym:y_hat}}, so

{{eq:du_dyhat}}

Chaining the two links:

$$ {{tex:dC_dyhat}} = {{tex:dC_du}} \, {{tex:du_dyhat}} = \frac{2 u_i}{n} \cdot 1 $$

{{eq:dC_dyhat}}

That is one number per instance, $n$ in all. Autograd keeps the same numbers in `y_hat.grad`.
'''),
    code(r'''
u = y_hat - y
dC_du = 2 * u / n                 # link 1
by_hand = dC_du * 1               # link 2: du_i/dy_hat_i = 1
display(show.table({LATEX["x"]: x, LATEX["y"]: y, LATEX["y_hat"]: y_hat, LATEX["u"]: u,
                    LATEX["dC_du"]: dC_du,
                    LATEX["dC_dyhat"] + r"\ \text{by hand}": by_hand,
                    "`reference.dC_dyhat`": ref.dC_dyhat(y_hat, y),
                    LATEX["dC_dyhat"] + r"\ \text{autograd}": y_hat.grad}))
show.md(f"Largest relative difference between the last three columns: "
        f"{max(ref.relative_error(by_hand.detach(), y_hat.grad), ref.relative_error(ref.dC_dyhat(y_hat, y).detach(), y_hat.grad)):.1e}")
'''),
    md(r'''
## Link 3: from the predictions to $m$ and $b$

The model {{eq:model}} gives

{{eq:dyhat_dm}}

{{eq:dyhat_db}}

$m$ reaches $C$ through every prediction, so the chain rule adds up $n$ paths,
one per instance, and the same for $b$:

$$ {{tex:dC_dm}} = \sum_{i=1}^{n} {{tex:dC_dyhat}} \, {{tex:dyhat_dm}} \qquad {{tex:dC_db}} = \sum_{i=1}^{n} {{tex:dC_dyhat}} \, {{tex:dyhat_db}} $$

Substituting the links:

{{eq:dC_dm}}

{{eq:dC_db}}
'''),
    code(r'''
share_m = by_hand * x  # instance i's term in dC/dm: dC/dy_hat_i * x_i
share_b = by_hand * 1  # instance i's term in dC/db: dC/dy_hat_i * 1
display(show.table({LATEX["x"]: x, LATEX["dC_dyhat"]: by_hand,
                    LATEX["dC_dyhat"] + r"\, " + LATEX["x"]: share_m,
                    LATEX["dC_dyhat"] + r"\cdot 1": share_b}))
'''),
    code(r'''
dC_dm, dC_db = share_m.sum(), share_b.sum()
rows = [(LATEX["dC_dm"], dC_dm, ref.dC_dm(x, y, m, b), m.grad),
        (LATEX["dC_db"], dC_db, ref.dC_db(x, y, m, b), b.grad)]
display(show.Table(["", "sum of the column", "`reference`", "autograd", "relative error"],
                   [[f"${name}$", f"{hand.item():.4f}", f"{function.item():.4f}", f"{auto.item():.4f}",
                     f"{ref.relative_error(hand.detach(), auto):.1e}"]
                    for name, hand, function, auto in rows]))
'''),
    code(r'''
top = int(share_m.abs().argmax())
show.md(f"The largest term of ${LATEX['dC_dm']}$ comes from instance {top + 1}: "
        f"$x$ = {x[top].item():g}, residual {u[top].item():.2f}, term {share_m[top].item():.3f} "
        f"of {dC_dm.item():.3f}. Multiplying by ${LATEX['x']}$ gives the instances on the right the "
        f"biggest say over the slope; ${LATEX['dC_db']}$ weighs every residual the same.")
'''),
    md(r'''
## The derivation, animated
'''),
    code(r'''
show.video("ChainRuleDerivation")
'''),
    md(r'''
## The gradient {{sym:grad}}

Stack the partial derivatives into one vector, the gradient:

$$ {{tex:grad}} = \begin{bmatrix} {{tex:dC_dm}} \\[4pt] {{tex:dC_db}} \end{bmatrix} $$

It lives in the $(m, b)$ plane. Its **direction** is the way to move $(m, b)$ for the
fastest rise in $C$, at right angles to the contour lines of $C$; its **size** is how
fast $C$ rises per unit of distance moved that way. Gradient descent steps along
$-{{tex:grad}}$, the steepest way down.
'''),
    code(r'''
grad = torch.stack([dC_dm, dC_db]).detach().reshape(-1)
size = grad.norm().item()
angle = torch.rad2deg(torch.atan2(grad[1], grad[0])).item()
mostly = "m" if abs(grad[0]) > abs(grad[1]) else "b"
show.md(f"${LATEX['grad']}$ = ({grad[0].item():.3f}, {grad[1].item():.3f}) has size "
        f"$\\lVert {LATEX['grad']} \\rVert$ = {size:.3f} and points {angle:.1f}° away from the $m$ axis: "
        f"the steepest way down, $-{LATEX['grad']}$, mostly lowers ${mostly}$.")
'''),
    code(r'''
x64, y64 = ref.lecture_data(torch.float64)
m_best, b_best = ref.least_squares(x64, y64)
at_best = ref.dC_dm(x64, y64, m_best, b_best).item(), ref.dC_db(x64, y64, m_best, b_best).item()
show.md(f"At the least-squares line, $m$ = {m_best:.4f} and $b$ = {b_best:.4f}, the gradient is "
        f"({at_best[0]:.1e}, {at_best[1]:.1e}): zero up to rounding. No direction leads down; "
        f"that is how the minimum shows itself.")

fig, ax = plt.subplots(figsize=(6.5, 6))
plots.cost_contours(ax, x, y)
ax.plot(m.item(), b.item(), "o", color=COLOURS["y_hat"], markersize=8, label="start $(m, b)$", zorder=5)
unit = -grad.numpy() / size  # the direction of -grad C, drawn half a unit long
ax.annotate("", xy=(m.item() + 0.5 * unit[0], b.item() + 0.5 * unit[1]), xytext=(m.item(), b.item()),
            arrowprops=dict(arrowstyle="-|>", color=COLOURS["grad"], linewidth=2), zorder=6)
ax.plot([], [], color=COLOURS["grad"], label=f"direction of $-{LATEX['grad']}$")
ax.set_aspect("equal")
ax.legend(loc="upper right")
plt.show()
'''),
    md(r'''
The contours are long, narrow ellipses: $C$ is steep across the valley and almost flat
along it. Notebook 3 walks down this valley; notebook 4 shows why its shape limits the step size.

Next: [3. Gradient descent](03_gradient_descent.ipynb)
'''),
]

LESSONS["03_gradient_descent"] = [
    md(TITLE + r'''
## 3. Gradient descent

The gradient points uphill. Gradient descent repeatedly steps the other way, by a
fraction {{sym:lr}} of the gradient, the learning rate:

{{eq:update}}

Both parameters move at once, with gradients taken at the same point.
'''),
    code(SETUP),
    code(r'''
x, y = ref.lecture_data()
m = torch.tensor([ref.M_START]).requires_grad_()
b = torch.tensor([ref.B_START]).requires_grad_()
C = ref.cost(x, y, m, b)
C.backward()
start = {"m": m.item(), "b": b.item(), "C": C.item(), "dC_dm": m.grad.item(), "dC_db": b.grad.item()}
show.md(f"Start: $m$ = {start['m']:.1f}, $b$ = {start['b']:.1f}, $C$ = {start['C']:.4f}, "
        f"${LATEX['dC_dm']}$ = {start['dC_dm']:.3f}, ${LATEX['dC_db']}$ = {start['dC_db']:.3f}")
'''),
    md(r'''
## One step

`torch.optim.SGD` applies exactly this rule to the tensors it is given. First work out
where the step should land, then let the optimizer take it.
'''),
    code(r'''
lr = ref.LR
by_hand = start["m"] - lr * start["dC_dm"], start["b"] - lr * start["dC_db"]
optimizer = torch.optim.SGD([m, b], lr=lr)
optimizer.step()
show.md(f"${LATEX['lr']}$ = {lr}\n\n"
        f"- $m$ = {start['m']:.1f} − {lr} × {start['dC_dm']:.3f} = {by_hand[0]:.6f}; the optimizer gives {m.item():.6f}\n"
        f"- $b$ = {start['b']:.1f} − {lr} × {start['dC_db']:.3f} = {by_hand[1]:.6f}; the optimizer gives {b.item():.6f}")
'''),
    md(r'''
### Gradients accumulate

To see the new line with its gradients we need $C$ and the gradients at the new point.
But `backward()` **adds** to `.grad`, it does not overwrite it. `m.grad` still holds the
gradient from the starting point, so another `backward()` leaves the *sum* of the old and
the new gradient:
'''),
    code(r'''
old = m.grad.item(), b.grad.item()
C = ref.cost(x, y, m, b)
C.backward()
here = ref.dC_dm(x, y, m, b).item(), ref.dC_db(x, y, m, b).item()  # the hand formulas at the new point
display(show.Table(["", "`.grad` before", "gradient at the new point", "`.grad` after `backward()`"],
                   [[f"${LATEX['dC_dm']}$", f"{old[0]:.4f}", f"{here[0]:.4f}", f"{m.grad.item():.4f}"],
                    [f"${LATEX['dC_db']}$", f"{old[1]:.4f}", f"{here[1]:.4f}", f"{b.grad.item():.4f}"]]))
'''),
    md(r'''
A step with these sums would be wrong. (Torch accumulates on purpose, so that gradients
from several backward passes, say several batches, can be added up.) So every round
starts with `optimizer.zero_grad()`:
'''),
    code(r'''
optimizer.zero_grad()
C = ref.cost(x, y, m, b)
C.backward()
show.md(f"After `zero_grad()`: ${LATEX['dC_dm']}$ = {m.grad.item():.4f}, "
        f"${LATEX['dC_db']}$ = {b.grad.item():.4f}, the gradient at the new point.")

fig, ax = plt.subplots()
plots.regression_plot(ax, x, y, m, b, cost=C, grad_m=m.grad, grad_b=b.grad, title="after one step")
plt.show()
show.md(f"After one step: $m$ = **{m.item():.4f}**, $b$ = **{b.item():.4f}**, "
        f"$C$ = **{C.item():.4f}**, down from {start['C']:.4f}.")
'''),
    md(r'''
## A few more rounds

One round of training: zero the gradients, forward pass, cost, backward pass, step.
Each small plot is one round, labelled like the plot above (gradients at the line shown,
before its step).
'''),
    code(r'''
rounds = 8
fig, axes = plt.subplots(2, 4, figsize=(14.4, 6.4), sharex=True, sharey=True)
history = []  # (step, m, b, C, dC/dm, dC/db) at the start of each round
for k, ax in zip(range(1, rounds + 1), axes.flat):
    optimizer.zero_grad()         # forget the previous round's gradients
    y_hat = ref.predict(x, m, b)  # forward pass
    C = ref.mse(y_hat, y)         # cost
    C.backward()                  # gradients
    plots.regression_plot(ax, x, y, m, b, cost=C, grad_m=m.grad, grad_b=b.grad,
                          title=f"step {k}", digits=3, compact=True)
    history.append((k, m.item(), b.item(), C.item(), m.grad.item(), b.grad.item()))
    optimizer.step()              # downhill
fig.tight_layout()
plt.show()
'''),
    code(r'''
turn = next(row for row in history if row[5] < 0)
x64, y64 = ref.lecture_data(torch.float64)
m_best, b_best = ref.least_squares(x64, y64)
show.md(
    f"- ${LATEX['dC_db']}$ turns negative at step {turn[0]} ({turn[5]:.3f}), while ${LATEX['dC_dm']}$ stays "
    f"positive in every round ({min(row[4] for row in history):.3f} at its smallest).\n"
    f"- ${LATEX['dC_db']}$ = 2/n × the sum of the residuals: it changes sign once the line passes below "
    f"the points on average. Until then descent *lowered* $b$ (to {turn[2]:.4f} at step {turn[0]}); from now on "
    f"it raises $b$ towards the least-squares intercept {b_best:.4f}, while $m$ keeps falling towards {m_best:.4f}.")
'''),
    md(r'''
## The full run

The lecture's loop is the round above without the plot, repeated for a fixed number of
epochs after its first step. `optimizer.zero_grad()` opens every epoch: without it each
step would use the sum of all the gradients so far, as shown above.
'''),
    code(r'''
epochs = ref.LECTURE_EPOCHS - rounds  # the lecture's epochs, less the rounds already taken
path = [(start["m"], start["b"], start["C"])] + [row[1:4] for row in history]  # (m, b, C) after k steps
for epoch in range(epochs):
    optimizer.zero_grad()
    C = ref.mse(ref.predict(x, m, b), y)
    C.backward()
    path.append((m.item(), b.item(), C.item()))
    optimizer.step()
C = ref.cost(x, y, m, b)
path.append((m.item(), b.item(), C.item()))
steps = len(path) - 1
show.md(f"{ref.LECTURE_EPOCHS} epochs after the first step, {steps} steps in all: "
        f"$m$ = **{m.item():.4f}**, $b$ = **{b.item():.4f}**, $C$ = **{C.item():.4f}**")
display(show.Table(["step", "$m$", "$b$", "$C$"],
                   [[k, *(f"{v:.4f}" for v in path[k])] for k in (0, 1, 5, 10, 50, 100, 500, steps)]))
'''),
    code(r'''
lecture = ref.lecture_descent()  # the lecture's run: one step, then its epochs
same = (m.item(), b.item()) == lecture.final()
show.md(f"`reference.lecture_descent()` ends at $m$ = {lecture.m[-1]:.10f}, $b$ = {lecture.b[-1]:.10f}: "
        + ("bit for bit the run above." if same else "**not** the run above."))

C_best = ref.cost(x64, y64, m_best, b_best).item()
display(show.Table(["", "$m$", "$b$", "$C$"], [
    ["start", *(f"{v:.6f}" for v in (start["m"], start["b"], start["C"]))],
    [f"gradient descent, {steps} steps", *(f"{v:.6f}" for v in (m.item(), b.item(), C.item()))],
    ["least squares (normal equations)", *(f"{v:.6f}" for v in (m_best, b_best, C_best))]]))
'''),
    code(r'''
optimizer.zero_grad()
C = ref.cost(x, y, m, b)
C.backward()
fig, ax = plt.subplots()
plots.regression_plot(ax, x, y, m, b, cost=C, grad_m=m.grad, grad_b=b.grad, title=f"after {steps} steps")
ends = np.array(ax.get_xlim())
ax.plot(ends, m_best * ends + b_best, "--", color=COLOURS["reference"], label="least squares")
ax.legend(loc="best")
plt.show()

fig, axes = plt.subplots(1, 2, figsize=(13, 5))
costs = [c for *_, c in path]
plots.cost_history(axes[0], costs, label="gradient descent")
axes[0].axhline(C_best, linestyle="--", color=COLOURS["reference"], label="least squares")
axes[0].set_title("cost per step", color=COLOURS["C"])
axes[0].legend()
plots.cost_contours(axes[1], x, y, m_range=(-1.0, 1.0), b_range=(-0.5, 2.2))
plots.path(axes[1], [p[0] for p in path], [p[1] for p in path],
           label="gradient descent")
axes[1].legend(loc="upper right")
fig.tight_layout()
plt.show()
'''),
    md(r'''
Descent drops quickly into the valley, then creeps along its floor: after the lecture's
epochs it is close to the least-squares line but not on it. Notebook 4 explains the
creep, and how large a step may be.
'''),
    code(r'''
show.video("DescentTrajectory")
'''),
    md(r'''
Why the creep? Each arrow below is the step $-\eta \nabla C$ that descent takes from its tail,
all at one scale: long across the valley, short along its floor. The lecture's run follows them,
and where the arrows are short, so are its steps.
'''),
    code(r'''
show.video("GradientField")
'''),
    md(r'''
Next: [4. The learning rate](04_learning_rate.ipynb)
'''),
]

LESSONS["04_learning_rate"] = [
    md(TITLE + r'''
## 4. The learning rate

The learning rate {{sym:lr}} sets how far each step goes:

{{eq:update}}

Too small and descent crawls; too large and it overshoots. Here we look at both, and
compute the exact learning rate above which descent diverges on the lecture's data.
'''),
    code(SETUP),
    code(r'''
x, y = ref.lecture_data()
x64, y64 = ref.lecture_data(torch.float64)
m_best, b_best = ref.least_squares(x64, y64)
C_best = ref.cost(x64, y64, m_best, b_best).item()
steps = ref.LECTURE_STEPS
show.md(f"Same start ($m$ = {ref.M_START}, $b$ = {ref.B_START}) and the lecture's {steps} steps for every run; "
        f"the least-squares cost is {C_best:.4f}.")
'''),
    md(r'''
## Too small, the lecture's, large, too large

These runs use `reference.descent`: the hand-derived gradients of notebook 2 and the
update rule above, in float64.
'''),
    code(r'''
rates = {"too small": ref.LR / 10, "the lecture's": ref.LR, "large": 0.05, "too large": 0.06}
colours = dict(zip(rates, [COLOURS["x"], COLOURS["y"], COLOURS["b"], COLOURS["C"]]))
runs = {name: ref.descent(x, y, ref.M_START, ref.B_START, lr=lr, epochs=steps) for name, lr in rates.items()}
display(show.Table(["", f"${LATEX['lr']}$", f"$C$ after {steps} steps", "$m$", "$b$"],
                   [[name, f"{run.lr:g}", f"{run.cost[-1]:.4g}", f"{run.m[-1]:.4g}", f"{run.b[-1]:.4g}"]
                    for name, run in runs.items()]))

fig, ax = plt.subplots(figsize=(9, 5))
for name, run in runs.items():
    plots.cost_history(ax, run.cost, label=f"{name}, η = {run.lr:g}", colour=colours[name])
ax.axhline(C_best, linestyle="--", color=COLOURS["reference"], label="least squares")
ax.set_ylim(C_best / 3, 1e4)
ax.set_title("cost per step", color=COLOURS["C"])
ax.legend()
plt.show()

first = 12
fig, axes = plt.subplots(2, 2, figsize=(12, 10), sharex=True, sharey=True)
for ax, (name, run) in zip(axes.flat, runs.items()):
    plots.cost_contours(ax, x, y, m_range=(-2.0, 2.0), b_range=(-1.0, 3.0))
    plots.path(ax, run.m[:first + 1], run.b[:first + 1], label=f"η = {run.lr:g}", colour=colours[name])
    ax.set_title(f"{name}: the first {first} steps", color=colours[name])
    ax.legend(loc="upper right")
fig.tight_layout()
plt.show()
'''),
    md(r'''
Too small, the steps are short and the run ends far from the minimum. The large rate zig-zags across the valley but each zig-zag is smaller than the
last, and it gets closest of all. Too large, each step lands higher on the opposite wall
of the valley than it started: the zig-zags grow and the cost explodes.

## The threshold, computed

$C$ is quadratic in $(m, b)$, so its matrix of second derivatives, the Hessian, is constant:

$$ H = \frac{2}{n} \begin{bmatrix} \sum_{i} x_i^2 & \sum_{i} x_i \\ \sum_{i} x_i & n \end{bmatrix} $$

Measure the distance from the minimum along the eigenvectors of $H$. Along an eigenvector
with eigenvalue $\lambda$, one step multiplies that distance by $1 - {{tex:lr}} \lambda$.
Descent converges only if $|1 - {{tex:lr}} \lambda| < 1$ for both eigenvalues, that is

$$ {{tex:lr}} < \frac{2}{\lambda_{\max}} $$
'''),
    code(r'''
H = ref.hessian(x)
low, high = np.linalg.eigvalsh(H)
lr_max = ref.max_stable_lr(x)
show.md(f"$$ H = \\begin{{bmatrix}} {H[0, 0]:g} & {H[0, 1]:g} \\\\ {H[1, 0]:g} & {H[1, 1]:g} \\end{{bmatrix}}, "
        f"\\qquad \\lambda_{{\\min}} = {low:.4f}, \\quad \\lambda_{{\\max}} = {high:.4f} $$\n\n"
        f"Descent diverges for ${LATEX['lr']}$ > 2 / {high:.4f} = **{lr_max:.5f}**.")
'''),
    md(r'''
Check it on either side of the threshold:
'''),
    code(r'''
near = {"just below": 0.99 * lr_max, "just above": 1.01 * lr_max}
near_runs = {name: ref.descent(x, y, ref.M_START, ref.B_START, lr=lr, epochs=steps) for name, lr in near.items()}
display(show.Table(["", f"${LATEX['lr']}$", f"$\\lvert 1 - {LATEX['lr']} \\lambda_{{\\max}} \\rvert$",
                    f"$C$ after {steps} steps"],
                   [[name, f"{run.lr:.5f}", f"{abs(1 - run.lr * high):.3f}", f"{run.cost[-1]:.4g}"]
                    for name, run in near_runs.items()]))

fig, ax = plt.subplots(figsize=(8, 4))
for (name, run), colour in zip(near_runs.items(), [COLOURS["y"], COLOURS["C"]]):
    plots.cost_history(ax, run.cost, label=f"{name}, η = {run.lr:.5f}", colour=colour)
ax.set_title("on either side of the threshold", color=COLOURS["C"])
ax.legend()
plt.show()
'''),
    md(r'''
## Why the lecture's run stops short

The smaller eigenvalue sets the pace along the floor of the valley: there the distance
to the minimum shrinks by a factor $1 - {{tex:lr}} \lambda_{\min}$ per step, barely below one.
'''),
    code(r'''
run = runs["the lecture's"]
eigenvalues, eigenvectors = np.linalg.eigh(H)
floor = eigenvectors[:, 0]  # the direction along the valley floor (smallest eigenvalue)
optimum = np.array([m_best, b_best])
gap_start = abs(floor @ (np.array([run.m[0], run.b[0]]) - optimum))
gap_end = abs(floor @ (np.array([run.m[-1], run.b[-1]]) - optimum))
per_step = 1 - ref.LR * low
show.md(f"At the lecture's ${LATEX['lr']}$ = {ref.LR}: $1 - {LATEX['lr']} \\lambda_{{\\min}}$ = {per_step:.5f} per step, "
        f"so {steps} steps shrink the distance along the floor by {per_step ** steps:.4f}. "
        f"Measured on the run above at that rate: from {gap_start:.4f} to {gap_end:.4f}, a factor {gap_end / gap_start:.4f}. "
        f"The fastest single learning rate for this valley is $2 / (\\lambda_{{\\min}} + \\lambda_{{\\max}})$ = "
        f"{2 / (low + high):.5f}, just under the threshold.")
'''),
    code(r'''
show.video("LearningRate")
'''),
    code(r'''
show.exercise_link()
'''),
    md(r'''
Next: [5. The vector form](05_vector_form.ipynb)
'''),
]


# Lesson 5 imports assignment 2's reference and data next to assignment 1's.
SETUP_VECTOR = SETUP + r'''
from autograder.assignments.mse_gradient_vector import data as vdata
from autograder.assignments.mse_gradient_vector import reference as vref
'''

LESSONS["05_vector_form"] = [
    md(TITLE + r'''
## 5. The vector form

Lessons 1 to 4 had one input {{sym:x}} per instance and one slope $m$. Real data has many
inputs per instance, called *features*, and a model with one weight per feature. This lesson
derives the gradient for that model from the one we already have, one index at a time, and
shows that it gives back lesson 2's numbers when there is a single feature. Then it finds the
largest stable learning rate from the Hessian, as lesson 4 did, and trains on a real data set
with *mini-batches*: steps that each look at a few instances only.

This is the math of assignment 2, `mse-gradient-vector`. Every number here is computed by the
code next to it, from `autograder.assignments.mse_gradient_vector.reference`.
'''),
    code(SETUP_VECTOR),
    md(r'''
## The data

Besides the lecture's eight points, assignment 2 uses a real data set:
'''),
    code(r'''
X, y = vref.diabetes(torch.float64)
n, d = X.shape
show.md(f"**{vdata.DIABETES_SOURCE}.** $X$ has shape ({n}, {d}): one row per patient, one column per "
        f"feature ({', '.join(vdata.DIABETES_FEATURES)}: age, sex, body mass index, blood pressure and six "
        f"blood serum measurements). $y$ holds {n} numbers, a measure of how far the disease progressed "
        f"one year later (from {y.min().item():.0f} to {y.max().item():.0f}, mean {y.mean().item():.1f}).\n\n"
        f"The files come with scikit-learn; `autograder.assignments.mse_gradient_vector.data` reads them "
        f"without importing scikit-learn and without any download. Each feature is standardised "
        f"(mean {X.mean(0).abs().max().item():.0f}, standard deviation {X.std(0, unbiased=False).mean().item():.0f}), "
        f"so that one learning rate suits them all; $y$ stays in its own units.")
first = 5
display(show.table({**{rf"\text{{{name}}}": X[:first, j] for j, name in enumerate(vdata.DIABETES_FEATURES)},
                    LATEX["y"]: y[:first]}, digits=2))
'''),
    md(r'''
## From one feature to $d$

Write $X_{ij}$ for feature $j$ of instance $i$, with $i = 1, \dots, n$ and $j = 1, \dots, d$,
and give feature $j$ its own weight $w_j$. The line {{eq:model}} becomes

$$ \hat{y}_i = \sum_{j=1}^{d} X_{ij} w_j + b $$

With $d = 1$ this is the line again: $X_{i1} = x_i$ and $w_1 = m$. For all $n$ instances at once,
$\hat{y} = X w + b$, where $X$ is the $n \times d$ matrix, $w$ the vector of $d$ weights and $b$ is
added to every row. The cost does not change at all:

{{eq:cost}}

Pick any weights and check that the sum over $j$ and the matrix product agree:
'''),
    code(r'''
g = torch.Generator().manual_seed(0)
w = 10 * torch.randn(d, generator=g, dtype=torch.float64)  # any point will do for the derivation
b = torch.tensor(100.0, dtype=torch.float64)
rows = []
for i in range(3):
    by_index = sum(X[i, j] * w[j] for j in range(d)) + b  # the sum over j, one term at a time
    rows.append([i + 1, f"{by_index.item():.4f}", f"{vref.predict(X, w, b)[i].item():.4f}"])
display(show.Table(["$i$", r"$\sum_j X_{ij} w_j + b$", "$(Xw + b)_i$"], rows))
show.md(f"$w$ = ({', '.join(f'{v:.2f}' for v in w.tolist())}), $b$ = {b.item():.0f}: "
        f"$C$ = {vref.cost(X, y, w, b).item():.1f}")
'''),
    md(r'''
## The gradient, one index at a time

Lesson 2's first two links do not care how {{sym:y_hat}} was made, so they stay:

{{eq:dC_dyhat}}

The third link is new. {{sym:y_hat}} $= \sum_k X_{ik} w_k + b$ holds one term for every weight, and
only the term $k = j$ contains $w_j$, so

$$ \frac{\partial \hat{y}_i}{\partial w_j} = X_{ij}, \qquad {{tex:dyhat_db}} = 1 $$

Each weight reaches $C$ through every prediction, so the chain rule adds up $n$ paths, as for $m$:

$$ \frac{\partial C}{\partial w_j} = \sum_{i=1}^{n} {{tex:dC_dyhat}} \, \frac{\partial \hat{y}_i}{\partial w_j} = \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)\, X_{ij} \qquad \text{for } j = 1, \dots, d $$

Those are $d$ formulas, one per weight, with the same residuals $\hat{y}_i - y_i$ in every one.
A sum over $i$ of $X_{ij}$ times something indexed by $i$ is what a transposed matrix does:
$(X^\top r)_j = \sum_i (X^\top)_{ji} \, r_i = \sum_i X_{ij} \, r_i$. So the $d$ partials,
stacked into one vector, are

$$ \nabla_w C = \begin{bmatrix} \partial C / \partial w_1 \\ \vdots \\ \partial C / \partial w_d \end{bmatrix} = \frac{2}{n} X^\top (\hat{y} - y) = \frac{2}{n} X^\top (X w + b - y), \qquad {{tex:dC_db}} = \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i) $$

Check the shapes: $X^\top$ is $d \times n$ and $\hat{y} - y$ has $n$ entries, so $\nabla_w C$ has $d$,
one per weight. $\partial C / \partial b$ is the same as in lesson 2.

Compute it three ways: the formula for one $j$ at a time, the matrix form in
`reference.grad_w`, and torch autograd.
'''),
    code(r'''
residual = vref.predict(X, w, b) - y
by_index = torch.stack([2 / n * sum(residual[i] * X[i, j] for i in range(n)) for j in range(d)])  # slow on purpose
matrix = vref.grad_w(X, y, w, b)

w_auto = w.clone().requires_grad_()
b_auto = b.clone().requires_grad_()
vref.cost(X, y, w_auto, b_auto).backward()

display(show.Table(["$j$", "feature", r"$\frac{2}{n} \sum_i (\hat{y}_i - y_i) X_{ij}$", r"$\frac{2}{n} X^\top (\hat{y} - y)$",
                    "autograd", "relative error"],
                   [[j + 1, name, f"{by_index[j].item():.4f}", f"{matrix[j].item():.4f}", f"{w_auto.grad[j].item():.4f}",
                     f"{ref.relative_error(matrix[j], w_auto.grad[j]):.1e}"]
                    for j, name in enumerate(vdata.DIABETES_FEATURES)]))
grad_b = vref.grad_b(X, y, w, b)
worst = max(ref.relative_error(matrix, w_auto.grad), ref.relative_error(by_index, w_auto.grad),
            ref.relative_error(grad_b, b_auto.grad))
show.md(f"${LATEX['dC_db']}$: {grad_b.item():.4f} by the formula, {b_auto.grad.item():.4f} by autograd. "
        f"Largest relative error over all {d + 1} partials: {worst:.1e}.")
'''),
    md(r'''
## $d = 1$ gives back lesson 2

Take the lecture's eight points as a matrix with one column, $X_{i1} = x_i$, and the lecture's start
$w = [m]$. Then $\partial C / \partial w_1 = \frac{2}{n} \sum_i (\hat{y}_i - y_i)\, x_i$, which is
{{eq:dC_dm}}

and $\partial C / \partial b$ is the same formula as before. In numbers, at float32 as in the lecture:
'''),
    code(r'''
X1, y1 = vref.lecture_data()                    # X1: shape (8, 1)
x, y_lecture = ref.lecture_data()               # lesson 1's x: shape (8,)
grad_w1 = vref.grad_w(X1, y1, vdata.W_START, vdata.B_START_VECTOR)
grad_b1 = vref.grad_b(X1, y1, vdata.W_START, vdata.B_START_VECTOR)
lecture = ref.autograd_gradients(x, y_lecture, ref.M_START, ref.B_START)
show.md(f"$X$ has shape {tuple(X1.shape)}, $w$ = {list(vdata.W_START)}, $b$ = {vdata.B_START_VECTOR}; "
        f"$\\nabla_w C$ has shape {tuple(grad_w1.shape)}.")
display(show.Table(["", "vector form, $d = 1$", "lesson 2's formula", "autograd (lesson 1)"],
                   [[f"${LATEX['dC_dm']}$", f"{grad_w1[0].item():.4f}", f"{ref.dC_dm(x, y_lecture, ref.M_START, ref.B_START).item():.4f}",
                     f"{lecture.dC_dm:.4f}"],
                    [f"${LATEX['dC_db']}$", f"{grad_b1.item():.4f}", f"{ref.dC_db(x, y_lecture, ref.M_START, ref.B_START).item():.4f}",
                     f"{lecture.dC_db:.4f}"]]))
'''),
    md(r'''
## The Hessian and the largest stable learning rate

Differentiate once more. The predictions are linear in $w$ and $b$, so every second derivative is a
constant:

$$ \frac{\partial^2 C}{\partial w_j \, \partial w_k} = \frac{2}{n} \sum_{i=1}^{n} X_{ij} X_{ik} = \frac{2}{n} (X^\top X)_{jk}, \qquad
\frac{\partial^2 C}{\partial w_j \, \partial b} = \frac{2}{n} \sum_{i=1}^{n} X_{ij}, \qquad
\frac{\partial^2 C}{\partial b^2} = \frac{2}{n} \sum_{i=1}^{n} 1 = 2 $$

Together, with $\mathbf{1}$ the column of $n$ ones:

$$ H = \frac{2}{n} \begin{bmatrix} X^\top X & X^\top \mathbf{1} \\ \mathbf{1}^\top X & n \end{bmatrix} $$

a $(d + 1) \times (d + 1)$ matrix. Lesson 4's argument holds eigenvector by eigenvector: full-batch
gradient descent converges only if $|1 - {{tex:lr}} \lambda| < 1$ for every eigenvalue $\lambda$ of $H$, that is
${{tex:lr}} < 2 / \lambda_{\max}$. With $d = 1$, $X^\top X = \sum_i x_i^2$ and $X^\top \mathbf{1} = \sum_i x_i$:
lesson 4's matrix.
'''),
    code(r'''
show.md(f"Lecture data, $d = 1$: the largest stable ${LATEX['lr']}$ is **{vref.max_stable_lr(X1):.5f}** "
        f"(lesson 4 found {ref.max_stable_lr(x):.5f}); the two Hessians differ by at most "
        f"{np.abs(vref.hessian(X1) - ref.hessian(x)).max():.1e}.")

H = vref.hessian(X)
eigenvalues = np.linalg.eigvalsh(H)
lr_max = vref.max_stable_lr(X)
show.md(f"Diabetes data: $H$ is {H.shape[0]} × {H.shape[1]}, its eigenvalues run from {eigenvalues[0]:.4f} "
        f"to $\\lambda_{{\\max}}$ = {eigenvalues[-1]:.4f}, so the largest stable ${LATEX['lr']}$ is "
        f"2 / {eigenvalues[-1]:.4f} = **{lr_max:.4f}**.\n\n"
        f"Its last row, $\\frac{{2}}{{n}} \\mathbf{{1}}^\\top X$, is zero up to rounding "
        f"(largest entry {np.abs(H[-1, :-1]).max():.0e}) because every feature has mean zero: "
        f"then $b$ moves on its own, with eigenvalue {H[-1, -1]:.0f}.")
'''),
    md(r'''
Check the threshold with full-batch gradient descent from $w = 0$, $b = 0$, just below it and just above:
'''),
    code(r'''
epochs = 300
w0 = np.zeros(d)
X_least, b_least = vref.least_squares(X, y)
C_least = vref.cost(X, y, X_least, b_least).item()
near = {"just below": 0.99 * lr_max, "just above": 1.01 * lr_max}
display(show.Table(["", f"${LATEX['lr']}$", f"$C$ after {epochs} steps", "least squares $C$"],
                   [[name, f"{lr:.4f}", f"{vref.path_costs(X, y, vref.gradient_descent(X, y, w0, 0.0, lr, epochs))[-1]:.4g}",
                     f"{C_least:.4g}"] for name, lr in near.items()]))
'''),
    md(r'''
## Mini-batch SGD

A full-batch step reads all $n$ instances before it moves. Mini-batch stochastic gradient descent
moves after every *batch* of $B$ instances, with that batch's gradient: the same formulas, with the
sums over the batch only and $n$ replaced by the batch's size $|B|$,

$$ \nabla_w C_B = \frac{2}{|B|} X_B^\top (X_B w + b - y_B), \qquad \frac{\partial C_B}{\partial b} = \frac{2}{|B|} \sum_{i \in B} (\hat{y}_i - y_i) $$

One *epoch* is one pass over the data: shuffle the instances, cut the shuffled order into batches of
$B$ (the last one shorter when $B$ does not divide $n$), and take one step per batch. A batch's gradient
is the full gradient plus noise: right on average over the batches, wrong in any one of them.

The shuffle uses one `torch.Generator`, seeded once before the first epoch, and one `torch.randperm`
per epoch: each epoch gets a new order, and the same seed gives the same run. On the lecture's points:
'''),
    code(r'''
n1 = X1.shape[0]
orders = vref.epoch_orders(n1, epochs=2, seed=0)
for epoch, order in enumerate(orders, 1):
    show.md(f"epoch {epoch}: order {order.tolist()}, batches of 3: "
            + ", ".join(str(batch.tolist()) for batch in vref.batches(order, 3)))
again = vref.epoch_orders(n1, epochs=2, seed=0)
show.md(f"The same seed again gives the same orders: {all(np.array_equal(a, b) for a, b in zip(orders, again))}.")

full = vref.minibatch_sgd(X1, y1, vdata.W_START, vdata.B_START_VECTOR, lr=ref.LR, epochs=5, batch_size=n1)
plain = vref.gradient_descent(X1, y1, vdata.W_START, vdata.B_START_VECTOR, lr=ref.LR, epochs=5)
apart = max(ref.relative_error(np.array(full.w), np.array(plain.w)), ref.relative_error(full.b, plain.b))
show.md(f"With $B$ = $n$ = {n1}, every epoch is one step with the gradient of all the instances: plain "
        f"gradient descent. Over {len(full.batches)} steps the two runs differ by a relative {apart:.0e} at most, "
        f"rounding only: the shuffle changes the order of the sum, not its terms.")
'''),
    md(r'''
## Mini-batch noise against the full batch

On the diabetes data, all ten features, from $w = 0$ and $b = 0$, with one learning rate for every run:
the full batch, and batches of three sizes, each with three seeds. After every step we measure $C$ on
*all* $n$ instances. The plots show how far $C$ is above its least-squares minimum, on a log scale.
'''),
    code(r'''
lr = 0.05
epochs = 30
sizes = (8, 32, 128)
seeds = (0, 1, 2)
show.md(f"${LATEX['lr']}$ = {lr}, about {lr / lr_max:.2f} of the largest stable rate {lr_max:.4f}; "
        f"{epochs} epochs; batch sizes {', '.join(map(str, sizes))} and the full batch of {n}; seeds {', '.join(map(str, seeds))}.")

full_batch = vref.path_costs(X, y, vref.gradient_descent(X, y, w0, 0.0, lr, epochs))   # one step per epoch
full_steps = 200                                                                       # the same rule, for as many steps as the plot shows
full_by_step = vref.path_costs(X, y, vref.gradient_descent(X, y, w0, 0.0, lr, full_steps))
runs = {(size, seed): vref.path_costs(X, y, vref.minibatch_sgd(X, y, w0, 0.0, lr, epochs, size, seed))
        for size in sizes for seed in seeds}
'''),
    code(r'''
colours = dict(zip(sizes, [COLOURS["u"], COLOURS["b"], COLOURS["x"]]))
fig, axes = plt.subplots(2, len(sizes), figsize=(14, 8.5), sharey=True)
for column, size in enumerate(sizes):
    per_epoch = vref.steps_per_epoch(n, size)
    for seed in seeds:
        costs = runs[size, seed] - C_least
        label = f"B = {size}, seeds {', '.join(map(str, seeds))}" if seed == seeds[0] else None
        axes[0, column].semilogy(costs[:full_steps + 1], color=colours[size], linewidth=0.8, alpha=0.85, label=label)
        axes[1, column].semilogy(costs[::per_epoch], color=colours[size], linewidth=1.0, alpha=0.85,
                                 marker="o", markersize=2.5, label=label)
    axes[0, column].semilogy(full_by_step - C_least, color=COLOURS["grad"], linewidth=2.2, label=f"full batch, B = {n}")
    axes[1, column].semilogy(full_batch - C_least, color=COLOURS["grad"], linewidth=2.2, label=f"full batch, B = {n}")
    axes[0, column].set_title(f"B = {size}: {per_epoch} steps per epoch", color=colours[size])
    axes[0, column].set_xlabel("step")
    axes[1, column].set_xlabel("epoch (passes over the data)")
    for ax in axes[:, column]:
        ax.legend(loc="upper right", fontsize=9)
axes[0, 0].set_ylabel("$C - C_{\\min}$ after each step")
axes[1, 0].set_ylabel("$C - C_{\\min}$ after each epoch")
fig.suptitle(f"Mini-batch SGD on the diabetes data, η = {lr}: cost above its minimum {C_least:.1f}, log scale",
             color=COLOURS["C"], fontsize=13)
fig.tight_layout()
plt.show()
'''),
    code(r'''
last = 10  # epochs at the end of a run over which its level is averaged


def floor(costs, size):
    """The mean excess cost over a run's last epochs, every step: how high the noise keeps it."""
    return float(np.mean(costs[-last * vref.steps_per_epoch(n, size):] - C_least))

rows = [[f"B = {size}", vref.steps_per_epoch(n, size),
         f"{np.min([runs[size, seed][vref.steps_per_epoch(n, size)] for seed in seeds]) - C_least:.1f} to "
         f"{np.max([runs[size, seed][vref.steps_per_epoch(n, size)] for seed in seeds]) - C_least:.1f}",
         f"{np.mean([floor(runs[size, seed], size) for seed in seeds]):.1f}"]
        for size in sizes]


def full_batch_below(level):
    """The first epoch after which the full batch's excess cost is below ``level`` (None: not yet)."""
    below = np.flatnonzero(full_by_step - C_least < level)
    return int(below[0]) if below.size else None

for row, size in zip(rows, sizes):
    epoch = full_batch_below(float(row[3]))
    row.append(f"{epoch}" if epoch is not None else f"not within {full_steps}")
rows.append([f"full batch, B = {n}", 1, f"{full_batch[1] - C_least:.1f}",
             f"{full_by_step[-1] - C_least:.1f} (step {full_steps})", ""])
show.md(f"$C - C_{{\\min}}$ of each run: after one epoch (from the lowest to the highest seed), at the end "
        f"(the mean over every step of the last {last} epochs and over the seeds), and the epoch after which the full batch is that low too.")
display(show.Table(["", "steps per epoch", "after one epoch", "at the end", "full batch that low after (epochs)"], rows))
'''),
    md(r'''
What the plots say:

- **Per step** (top row), every batch size first follows the full batch down: early on, the batch
  gradients all point roughly the same way as the full one. Near the minimum the noise takes over: the
  cost stops falling and jitters at a level that is higher the smaller the batch. The full batch keeps
  going down, smoothly.
- **Per epoch** (bottom row), the same amount of work (every instance read once): a small batch takes
  many steps per epoch, so after one epoch it is far ahead of the full batch, which has taken one step.
  The full batch, smooth and steady, gets below a noisy run's level in the end: the last column of the
  table says after how many epochs.
- Different seeds give different paths with the same character. The noise does not shrink with more
  epochs at a fixed learning rate; a smaller rate, or a larger batch, lowers it.

## The weight vector's descent, animated

With two features the weights live in a plane, and the cost has contours there. The video below takes
two of the diabetes features, draws the full-batch path and two mini-batch paths with different seeds,
from the same start, at the same learning rate, one step at a time.
'''),
    code(r'''
show.video("MinibatchDescent")
'''),
    md(r'''
Assignment 2 asks for exactly these pieces: `grad_w`, `grad_b`, `minibatch_sgd` with its seeded
shuffle, and `max_stable_lr`.
'''),
]


def _fill(text: str) -> str:
    """Replace the notation placeholders in a Markdown cell."""
    text = re.sub(r"\{\{eq:(\w+)\}\}", lambda mt: f"$$ {EQUATIONS[mt.group(1)]} $$", text)
    text = re.sub(r"\{\{sym:(\w+)\}\}", lambda mt: f"${LATEX[mt.group(1)]}$", text)
    text = re.sub(r"\{\{tex:(\w+)\}\}", lambda mt: LATEX[mt.group(1)], text)
    if "{{" in text and re.search(r"\{\{\w+:", text):
        raise ValueError(f"unknown placeholder in: {text[:80]!r}")
    return text


def notebook(name: str) -> nbformat.NotebookNode:
    """The lesson ``name`` as a notebook without outputs, with stable cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, text) in enumerate(LESSONS[name]):
        source = textwrap.dedent(text).strip("\n")
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(_fill(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = f"{name[:2]}-{index:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def text(name: str) -> str:
    """The lesson's .ipynb file content."""
    return nbformat.writes(notebook(name)) + "\n"


def paths() -> dict[str, Path]:
    return {name: COURSE / f"{name}.ipynb" for name in LESSONS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that differ")
    args = parser.parse_args(argv)
    stale = []
    for name, path in paths().items():
        wanted = text(name)
        current = path.read_text() if path.is_file() else None
        if current == wanted:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(wanted)
            print(f"wrote {path}")
    if args.check and stale:
        print("out of date (run python -m course.build):", *map(str, stale), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
