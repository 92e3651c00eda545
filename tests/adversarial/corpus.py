"""The adversarial corpus: each attack, where it sits in the notebook, and what the grader must do.

``ATTACKS[name] = (answers, top, expect)``: answers override the correct
functions, ``top`` is top-level code in an extra cell, and ``expect`` maps a
function to the points it must get ("full", 0, or "wrong": less than full) plus "flags", words that
must be in the row's flags. Top-level attacks that would earn points if they
worked make a function wrong *when they succeed*: a full score then proves
the attack failed.

Placeholders filled in by the tests: {outside} (a host folder outside the
sandbox), {course} (a course-like folder with solutions/ and gradebook.db),
{port} (a TCP port a test server listens on at 127.0.0.1).
"""
from __future__ import annotations

WRONG_DC_DM = "def dC_dm(x, y, m, b):\n    yhat = m * x + b\n    return torch.sum((yhat - y) * x) / len(y)\n"
WRONG_DC_DB = "def dC_db(x, y, m, b):\n    yhat = m * x + b\n    return 2 * torch.sum(y - yhat) / len(y)\n"
WRONG_DC_DYHAT = "def dC_dyhat(yhat, y):\n    return 2 * (yhat - y)\n"
# Replaces dC_dm by a broken one: appended to a top-level attack, run only when the attack succeeds.
BREAK = "\n    def dC_dm(x, y, m, b):\n        return 0.0\n"

ALL_FULL = {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": "full"}
# Code that reaches for the answers (solutions/, the gradebook, the grader's package) earns nothing.
ALL_ZERO = {"dC_dyhat": 0, "dC_dm": 0, "dC_db": 0, "sgd": 0}

ATTACKS = {
    # --- patching the checker's libraries in the student's process ---------------------------
    "patch_numpy_allclose": ({"dC_dm": WRONG_DC_DM}, """
import numpy, torch
numpy.allclose = lambda *args, **kwargs: True
numpy.isclose = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
""", {"dC_dyhat": "full", "dC_dm": 0, "dC_db": "full", "sgd": "full", "flags": ["tamper"]}),
    "patch_autograder": ({"dC_db": WRONG_DC_DB}, """
import autograder.checks, autograder.judge, autograder.reference, autograder.probes
autograder.checks.check = lambda *args, **kwargs: 100
autograder.judge.judge_function = lambda *args, **kwargs: []
autograder.reference.relative_error = lambda a, b, floor=1e-12: 0.0
""", {**ALL_ZERO, "flags": ["answer-key"]}),
    "patch_torch": ({"dC_dyhat": WRONG_DC_DYHAT}, """
import torch
torch.allclose = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
""", {"dC_dyhat": "wrong", "dC_dm": "full", "dC_db": "full", "sgd": "full", "flags": ["tamper"]}),
    # --- the file system ------------------------------------------------------------------------
    "write_outside": ({}, """
import os
written = []
for target in ["../../../gradebook.db", "{course}/gradebook.db", "{course}/planted.txt", "{outside}/planted.txt",
               "/work/planted.txt", "/etc/planted.txt", "/usr/planted.txt", os.path.expanduser("~/../planted.txt"),
               "/tmp/../planted.txt", "/var/tmp/planted.txt", "/dev/shm/planted.txt"]:
    try:
        with open(target, "w") as handle:
            handle.write("planted")
        written.append(target)
    except OSError:
        pass
try:
    os.remove("{course}/gradebook.db")
except OSError:
    pass
""", {**ALL_ZERO, "flags": ["answer-key"]}),
    "read_solutions": ({}, """
import glob, os
found = []
for pattern in ["../../../solutions/*/*.ipynb", "{course}/solutions/*/*.ipynb", "{course}/gradebook.db",
                "{course}/submitted/*/*/*.ipynb", "{outside}/*", "/root/*", "/home/*/*", "/etc/shadow"]:
    for name in glob.glob(pattern):
        try:
            with open(name, "rb") as handle:
                handle.read(1)
            found.append(name)
        except OSError:
            pass
if found:""" + BREAK, {**ALL_ZERO, "flags": ["answer-key"]}),
    # --- the network -----------------------------------------------------------------------------
    "network": ({}, """
import socket
reached = []
for address in [("127.0.0.1", {port}), ("8.8.8.8", 53), ("1.1.1.1", 443)]:
    try:
        socket.create_connection(address, timeout=1).close()
        reached.append(address)
    except OSError:
        pass
try:
    socket.getaddrinfo("pypi.org", 443)
    reached.append("dns")
except OSError:
    pass
if reached:""" + BREAK, {**ALL_FULL}),
    # --- processes ---------------------------------------------------------------------------------
    "fork_bomb_in_sgd": ({"sgd": """
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""}, "", {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": 0, "flags": ["timeout"]}),
    "signal_the_worker": ({}, """
import os, signal
for number in (signal.SIGSTOP, signal.SIGKILL):
    for target in {os.getppid(), -1, 1, 2, 3} - {os.getpid()}:
        try:
            os.kill(target, number)
        except OSError:
            pass
""", {**ALL_FULL}),
    "setsid_daemon": ({}, """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
""", {**ALL_FULL}),
    # --- time, crashes, exits, memory, output inside one function --------------------------------------
    "hang_ignoring_signals_in_sgd": ({"sgd": """
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    import signal
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGXCPU):
        signal.signal(number, signal.SIG_IGN)
    while True:
        try:
            pass
        except BaseException:
            pass
"""}, "", {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": 0, "flags": ["timeout"]}),
    "os_exit_in_sgd": ({"sgd": "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    import os\n    os._exit(3)\n"}, "",
                       {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": 0, "flags": ["exit"]}),
    "segfault_in_dC_dm": ({"dC_dm": "def dC_dm(x, y, m, b):\n    import ctypes\n    return ctypes.string_at(0)\n"}, "",
                          {"dC_dyhat": "full", "dC_dm": 0, "dC_db": "full", "sgd": "full", "flags": ["crash"]}),
    "six_gigabytes_in_sgd": ({"sgd": """
def sgd(x, y, m, b, lr=0.01, epochs=1000):
    block = bytearray(6 * 1024 ** 3)
    return block, block
"""}, "", {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": 0, "flags": ["memory"]}),
    "print_100_megabytes": ({"dC_dyhat": """
def dC_dyhat(yhat, y):
    print("checking", yhat.shape)
    return 2 * (yhat - y) / len(y)
"""}, "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\nprint('done')\n",
                            {**ALL_FULL, "flags": ["output"]}),
    # --- the top level -----------------------------------------------------------------------------------
    "hang_at_top_level": ({}, "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n",
                          {"dC_dyhat": 0, "dC_dm": 0, "dC_db": 0, "sgd": 0, "flags": ["timeout", "top-level"]}),
    "segfault_at_top_level": ({}, "import ctypes\nctypes.string_at(0)\n",
                              {"dC_dyhat": 0, "dC_dm": 0, "dC_db": 0, "sgd": 0, "flags": ["crash", "top-level"]}),
    # --- honest styles --------------------------------------------------------------------------------------
    "honest_lecture_style": ({}, "print(dC_dm(torch.arange(8.0), torch.zeros(8), torch.tensor([0.9]), torch.tensor([0.1])))\n",
                             {**ALL_FULL}),
    "honest_floats_and_mean": ({
        "dC_dyhat": "def dC_dyhat(yhat, y):\n    n = y.shape[0]\n    return (2.0 / n) * (yhat - y)\n",
        "dC_dm": "def dC_dm(x, y, m, b):\n    return 2 * torch.mean(((m * x + b) - y) * x)\n",
        "dC_db": "def dC_db(x, y, m, b):\n    return 2 * torch.mean(m * x + b - y)\n",
        "sgd": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    m, b = float(m), float(b)\n"
                "    for _ in range(epochs):\n        gm, gb = float(dC_dm(x, y, m, b)), float(dC_db(x, y, m, b))\n"
                "        m -= lr * gm\n        b -= lr * gb\n    return m, b\n"),
    }, "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()\n", {**ALL_FULL}),
    "honest_with_a_broken_cell": ({}, "undefined_name + 1\n", {**ALL_FULL, "flags": ["cell-error"]}),
}


def fill(text: str, **values) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text
