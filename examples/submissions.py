"""The sample class: one submission per style or mistake.

Each student's answers replace the released stubs; a function not named
keeps the correct answer below (so each mistaken sample shows one mistake,
and the demo shows that it costs only that function's points). ``None``
leaves the released stub untouched.
"""

CORRECT = {
    "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    return 2 * (yhat - y) / len(y)
''',
    "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.sum((yhat - y) * x) / len(y)
''',
    "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.sum(yhat - y) / len(y)
''',
    "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs):
        grad_m = dC_dm(x, y, m, b)
        grad_b = dC_db(x, y, m, b)
        m = m - lr * grad_m
        b = b - lr * grad_b
    return m, b
''',
}

# student id -> (what the sample shows, {function: source or None}, {function: mistake id the
# feedback must name}). A function with no expected mistake must earn full marks.
STUDENTS = {
    "ada": ("correct, written like the lecture", {}, {}),
    "grace": ("correct, with torch.mean and in-place updates on floats", {
        "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    n = y.shape[0]
    return (2.0 / n) * (yhat - y)
''',
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    residual = (m * x + b) - y
    return 2 * torch.mean(residual * x)
''',
        "dC_db": '''\
def dC_db(x, y, m, b):
    return 2 * torch.mean(m * x + b - y)
''',
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    m, b = float(m), float(b)
    for _ in range(epochs):
        step_m, step_b = float(dC_dm(x, y, m, b)), float(dC_db(x, y, m, b))
        m -= lr * step_m
        b -= lr * step_b
    return m, b
''',
    }, {}),
    "alan": ("correct, with numpy and an explicit loop over instances", {
        "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    n = len(y)
    return torch.stack([2 * (yhat[i] - y[i]) / n for i in range(n)])
''',
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    import numpy as np
    x_, y_ = x.double().numpy(), y.double().numpy()
    m_, b_ = float(m), float(b)
    return float(np.mean(2 * (m_ * x_ + b_ - y_) * x_))
''',
        "dC_db": '''\
def dC_db(x, y, m, b):
    total = 0.0
    for xi, yi in zip(x.tolist(), y.tolist()):
        total += 2 * (float(m) * xi + float(b) - yi)
    return total / len(x)
''',
    }, {}),
    "barbara": ("forgot the factor 2 in dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return torch.sum((yhat - y) * x) / len(y)
''',
    }, {'dC_dm': 'missing_two'}),
    "charles": ("summed instead of averaging in dC/dyhat", {
        "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    return 2 * (yhat - y)
''',
    }, {'dC_dyhat': 'missing_mean'}),
    "donald": ("sign flipped in dC/db", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.sum(y - yhat) / len(y)
''',
    }, {'dC_db': 'sign_flipped'}),
    "edsger": ("dC/dm without the x from the chain rule", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.mean(yhat - y)
''',
    }, {'dC_dm': 'missing_x'}),
    "frances": ("dC/db with an x", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.mean((yhat - y) * x)
''',
    }, {'dC_db': 'has_x'}),
    "guido": ("per-instance vector instead of a sum in dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return 2 * (yhat - y) * x / len(y)
''',
    }, {'dC_dm': 'per_instance'}),
    "hedy": ("shape (n, 1) against (n,): broadcast to n x n in dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = (m * x + b).reshape(-1, 1)
    return 2 * torch.mean((yhat - y) * x) * len(y)
''',
    }, {'dC_dm': 'broadcast_n_by_n'}),
    "ivan": ("autograd inside dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    m = torch.tensor(float(m), dtype=x.dtype, requires_grad=True)
    cost = torch.mean((m * x + b - y) ** 2)
    cost.backward()
    return m.grad
''',
    }, {'dC_dm': 'autograd'}),
    "john": ("off-by-one epoch count in sgd", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs + 1):
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m = m - lr * grad_m
        b = b - lr * grad_b
    return m, b
''',
    }, {'sgd': 'off_by_one_more'}),
    "katherine": ("updates m before computing b's gradient", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs):
        m = m - lr * dC_dm(x, y, m, b)
        b = b - lr * dC_db(x, y, m, b)
    return m, b
''',
    }, {'sgd': 'sequential_update'}),
    "linus": ("gradient ascent", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs):
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m = m + lr * grad_m
        b = b + lr * grad_b
    return m, b
''',
    }, {'sgd': 'gradient_ascent'}),
    "margaret": ("hard-coded the lecture's end point", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    return -0.4681258499622345, 1.7542961835861206
''',
    }, {'sgd': 'hard_coded'}),
    "niklaus": ("closed-form least squares instead of descent", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    A = torch.stack([x, torch.ones_like(x)], dim=1).double()
    solution = torch.linalg.lstsq(A, y.double().unsqueeze(1)).solution
    return solution[0, 0].item(), solution[1, 0].item()
''',
    }, {'sgd': 'closed_form'}),
    "olga": ("missing learning rate in the update", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs):
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m = m - grad_m
        b = b - grad_b
    return m, b
''',
    }, {'sgd': 'missing_lr'}),
    "peter": ("untouched stubs", {"dC_dyhat": None, "dC_dm": None, "dC_db": None, "sgd": None}, {'dC_dyhat': 'not_implemented', 'dC_dm': 'not_implemented', 'dC_db': 'not_implemented', 'sgd': 'not_implemented'}),
    "radia": ("a crash: dC/db indexes past the end", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * sum((yhat[i] - y[i]) for i in range(len(y) + 1)) / len(y)
''',
    }, {'dC_db': 'error'}),
    "shafi": ("an infinite loop in sgd", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    epoch = 0
    while epoch < epochs:
        m = m - lr * dC_dm(x, y, m, b)
        b = b - lr * dC_db(x, y, m, b)
    return m, b
''',
    }, {'sgd': 'timeout'}),
    "ken": ("NaN from a division by zero in dC/db", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.sum(yhat - y) / (len(y) - len(x))
''',
    }, {'dC_db': 'not_finite'}),
    "mary": ("forgot the return in dC/dyhat", {
        "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    gradient = 2 * (yhat - y) / len(y)
''',
    }, {'dC_dyhat': 'returns_none'}),
    "nat": ("dC/db returns a list", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    return [2 * torch.sum(m * x + b - y).item() / len(y)]
''',
    }, {'dC_db': 'wrong_type'}),
    "pat": ("divides by n twice in dC/db", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    n = len(y)
    return 2 / n * torch.mean(m * x + b - y)
''',
    }, {'dC_db': 'double_mean'}),
    "leslie": ("correct, computing in float32 (x.float(), numpy float32) and returning torch.stack([m, b])", {
        "dC_dyhat": '''\
def dC_dyhat(yhat, y):
    return 2 * (yhat.float() - y.float()) / len(y)
''',
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    import numpy as np
    x_, y_ = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    m_, b_ = np.float32(float(m)), np.float32(float(b))
    return 2 * np.mean((m_ * x_ + b_ - y_) * x_)
''',
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x.float() + b
    return 2 * torch.mean(yhat - y.float())
''',
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    x, y = x.float(), y.float()
    m, b = torch.tensor(float(m)), torch.tensor(float(b))
    for epoch in range(epochs):
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m, b = m - lr * grad_m, b - lr * grad_b
    return torch.stack([m, b])
''',
    }, {}),
    "robin": ("integer division in dC/dm: 2 // len(y)", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return 2 // len(y) * torch.sum((yhat - y) * x)
''',
    }, {'dC_dm': 'integer_division'}),
    "sophie": ("divides by n - 1 in dC/db", {
        "dC_db": '''\
def dC_db(x, y, m, b):
    yhat = m * x + b
    return 2 * torch.sum(yhat - y) / (len(y) - 1)
''',
    }, {'dC_db': 'n_minus_one'}),
    "tony": ("m and b swapped in the prediction in dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = b * x + m
    return 2 * torch.sum((yhat - y) * x) / len(y)
''',
    }, {'dC_dm': 'swapped_m_b'}),
    "vint": ("dC/db reads the notebook's x and y instead of its arguments", {
        "dC_db": '''\
def dC_db(inputs, targets, m, b):
    yhat = m * x + b
    return 2 * torch.sum(yhat - y) / len(y)
''',
    }, {'dC_db': 'global_data'}),
    "whitfield": ("the 2 missing and the sign flipped in dC/dm", {
        "dC_dm": '''\
def dC_dm(x, y, m, b):
    yhat = m * x + b
    return torch.sum((y - yhat) * x) / len(y)
''',
    }, {'dC_dm': 'missing_two+sign_flipped'}),
    "yukihiro": ("sgd returns m, b and the costs", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    costs = []
    for epoch in range(epochs):
        costs.append(float(torch.mean((m * x + b - y) ** 2)))
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m, b = m - lr * grad_m, b - lr * grad_b
    return m, b, costs
''',
    }, {'sgd': 'pair_length'}),
    "hal": ("sgd computes its gradient inline (correct, with a note)", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    n = len(y)
    for epoch in range(epochs):
        residual = m * x + b - y
        m = m - lr * 2 * torch.sum(residual * x) / n
        b = b - lr * 2 * torch.sum(residual) / n
    return m, b
''',
    }, {}),
    "brian": ("sgd descends on the notebook's x and y", {
        "sgd": '''\
def sgd(x_train, y_train, m, b, lr=0.01, epochs=1000):
    for epoch in range(epochs):
        grad_m, grad_b = dC_dm(x, y, m, b), dC_db(x, y, m, b)
        m, b = m - lr * grad_m, b - lr * grad_b
    return m, b
''',
    }, {'sgd': 'sgd_global_data'}),
    "tim": ("a kernel crash: sgd aborts the process", {
        "sgd": '''\
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    import os
    os.abort()
''',
    }, {'sgd': 'crash'}),

}
