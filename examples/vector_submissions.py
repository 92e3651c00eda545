"""Assignment 2's sample class (mse-gradient-vector): one submission per style or mistake.

As for assignment 1 (``examples/submissions.py``): each student's answers
replace the released stubs; a function not named keeps the correct answer
below, so each mistaken sample shows one mistake and costs only that
function's points. ``None`` leaves the released stub untouched.

STUDENTS: student id -> (what the sample shows, {function: source or None},
{function: the mistake or failure the feedback must name}, the score it
earns out of spec.MAX_SCORE). A function with no expected mistake earns
full marks.
"""

CORRECT = {
    "grad_w": '''\
def grad_w(X, y, w, b):
    r = X @ w.reshape(-1) + b - y
    return 2 * X.T @ r / len(y)
''',
    "grad_b": '''\
def grad_b(X, y, w, b):
    r = X @ w.reshape(-1) + b - y
    return 2 * torch.sum(r) / len(y)
''',
    "minibatch_sgd": '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    n = len(y)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            g_w = grad_w(X[batch], y[batch], w, b)
            g_b = grad_b(X[batch], y[batch], w, b)
            w = w - lr * g_w.reshape(w.shape)
            b = b - lr * g_b
    return w, b
''',
    "max_stable_lr": '''\
def max_stable_lr(X):
    n = X.shape[0]
    A = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)
    H = 2 / n * A.T @ A
    return 2 / torch.linalg.eigvalsh(H)[-1]
''',
}

# The three correct styles' (and the float32 one's) answers.
LOOPS = {
    "grad_w": '''\
def grad_w(X, y, w, b):
    n, d = X.shape
    w = w.reshape(-1)
    r = [sum(X[i, k] * w[k] for k in range(d)) + b - y[i] for i in range(n)]
    return torch.stack([2 * sum(r[i] * X[i, j] for i in range(n)) / n for j in range(d)]).reshape(d)
''',
    "grad_b": '''\
def grad_b(X, y, w, b):
    n, d = X.shape
    w = w.reshape(-1)
    total = 0.0
    for i in range(n):
        total = total + (X[i] @ w + b - y[i])
    return 2 * total / n
''',
    "minibatch_sgd": '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    generator = torch.Generator()
    generator.manual_seed(seed)
    n = len(y)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator).tolist()
        batches = [order[k:k + batch_size] for k in range(0, n, batch_size)]
        for batch in batches:
            X_batch, y_batch = X[batch], y[batch]
            step_w = lr * grad_w(X_batch, y_batch, w, b)
            step_b = lr * grad_b(X_batch, y_batch, w, b)
            w = w - step_w.reshape(w.shape)
            b = b - step_b
    return w, b
''',
    "max_stable_lr": '''\
def max_stable_lr(X):
    import numpy as np
    X = X.numpy()
    n, d = X.shape
    H = np.zeros((d + 1, d + 1), dtype=X.dtype)
    for j in range(d):
        for k in range(d):
            H[j, k] = 2 / n * np.sum(X[:, j] * X[:, k])
        H[j, d] = H[d, j] = 2 / n * np.sum(X[:, j])
    H[d, d] = 2.0
    return float(2 / np.linalg.eigvalsh(H)[-1])
''',
}

EINSUM = {
    "grad_w": '''\
def grad_w(X, y, w, b):
    residual = torch.einsum("ij,j->i", X, w.flatten()) + b - y
    return torch.einsum("ij,i->j", X, residual) * (2.0 / X.shape[0])
''',
    "grad_b": '''\
def grad_b(X, y, w, b):
    residual = torch.einsum("ij,j->i", X, w.flatten()) + b - y
    return 2.0 * residual.mean()
''',
    "minibatch_sgd": '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = w.clone()
    b = torch.as_tensor(b, dtype=X.dtype).clone()
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=g).split(batch_size):
            gw, gb = grad_w(X[batch], y[batch], w, b), grad_b(X[batch], y[batch], w, b)
            w -= lr * gw.view_as(w)
            b -= lr * gb
    return w, b
''',
    "max_stable_lr": '''\
def max_stable_lr(X):
    n = X.shape[0]
    A = torch.nn.functional.pad(X, (0, 1), value=1.0)
    H = torch.einsum("ij,ik->jk", A, A) * (2.0 / n)
    return (2.0 / torch.linalg.eigvalsh(H).max()).item()
''',
}

FLOAT32 = {
    "grad_w": '''\
def grad_w(X, y, w, b):
    X, y, w = X.float(), y.float(), w.float().reshape(-1)
    return 2 * X.T @ (X @ w + float(b) - y) / len(y)
''',
    "grad_b": '''\
def grad_b(X, y, w, b):
    import numpy as np
    X, y = X.numpy().astype(np.float32), y.numpy().astype(np.float32)
    w = w.numpy().astype(np.float32).reshape(-1)
    return np.float32(2) * np.mean(X @ w + np.float32(float(b)) - y)
''',
    "max_stable_lr": '''\
def max_stable_lr(X):
    X = X.float()
    A = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    return float(2 / torch.linalg.eigvalsh(2 * A.T @ A / len(X))[-1])
''',
}


def _grad(function: str, body: str) -> str:
    return f"def {function}(X, y, w, b):\n    " + body.strip().replace("\n", "\n    ") + "\n"


R = "r = X @ w.reshape(-1) + b - y\n"
RATE_HEAD = ("def max_stable_lr(X):\n    n = X.shape[0]\n"
             "    A = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)\n")


def _sgd(replace: dict) -> str:
    source = CORRECT["minibatch_sgd"]
    for old, new in replace.items():
        assert old in source, old
        source = source.replace(old, new)
    return source


STUDENTS = {
    # --- correct, three styles and float32 -------------------------------------------------------------
    "emmy": ("correct, in matrix form (X.T @ r)", {}, {}, 13.0),
    "sofia": ("correct, with loops over the features j and the instances i", LOOPS, {}, 13.0),
    "carl": ("correct, with einsum, in-place updates and randperm(...).split", EINSUM, {}, 13.0),
    "leslie": ("correct, computing in float32 (torch .float(), numpy float32)", FLOAT32, {}, 13.0),
    # --- grad_w's mistakes -----------------------------------------------------------------------------
    "xavier": ("grad_w: X instead of X^T", {"grad_w": _grad("grad_w", R + "return 2 * X @ r / len(y)")},
               {"grad_w": "x_not_transposed"}, 10.0),
    "tomas": ("grad_w: the 2 is missing", {"grad_w": _grad("grad_w", R + "return X.T @ r / len(y)")},
              {"grad_w": "missing_two"}, 10.0),
    "ursula": ("grad_w: a sum instead of a mean", {"grad_w": _grad("grad_w", R + "return 2 * X.T @ r")},
               {"grad_w": "missing_mean"}, 10.0),
    "vera": ("grad_w: target minus prediction", {
        "grad_w": _grad("grad_w", "r = y - X @ w.reshape(-1) - b\nreturn 2 * X.T @ r / len(y)")},
        {"grad_w": "sign_flipped"}, 10.0),
    "walter": ("grad_w: b left out of the prediction", {
        "grad_w": _grad("grad_w", "r = X @ w.reshape(-1) - y\nreturn 2 * X.T @ r / len(y)")},
        {"grad_w": "bias_ignored"}, 10.0),
    "yara": ("grad_w: the mean over the features (dim=1) instead of the instances", {
        "grad_w": _grad("grad_w", R + "return 2 * torch.mean(X * r[:, None], dim=1)")},
        {"grad_w": "mean_wrong_axis"}, 10.0),
    "zeno": ("grad_w: w of shape (d, 1) broadcasts the residual to n x n", {
        "grad_w": _grad("grad_w", "r = X @ w + b - y\nreturn 2 * X.T @ r / len(y)")},
        {"grad_w": "broadcast_column"}, 10.0),
    "agnes": ("grad_w: returns the cost", {"grad_w": _grad("grad_w", R + "return torch.mean(r ** 2)")},
              {"grad_w": "returns_cost"}, 10.0),
    "boris": ("grad_w: one row per instance, never summed", {
        "grad_w": _grad("grad_w", R + "return 2 * X * r[:, None] / len(y)")},
        {"grad_w": "per_instance"}, 10.0),
    "clara": ("grad_w: without X (returns dC/db)", {"grad_w": _grad("grad_w", R + "return 2 * torch.mean(r)")},
              {"grad_w": "missing_x"}, 10.0),
    "dmitri": ("grad_w: autograd", {"grad_w": _grad("grad_w", (
        "w = w.detach().reshape(-1).clone().requires_grad_(True)\n"
        "cost = torch.mean((X @ w + b - y) ** 2)\nreturn torch.autograd.grad(cost, w)[0]"))},
        {"grad_w": "autograd"}, 10.0),
    # --- grad_b's mistakes -----------------------------------------------------------------------------
    "elena": ("grad_b: the 2 is missing", {"grad_b": _grad("grad_b", R + "return torch.sum(r) / len(y)")},
              {"grad_b": "missing_two"}, 10.0),
    "felix": ("grad_b: a sum instead of a mean", {"grad_b": _grad("grad_b", R + "return 2 * torch.sum(r)")},
              {"grad_b": "missing_mean"}, 10.0),
    "gerda": ("grad_b: target minus prediction", {
        "grad_b": _grad("grad_b", "r = y - X @ w.reshape(-1) - b\nreturn 2 * torch.mean(r)")},
        {"grad_b": "sign_flipped"}, 10.0),
    "hugo": ("grad_b: b left out of the prediction", {
        "grad_b": _grad("grad_b", "r = X @ w.reshape(-1) - y\nreturn 2 * torch.mean(r)")},
        {"grad_b": "bias_ignored"}, 10.0),
    "irma": ("grad_b: w of shape (d, 1) broadcasts the residual to n x n, summed over n", {
        "grad_b": _grad("grad_b", "r = X @ w + b - y\nreturn 2 * torch.sum(r) / len(y)")},
        {"grad_b": "broadcast_column"}, 10.0),
    "jonas": ("grad_b: multiplies by X (returns dC/dw)", {
        "grad_b": _grad("grad_b", R + "return 2 * X.T @ r / len(y)")}, {"grad_b": "returns_grad_w"}, 10.0),
    "karla": ("grad_b: one value per instance", {"grad_b": _grad("grad_b", R + "return 2 * r / len(y)")},
              {"grad_b": "per_instance"}, 10.0),
    "lars": ("grad_b: returns the cost", {"grad_b": _grad("grad_b", R + "return torch.mean(r ** 2)")},
             {"grad_b": "returns_cost"}, 10.0),
    # --- minibatch_sgd's mistakes (an order or batch mistake cannot show in one full batch: its 1 point stays) --
    "mila": ("minibatch_sgd: no shuffle", {"minibatch_sgd": _sgd({
        "order = torch.randperm(n, generator=generator)": "order = torch.arange(n)"})},
        {"minibatch_sgd": "no_shuffle"}, 9.0),
    "nils": ("minibatch_sgd: the generator re-seeded every epoch", {"minibatch_sgd": _sgd({
        "        order = torch.randperm(n, generator=generator)":
        "        generator = torch.Generator().manual_seed(seed)\n"
        "        order = torch.randperm(n, generator=generator)"})},
        {"minibatch_sgd": "reseeded_shuffle"}, 9.0),
    "oskar": ("minibatch_sgd: its own gradient, divided by n instead of the batch size", {"minibatch_sgd": _sgd({
        "            g_w = grad_w(X[batch], y[batch], w, b)\n            g_b = grad_b(X[batch], y[batch], w, b)\n":
        "            r = X[batch] @ w.reshape(-1) + b - y[batch]\n"
        "            g_w = 2 * X[batch].T @ r / n\n            g_b = 2 * torch.sum(r) / n\n"})},
        {"minibatch_sgd": "divides_by_n"}, 9.0),
    "petra": ("minibatch_sgd: drops the last, shorter batch", {"minibatch_sgd": _sgd({
        "range(0, n, batch_size)": "range(0, n - batch_size + 1, batch_size)"})},
        {"minibatch_sgd": "drops_last_batch"}, 8.0),
    "quentin": ("minibatch_sgd: one full-batch step per epoch", {"minibatch_sgd": '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    for epoch in range(epochs):
        g_w, g_b = grad_w(X, y, w, b), grad_b(X, y, w, b)
        w = w - lr * g_w.reshape(w.shape)
        b = b - lr * g_b
    return w, b
'''}, {"minibatch_sgd": "ignores_batch_size"}, 9.0),
    "rosa": ("minibatch_sgd: updates w before b's gradient", {"minibatch_sgd": _sgd({
        "            g_b = grad_b(X[batch], y[batch], w, b)\n            w = w - lr * g_w.reshape(w.shape)\n":
        "            w = w - lr * g_w.reshape(w.shape)\n            g_b = grad_b(X[batch], y[batch], w, b)\n"})},
        {"minibatch_sgd": "sequential_update"}, 8.0),
    "stefan": ("minibatch_sgd: gradient ascent", {"minibatch_sgd": _sgd({
        "w = w - lr * g_w": "w = w + lr * g_w", "b = b - lr * g_b": "b = b + lr * g_b"})},
        {"minibatch_sgd": "gradient_ascent"}, 8.0),
    "tilda": ("minibatch_sgd: no learning rate", {"minibatch_sgd": _sgd({
        "w = w - lr * g_w": "w = w - g_w", "b = b - lr * g_b": "b = b - g_b"})},
        {"minibatch_sgd": "missing_lr"}, 8.0),
    "ulrich": ("minibatch_sgd: one epoch too many", {"minibatch_sgd": _sgd({
        "range(epochs)": "range(epochs + 1)"})}, {"minibatch_sgd": "extra_epoch"}, 8.0),
    "viola": ("minibatch_sgd: one epoch too few", {"minibatch_sgd": _sgd({
        "range(epochs)": "range(1, epochs)"})}, {"minibatch_sgd": "missing_epoch"}, 8.0),
    "willem": ("minibatch_sgd: computes the steps but returns the start", {"minibatch_sgd": _sgd({
        "            w = w - lr * g_w.reshape(w.shape)\n            b = b - lr * g_b\n":
        "            new_w = w - lr * g_w.reshape(w.shape)\n            new_b = b - lr * g_b\n"})},
        {"minibatch_sgd": "unchanged"}, 8.0),
    "yusuf": ("minibatch_sgd: w of shape (d, 1) minus a gradient of shape (d,) broadcasts to (d, d)", {
        "minibatch_sgd": _sgd({"w = w - lr * g_w.reshape(w.shape)": "w = w - lr * g_w"})},
        {"minibatch_sgd": "broadcast_square"}, 8.0),
    # --- max_stable_lr's mistakes ----------------------------------------------------------------------
    "astrid": ("max_stable_lr: the Hessian without its 2/n", {"max_stable_lr": RATE_HEAD + (
        "    return 2 / torch.linalg.eigvalsh(A.T @ A)[-1]\n")},
        {"max_stable_lr": "hessian_without_2_over_n"}, 11.0),
    "bruno": ("max_stable_lr: the Hessian without its 2", {"max_stable_lr": RATE_HEAD + (
        "    return 2 / torch.linalg.eigvalsh(A.T @ A / n)[-1]\n")},
        {"max_stable_lr": "hessian_missing_two"}, 11.0),
    "cosima": ("max_stable_lr: the Hessian without its 1/n", {"max_stable_lr": RATE_HEAD + (
        "    return 2 / torch.linalg.eigvalsh(2 * A.T @ A)[-1]\n")},
        {"max_stable_lr": "hessian_without_mean"}, 11.0),
    "dario": ("max_stable_lr: 1 / lambda_max", {"max_stable_lr": RATE_HEAD + (
        "    return 1 / torch.linalg.eigvalsh(2 / n * A.T @ A)[-1]\n")},
        {"max_stable_lr": "one_over_lambda"}, 11.0),
    "edith": ("max_stable_lr: the Hessian of w alone", {"max_stable_lr": (
        "def max_stable_lr(X):\n    return 2 / torch.linalg.eigvalsh(2 / len(X) * X.T @ X)[-1]\n")},
        {"max_stable_lr": "hessian_without_bias"}, 11.0),
    "fritz": ("max_stable_lr: the smallest eigenvalue", {"max_stable_lr": RATE_HEAD + (
        "    return 2 / torch.linalg.eigvalsh(2 / n * A.T @ A)[0]\n")},
        {"max_stable_lr": "lambda_min"}, 11.0),
    "greta": ("max_stable_lr: returns lambda_max", {"max_stable_lr": RATE_HEAD + (
        "    return torch.linalg.eigvalsh(2 / n * A.T @ A)[-1]\n")},
        {"max_stable_lr": "returns_lambda_max"}, 11.0),
    "henrik": ("max_stable_lr: the trace instead of lambda_max", {"max_stable_lr": RATE_HEAD + (
        "    return 2 / torch.trace(2 / n * A.T @ A)\n")},
        {"max_stable_lr": "trace_instead"}, 11.0),
    # --- nothing written, a crash, an endless loop -------------------------------------------------------
    "ingrid": ("untouched stubs", {"grad_w": None, "grad_b": None, "minibatch_sgd": None, "max_stable_lr": None},
               {"grad_w": "not_implemented", "grad_b": "not_implemented", "minibatch_sgd": "not_implemented",
                "max_stable_lr": "not_implemented"}, 0.0),
    "jakob": ("a crash: grad_b indexes past the end", {"grad_b": _grad("grad_b", (
        R + "return 2 * (torch.sum(r) + r[len(y)]) / len(y)"))}, {"grad_b": "error"}, 10.0),
    "konrad": ("an endless loop in minibatch_sgd", {"minibatch_sgd": '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    epoch = 0
    while epoch < epochs:
        w = w - lr * grad_w(X, y, w, b).reshape(w.shape)
    return w, b
'''}, {"minibatch_sgd": "timeout"}, 8.0),
}
