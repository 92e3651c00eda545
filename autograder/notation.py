"""One notation table for the lessons' LaTeX, the videos' MathTex and the plots.

Each symbol has one LaTeX spelling and one colour everywhere in the course.
Colours are hex strings that both matplotlib and Manim accept.
"""

LATEX = {
    "x": r"x_i",
    "y": r"y_i",
    "y_hat": r"\hat{y}_i",
    "u": r"u_i",
    "m": r"m",
    "b": r"b",
    "n": r"n",
    "C": r"C",
    "lr": r"\eta",
    "dC_dyhat": r"\frac{\partial C}{\partial \hat{y}_i}",
    "dC_du": r"\frac{\partial C}{\partial u_i}",
    "du_dyhat": r"\frac{\partial u_i}{\partial \hat{y}_i}",
    "dyhat_dm": r"\frac{\partial \hat{y}_i}{\partial m}",
    "dyhat_db": r"\frac{\partial \hat{y}_i}{\partial b}",
    "dC_dm": r"\frac{\partial C}{\partial m}",
    "dC_db": r"\frac{\partial C}{\partial b}",
    "grad": r"\nabla C",
}

# Whole equations, in the order the lecture derives them.
EQUATIONS = {
    "model": r"\hat{y}_i = m x_i + b",
    "cost": r"C = \frac{1}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)^2",
    "u": r"u_i = \hat{y}_i - y_i",
    "cost_u": r"C = \frac{1}{n} \sum_{i=1}^{n} u_i^2",
    "dC_du": r"\frac{\partial C}{\partial u_i} = \frac{2 u_i}{n}",
    "du_dyhat": r"\frac{\partial u_i}{\partial \hat{y}_i} = 1",
    "dC_dyhat": r"\frac{\partial C}{\partial \hat{y}_i} = \frac{2}{n} (\hat{y}_i - y_i)",
    "dyhat_dm": r"\frac{\partial \hat{y}_i}{\partial m} = x_i",
    "dyhat_db": r"\frac{\partial \hat{y}_i}{\partial b} = 1",
    "dC_dm": r"\frac{\partial C}{\partial m} = \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)\, x_i",
    "dC_db": r"\frac{\partial C}{\partial b} = \frac{2}{n} \sum_{i=1}^{n} (\hat{y}_i - y_i)",
    "update": r"m \leftarrow m - \eta \frac{\partial C}{\partial m}, \quad b \leftarrow b - \eta \frac{\partial C}{\partial b}",
}

COLOURS = {
    "x": "#58C4DD",       # inputs
    "y": "#83C167",       # targets
    "y_hat": "#F0AC5F",   # predictions
    "u": "#C55F73",       # residuals
    "m": "#9A72AC",       # slope
    "b": "#E8C11C",       # intercept
    "C": "#FC6255",       # cost
    "grad": "#FFFFFF",
    "reference": "#888888",
}
