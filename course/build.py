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
