"""autograder.source: what the grader reads in a submission's code, and which function each finding costs.

Notebooks here are the release's own setup cell (cell 1), one answer cell per
function (cells 2-5: dC_dyhat, dC_dm, dC_db, sgd; the correct answers unless a
test replaces one) and any extra cells (6 on). sgd calls dC_dm and dC_db, so
it carries their findings too: a function's code includes what it calls.
"""
from __future__ import annotations

import ast
import json
import time

import pytest

from autograder import course, source, spec
from autograder.notebook import answer_cells
from autograder.source import Analysis, Finding, Note, analyse
from examples.submissions import CORRECT, STUDENTS

GRADIENT_FUNCTIONS = ("dC_dyhat", "dC_dm", "dC_db")
RELEASE = course.release_path(course.ROOT)
SOLUTION = course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK
SETUP = answer_cells(RELEASE)[0]
SAMPLES = sorted((course.ROOT / "examples" / "class").glob(f"*/{spec.ASSIGNMENT}/{spec.NOTEBOOK}"))

# dC_dm with autograd, the way a student who skipped the derivation writes it.
AUTOGRAD_DC_DM = '''\
def dC_dm(x, y, m, b):
    slope = torch.tensor(float(m), dtype=x.dtype, requires_grad=True)
    torch.mean((slope * x + b - y) ** 2).backward()
    return slope.grad
'''


def notebook(*extra_cells: str, **answers: str) -> list[str]:
    return [SETUP, *(answers.get(name, CORRECT[name]) for name in spec.FUNCTIONS), *extra_cells]


def read(cells: list) -> Analysis:
    return analyse(cells, spec.FUNCTIONS, GRADIENT_FUNCTIONS)


def charged(analysis: Analysis, kind: str) -> set:
    """The functions (None: the whole notebook) with a finding of that kind."""
    return {finding.function for finding in analysis.findings if finding.kind == kind}


# --- honest work ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.parts[-3])
def test_sample_class_findings_are_exactly_the_autograd_mistakes(path):
    _, _, mistakes = STUDENTS[path.parts[-3]]
    expected = {(function, "autograd") for function, mistake in mistakes.items() if mistake == "autograd"}
    analysis = read(answer_cells(path))
    assert {(finding.function, finding.kind) for finding in analysis.findings} == expected
    assert analysis.notes == []


def test_sample_class_holds_an_autograd_mistake_and_every_other_sample():
    assert len(SAMPLES) == len(STUDENTS)
    assert any("autograd" in mistakes.values() for _, _, mistakes in STUDENTS.values())


@pytest.mark.parametrize("path", [RELEASE, SOLUTION], ids=["release", "solution"])
def test_release_and_solution_notebooks_have_no_findings(path):
    assert read(answer_cells(path)) == Analysis()


def test_the_data_module_is_allowed_only_because_it_is_listed():
    assert analyse([SETUP], spec.FUNCTIONS, GRADIENT_FUNCTIONS).findings == []
    analysis = analyse([SETUP], spec.FUNCTIONS, GRADIENT_FUNCTIONS, allowed_modules=())
    assert charged(analysis, "answer-key") == {None}
    assert analysis.findings[0].found == "autograder.data"


def test_names_read_from_the_allowed_module_are_allowed_and_its_namespace_is_not():
    allowed = ("import autograder.data as d\nimport autograder.data\n\n\ndef dC_dm(x, y, m, b):\n"
               "    xs, ys = d.lecture_data(autograder.data.torch.float64)\n"
               "    return 2 * torch.mean((m * x + b - y) * x) + 0 * d.M_START\n")
    assert read(notebook(dC_dm=allowed)).findings == []
    snooping = "import autograder.data as d\n\n\ndef dC_dm(x, y, m, b):\n    return d.__dict__['torch']\n"
    assert charged(read(notebook(dC_dm=snooping)), "review") == {"dC_dm", "sgd"}


def test_allowed_modules_can_allow_one_name_and_nothing_beside_it():
    copied_check = "from autograder.checks import check\ncheck('dC_dm_lecture_data')\n"
    assert charged(read(notebook(copied_check)), "answer-key") == {None}
    allowed = ("autograder.data", "autograder.checks.check")
    assert analyse(notebook(copied_check), spec.FUNCTIONS, GRADIENT_FUNCTIONS, allowed).findings == []
    beside = "from autograder.checks import reference\nreference.mse\n"
    assert charged(analyse(notebook(beside), spec.FUNCTIONS, GRADIENT_FUNCTIONS, allowed), "answer-key") == {None}


HONEST_STYLES = {
    "constant getattr": "def dC_dm(x, y, m, b):\n    n = getattr(x, 'shape')[0]\n"
                        "    return 2 * torch.sum((m * x + b - y) * x) / n\n",
    "a local named like a builtin": "def dC_dm(x, y, m, b):\n    vars = (m, b)\n"
                                    "    return 2 * torch.mean((vars[0] * x + vars[1] - y) * x)\n",
    "annotations": "def dC_dm(x: torch.Tensor, y: torch.Tensor, m, b) -> torch.Tensor:\n"
                   "    return 2 * torch.mean((m * x + b - y) * x)\n",
    "requires_grad=False": "def dC_dm(x, y, m, b):\n    m = torch.tensor(float(m), requires_grad=False)\n"
                           "    return 2 * torch.mean((m * x + b - y) * x)\n",
    "no_grad": "@torch.no_grad()\ndef dC_dm(x, y, m, b):\n    with torch.no_grad():\n"
               "        return 2 * torch.mean((m * x + b - y) * x)\n",
    "a helper class": "class Line:\n    def __init__(self, m, b):\n        self.m, self.b = m, b\n\n"
                      "    def __call__(self, x):\n        return self.m * x + self.b\n\n\n"
                      "def dC_dm(x, y, m, b):\n    return 2 * torch.mean((Line(m, b)(x) - y) * x)\n",
    "prose with slashes": "def dC_dm(x, y, m, b):\n"
                          "    \"\"\"dC/dm = 2/n sum (y_hat - y) x; see the solutions in the lecture.\"\"\"\n"
                          "    return 2 * torch.mean((m * x + b - y) * x)\n",
}


@pytest.mark.parametrize("code", HONEST_STYLES.values(), ids=HONEST_STYLES)
def test_honest_styles_have_no_findings(code):
    checks = "print(dC_dm(x, y, m, b))\nimport matplotlib.pyplot as plt\nplt.plot(*sgd(x, y, m, b))\n"
    assert read(notebook(checks, dC_dm=code)).findings == []


# --- the answer key ----------------------------------------------------------------------------------

ANSWER_KEY_IN_DC_DM = {
    "plain import": "from autograder.reference import dC_dm\n",
    "aliased module at the top level": "import autograder.reference as r\n\ndC_dm = r.dC_dm\n",
    "inside a helper": "def helper(x, y, m, b):\n    from autograder import reference\n"
                       "    return reference.dC_dm(x, y, m, b)\n\n\n"
                       "def dC_dm(x, y, m, b):\n    return helper(x, y, m, b)\n",
    "__import__ of a built name": "def dC_dm(x, y, m, b):\n"
                                  "    module = __import__('auto' + 'grader.reference', fromlist=['dC_dm'])\n"
                                  "    return module.dC_dm(x, y, m, b)\n",
    "importlib": "import importlib\n\n\ndef dC_dm(x, y, m, b):\n"
                 "    return importlib.import_module('autograder.reference').dC_dm(x, y, m, b)\n",
    "sys.modules": "import sys\n\n\ndef dC_dm(x, y, m, b):\n"
                   "    return sys.modules['autograder.reference'].dC_dm(x, y, m, b)\n",
    "the data module, then reference": "import autograder.data\n\n\ndef dC_dm(x, y, m, b):\n"
                                       "    return autograder.reference.dC_dm(x, y, m, b)\n",
    "the judge": "from autograder.judge import judge_function\n\n\ndef dC_dm(x, y, m, b):\n"
                 "    return judge_function\n",
    "builtins.__import__": "import builtins\n\n\ndef dC_dm(x, y, m, b):\n"
                           "    return builtins.__import__('math').fsum([0.0])\n",
    "runpy": "import runpy\n\n\ndef dC_dm(x, y, m, b):\n"
             "    return runpy.run_module('reference')['dC_dm'](x, y, m, b)\n",
    "a relative import": "def dC_dm(x, y, m, b):\n    from . import reference\n"
                         "    return reference.dC_dm(x, y, m, b)\n",
    "the solutions notebook": "def dC_dm(x, y, m, b):\n"
                              "    text = open('../../../solutions/mse-gradient/mse_gradient.ipynb').read()\n"
                              "    return 0.0\n",
}


@pytest.mark.parametrize("code", ANSWER_KEY_IN_DC_DM.values(), ids=ANSWER_KEY_IN_DC_DM)
def test_answer_key_in_dC_dm_costs_dC_dm_and_sgd_which_calls_it(code):
    analysis = read(notebook(dC_dm=code))
    assert charged(analysis, "answer-key") == {"dC_dm", "sgd"}
    assert {finding.kind for finding in analysis.findings} == {"answer-key"}


def test_answer_key_confined_to_one_function_costs_only_that_function():
    analysis = read(notebook(dC_dyhat="from autograder.reference import dC_dyhat\n"))
    assert charged(analysis, "answer-key") == {"dC_dyhat"}
    assert all(analysis.kinds(name) == set() for name in ("dC_dm", "dC_db", "sgd"))


def test_answer_key_reason_names_the_function_what_it_reached_and_the_cost():
    [finding, _] = read(notebook(dC_dm="from autograder.reference import dC_dm\n")).findings
    assert finding == Finding("answer-key", "dC_dm", "dC_dm imports autograder.reference, the grader's own code "
                              "and answers; this function earns no points.", "cell 3, line 1", "autograder.reference")


def test_a_finding_in_a_helper_says_which_helper_and_points_at_it():
    code = ANSWER_KEY_IN_DC_DM["inside a helper"]
    [finding] = read(notebook(dC_dm=code)).for_function("dC_dm")
    assert finding.reason.startswith("dC_dm, through helper, imports autograder.reference")
    assert finding.where == "cell 3, line 2"


def test_a_long_chain_of_helpers_is_named_by_its_first_steps():
    helpers = "".join(f"def step{n}():\n    return step{n + 1}()\n\n\n" for n in range(1, 6))
    helpers += "def step6():\n    return eval('0')\n"
    [finding, _] = read(notebook(helpers, dC_db="def dC_db(x, y, m, b):\n    return step1()\n")).findings
    assert finding.reason.startswith("dC_db, through step1 then step2 then 4 more, runs code made from text")
    assert finding.where == "cell 6, line 22"


# While sgd is checked, the grader's dC_dm and dC_db stand in for the student's.
SGD_STAND_INS = {"sgd": ("dC_dm", "dC_db")}


def test_what_the_grader_stands_in_for_is_not_the_function_s_code():
    for code in (ANSWER_KEY_IN_DC_DM["plain import"], ANSWER_KEY_IN_DC_DM["inside a helper"]):
        analysis = analyse(notebook(dC_dm=code), spec.FUNCTIONS, GRADIENT_FUNCTIONS, stand_ins=SGD_STAND_INS)
        assert charged(analysis, "answer-key") == {"dC_dm"}, code


def test_a_stand_in_name_read_through_a_helper_is_replaced_too():
    helper = "def both(x, y, m, b):\n    return dC_dm(x, y, m, b), dC_db(x, y, m, b)\n"
    code = ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    for _ in range(epochs):\n"
            "        grad_m, grad_b = both(x, y, m, b)\n        m, b = m - lr * grad_m, b - lr * grad_b\n"
            "    return m, b\n")
    cells = notebook(helper, dC_dm=ANSWER_KEY_IN_DC_DM["plain import"], sgd=code)
    analysis = analyse(cells, spec.FUNCTIONS, GRADIENT_FUNCTIONS, stand_ins=SGD_STAND_INS)
    assert charged(analysis, "answer-key") == {"dC_dm"}


def test_a_stand_in_name_captured_before_the_check_is_still_the_student_s():
    code = ("def sgd(x, y, m, b, lr=0.01, epochs=1000, gradient=dC_dm):\n"
            "    for _ in range(epochs):\n        m = m - lr * gradient(x, y, m, b)\n    return m, b\n")
    cells = notebook(dC_dm=ANSWER_KEY_IN_DC_DM["inside a helper"], sgd=code)
    analysis = analyse(cells, spec.FUNCTIONS, GRADIENT_FUNCTIONS, stand_ins=SGD_STAND_INS)
    assert charged(analysis, "answer-key") == {"dC_dm", "sgd"}


def test_answer_key_used_by_top_level_code_costs_every_function():
    top = "import autograder.reference as r\nprint(r.dC_dm(x, y, m, b))\n"
    analysis = read(notebook(top))
    assert charged(analysis, "answer-key") == {None}
    assert all("answer-key" in analysis.kinds(name) for name in spec.FUNCTIONS)
    assert analysis.findings[0].reason.startswith("Code at the notebook's top level uses autograder.reference")


def test_a_definition_that_calls_something_runs_at_the_top_level():
    assert read(notebook("import autograder.reference as r\n")).findings == []  # bound, never used
    analysis = read(notebook("r = __import__('autograder.reference')\n"))
    assert charged(analysis, "answer-key") == {None}


def test_a_star_import_from_the_answer_key_may_rebind_every_function():
    analysis = read(notebook("from autograder.reference import *\n"))
    assert charged(analysis, "answer-key") == set(spec.FUNCTIONS)


@pytest.mark.parametrize("write", ["torch.mean = r.mean", "r.TOLERANCE = 1.0", "vars(r)['mse'] = None",
                                   "setattr(r, 'mse', None)"])
def test_a_function_that_writes_outside_itself_spreads_its_answer_key_to_the_notebook(write):
    code = f"def dC_dm(x, y, m, b):\n    import autograder.reference as r\n    {write}\n    return 0.0\n"
    analysis = read(notebook(dC_dm=code))
    assert charged(analysis, "answer-key") == {None, "dC_dm", "sgd"}
    assert "dC_dm, which writes to objects outside itself" in analysis.findings[0].reason


def test_answer_key_in_a_function_the_top_level_calls_costs_every_function():
    analysis = read(notebook("print(dC_dm(x, y, m, b))\n", dC_dm=ANSWER_KEY_IN_DC_DM["inside a helper"]))
    assert charged(analysis, "answer-key") == {None, "dC_dm", "sgd"}
    assert analysis.findings[0].reason.startswith("Code at the notebook's top level, through dC_dm then helper,")


# --- review: code a judge cannot see through -----------------------------------------------------------

REVIEW_IN_DC_DB = {
    "getattr with a built name": "def dC_db(x, y, m, b):\n    engine = getattr(torch, 'auto' + 'grad')\n"
                                 "    return 2 * torch.mean(m * x + b - y)\n",
    "Variable._execution_engine": "from torch.autograd import Variable\n\n\ndef dC_db(x, y, m, b):\n"
                                  "    engine = Variable._execution_engine\n"
                                  "    return 2 * torch.mean(m * x + b - y)\n",
    "torch._C": "def dC_db(x, y, m, b):\n    torch._C._set_grad_enabled(True)\n"
                "    return 2 * torch.mean(m * x + b - y)\n",
    "from torch import _C": "from torch import _C\n\n\ndef dC_db(x, y, m, b):\n    _C._set_grad_enabled(True)\n"
                           "    return 2 * torch.mean(m * x + b - y)\n",
    "eval": "def dC_db(x, y, m, b):\n    return eval('2 * torch.mean(m * x + b - y)')\n",
    "exec": "def dC_db(x, y, m, b):\n    scope = {'torch': torch, 'x': x, 'y': y, 'm': m, 'b': b}\n"
            "    exec('g = 2 * torch.mean(m * x + b - y)', scope)\n    return scope['g']\n",
    "ctypes": "def dC_db(x, y, m, b):\n    import ctypes\n    ctypes.string_at(0)\n"
              "    return 2 * torch.mean(m * x + b - y)\n",
    "globals()": "def dC_db(x, y, m, b):\n    return globals()['dC_dm'](x, y, m, b) / x.mean()\n",
    "__class__.__bases__": "def dC_db(x, y, m, b):\n    kinds = ().__class__.__bases__[0].__subclasses__()\n"
                           "    return 2 * torch.mean(m * x + b - y)\n",
    "a frame's globals": "import sys\n\n\ndef dC_db(x, y, m, b):\n    caller = sys._getframe(1).f_globals\n"
                         "    return 2 * torch.mean(m * x + b - y)\n",
    "/proc": "def dC_db(x, y, m, b):\n    maps = open('/proc/self/maps').read()\n"
             "    return 2 * torch.mean(m * x + b - y)\n",
    "subprocess": "import subprocess\n\n\ndef dC_db(x, y, m, b):\n    subprocess.run(['true'])\n"
                  "    return 2 * torch.mean(m * x + b - y)\n",
    "pickle.loads": "import pickle\n\n\ndef dC_db(x, y, m, b):\n    return pickle.loads(b'')\n",
}


@pytest.mark.parametrize("code", REVIEW_IN_DC_DB.values(), ids=REVIEW_IN_DC_DB)
def test_dynamic_code_in_dC_db_asks_for_review_of_dC_db_and_sgd(code):
    analysis = read(notebook(dC_db=code))
    assert charged(analysis, "review") == {"dC_db", "sgd"}
    assert charged(analysis, "answer-key") == set()


def test_a_computed_getattr_name_that_folds_to_a_constant_is_also_read():
    analysis = read(notebook(dC_db=REVIEW_IN_DC_DB["getattr with a built name"]))
    assert analysis.kinds("dC_db") == {"review", "autograd"}
    assert {finding.found for finding in analysis.for_function("dC_db")} == {
        "getattr with a computed name", "torch.autograd"}


def test_a_getattr_the_student_defines_is_read_where_it_is_called():
    own_getattr = "def getattr(obj, name):\n    return eval('obj.' + name)\n"
    code = "def dC_db(x, y, m, b):\n    return 2 * torch.sum(m * x + b - y) / getattr(x, 'shape')[0]\n"
    analysis = read(notebook(own_getattr, dC_db=code))
    assert charged(analysis, "review") == {"dC_db", "sgd"}
    assert analysis.for_function("dC_db")[0].reason.startswith("dC_db, through getattr, runs code made from text")


def test_exec_at_the_top_level_or_in_what_it_calls_asks_for_review_of_the_notebook():
    for top in ("exec('dC_dm = None')\n", "def setup():\n    exec('dC_dm = None')\n\n\nsetup()\n"):
        analysis = read(notebook(top))
        assert charged(analysis, "review") == {None}, top
    assert "through setup" in analysis.findings[0].reason


def test_a_helper_with_exec_that_nothing_calls_costs_nothing():
    assert read(notebook("def unused():\n    exec('x = 1')\n")).findings == []


# --- autograd -------------------------------------------------------------------------------------------

AUTOGRAD_IN_DC_DM = {
    "backward directly": AUTOGRAD_DC_DM,
    "in a helper dC_dm calls": AUTOGRAD_DC_DM.replace("def dC_dm", "def slope_gradient")
    + "\n\ndef dC_dm(x, y, m, b):\n    return slope_gradient(x, y, m, b)\n",
    "import torch.autograd as ag": "import torch.autograd as ag\n\n\ndef dC_dm(x, y, m, b):\n"
                                   "    cost = lambda slope: torch.mean((slope * x + b - y) ** 2)\n"
                                   "    return ag.functional.jacobian(cost, torch.as_tensor(float(m)))\n",
    "from torch import autograd": "from torch import autograd\n\n\ndef dC_dm(x, y, m, b):\n"
                                  "    cost = lambda slope: torch.mean((slope * x + b - y) ** 2)\n"
                                  "    return autograd.functional.jacobian(cost, torch.as_tensor(float(m)))\n",
    "from torch.autograd import grad as g": "from torch.autograd.functional import jacobian as g\n\n\n"
                                            "def dC_dm(x, y, m, b):\n"
                                            "    cost = lambda slope: torch.mean((slope * x + b - y) ** 2)\n"
                                            "    return g(cost, torch.as_tensor(float(m)))\n",
    "torch.func": "from torch.func import grad\n\n\ndef dC_dm(x, y, m, b):\n"
                  "    return grad(lambda slope: torch.mean((slope * x + b - y) ** 2))(torch.as_tensor(float(m)))\n",
    "a lambda assignment": "dC_dm = lambda x, y, m, b: torch.func.grad(\n"
                           "    lambda slope: torch.mean((slope * x + b - y) ** 2))(torch.as_tensor(float(m)))\n",
    "an alias by assignment": "t = torch\n\n\ndef dC_dm(x, y, m, b):\n"
                              "    cost = lambda slope: torch.mean((slope * x + b - y) ** 2)\n"
                              "    return t.autograd.functional.jacobian(cost, torch.as_tensor(float(m)))\n",
    "a star import": "from torch.autograd.functional import *\n\n\ndef dC_dm(x, y, m, b):\n"
                     "    cost = lambda slope: torch.mean((slope * x + b - y) ** 2)\n"
                     "    return jacobian(cost, torch.as_tensor(float(m)))\n",
    "a Parameter's grad_fn": "def dC_dm(x, y, m, b):\n    slope = torch.nn.Parameter(torch.tensor(float(m)))\n"
                             "    cost = torch.mean((slope * x + b - y) ** 2)\n"
                             "    return cost.grad_fn(torch.ones(()))\n",
}


@pytest.mark.parametrize("code", AUTOGRAD_IN_DC_DM.values(), ids=AUTOGRAD_IN_DC_DM)
def test_autograd_in_dC_dm_costs_dC_dm_only(code):
    analysis = read(notebook(dC_dm=code))
    assert charged(analysis, "autograd") == {"dC_dm"}
    assert {finding.kind for finding in analysis.findings} == {"autograd"}


def test_torch_derivative_kernels_are_autograd_and_torch_ops_needs_a_person():
    code = ("def dC_dm(x, y, m, b):\n    yhat = m * x + b\n"
            "    dyhat = torch.ops.aten.mse_loss_backward(torch.ones(()), yhat, y, 1)\n"
            "    return torch.sum(dyhat * x)\n")
    analysis = read(notebook(dC_dm=code))
    assert {(finding.kind, finding.found) for finding in analysis.for_function("dC_dm")} == {
        ("review", "torch.ops.aten"), ("autograd", ".mse_loss_backward")}


def test_requires_grad_spelled_as_a_string_is_still_autograd():
    code = ("def dC_dm(x, y, m, b):\n    options = {'requires_grad': True}\n"
            "    return torch.tensor(float(m), **options)\n")
    [finding] = read(notebook(dC_dm=code)).findings
    assert (finding.kind, finding.function, finding.found) == ("autograd", "dC_dm", "'requires_grad'")


def test_autograd_reason_says_all_that_was_used_where_it_starts_and_why_it_costs():
    [finding] = read(notebook(dC_dm=AUTOGRAD_DC_DM)).findings
    assert finding == Finding("autograd", "dC_dm", "dC_dm uses autograd (requires_grad=, .backward); the task is "
                              "to derive the gradient by hand, so this function earns no points.", "cell 3, line 2",
                              "requires_grad=, .backward")


def test_autograd_in_sgd_is_not_an_autograd_finding():
    code = ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
            "    m = torch.tensor(float(m), requires_grad=True)\n"
            "    b = torch.tensor(float(b), requires_grad=True)\n"
            "    optimiser = torch.optim.SGD([m, b], lr=lr)\n"
            "    for _ in range(epochs):\n"
            "        optimiser.zero_grad()\n"
            "        torch.mean((m * x + b - y) ** 2).backward()\n"
            "        optimiser.step()\n"
            "    return m.item(), b.item()\n")
    assert read(notebook(sgd=code)).findings == []


def test_top_level_autograd_on_tensors_named_like_parameters_costs_nothing():
    scratch = "m = torch.tensor([M_START], requires_grad=True)\ncost = torch.mean((m * x + b - y) ** 2)\n" \
              "cost.backward()\nm.grad\n"
    assert read(notebook(scratch)).findings == []


def test_a_function_reading_a_top_level_tensor_made_for_autograd_is_charged():
    scratch = "slope = torch.tensor([M_START], requires_grad=True)\n"
    code = "def dC_dm(x, y, m, b):\n    torch.mean((slope * x + b - y) ** 2).backward()\n    return slope.grad\n"
    [finding] = read(notebook(scratch, dC_dm=code)).findings
    assert (finding.function, finding.found, finding.where) == ("dC_dm", ".backward, requires_grad=", "cell 3, line 2")


def test_a_function_that_rebinds_another_through_global_is_part_of_its_code():
    code = ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
            "    global dC_db\n"
            "    dC_db = lambda x, y, m, b: m.requires_grad_()\n"
            "    return m, b\n")
    assert charged(read(notebook(sgd=code)), "autograd") == {"dC_db"}


# --- redefinitions --------------------------------------------------------------------------------------

def test_a_later_definition_replaces_an_earlier_one():
    assert read(notebook(CORRECT["dC_dm"], dC_dm=AUTOGRAD_DC_DM)).findings == []
    assert charged(read(notebook(AUTOGRAD_DC_DM)), "autograd") == {"dC_dm"}


def test_a_redefinition_after_a_statement_that_may_fail_leaves_the_earlier_one_live():
    cells = notebook("undefined_name\n" + CORRECT["dC_dm"], dC_dm=AUTOGRAD_DC_DM)
    assert charged(read(cells), "autograd") == {"dC_dm"}


def test_a_redefinition_after_imports_that_cannot_fail_replaces_the_earlier_one():
    cells = notebook("import math\nimport numpy as np\n" + CORRECT["dC_dm"], dC_dm=AUTOGRAD_DC_DM)
    assert read(cells).findings == []
    for uncertain in ("import numpy.fancy\n", "import tkinter\n"):
        cells = notebook(uncertain + CORRECT["dC_dm"], dC_dm=AUTOGRAD_DC_DM)
        assert charged(read(cells), "autograd") == {"dC_dm"}, uncertain


def test_a_conditional_redefinition_leaves_the_earlier_one_live():
    cells = notebook("if torch.cuda.is_available():\n" + CORRECT["dC_dm"].replace("\n", "\n    ").rstrip() + "\n",
                     dC_dm=AUTOGRAD_DC_DM)
    assert charged(read(cells), "autograd") == {"dC_dm"}


def test_an_earlier_binding_captured_before_a_redefinition_still_counts():
    cells = notebook("by_autograd = dC_dm\n",
                     "def dC_dm(x, y, m, b):\n    return by_autograd(x, y, m, b)\n", dC_dm=AUTOGRAD_DC_DM)
    assert charged(read(cells), "autograd") == {"dC_dm"}


# --- hostile input --------------------------------------------------------------------------------------

def review_problems(analysis: Analysis) -> list[tuple]:
    return [(finding.found, finding.function, finding.where) for finding in analysis.findings
            if finding.found in ("too-deep", "too-large", "unreadable", "unread")]


@pytest.mark.parametrize("deep", ["x = " + "-" * 5000 + "1\n", "f = " + "lambda: " * 5000 + "1\n",
                                  "x" + "[0]" * 5000 + "\n", "x" + ".a" * 5000 + "\n"],
                         ids=["unary minus", "lambdas", "subscripts", "attributes"])
def test_code_nested_5000_deep_is_one_notebook_wide_review_finding(deep):
    analysis = read(notebook(deep, dC_dm=AUTOGRAD_DC_DM))
    assert review_problems(analysis) == [("too-deep", None, "cell 6")]
    assert analysis.findings[0].reason == ("Cell 6 is nested too deeply for the grader to read; a person will read "
                                           "the notebook before the grade is final.")
    assert charged(analysis, "autograd") == {"dC_dm"}


def test_5000_nested_brackets_are_a_syntax_note_as_in_the_kernel():
    analysis = read(notebook("(" * 5000 + ")" * 5000 + "\n"))
    assert analysis.findings == []
    assert [(note.kind, note.where) for note in analysis.notes] == [("syntax", "cell 6, line 1")]


def test_deep_code_that_parses_is_walked_without_recursion():
    code = "def dC_dm(x, y, m, b):\n    return m.requires_grad_()" + " + 1" * 800 + "\n"
    with pytest.raises(RecursionError):  # what a recursive NodeVisitor would do with it
        ast.NodeVisitor().visit(ast.parse(code))
    nested = "".join(" " * depth + "def inner():\n" for depth in range(1, 99)) + " " * 99 + "return x.backward()\n"
    deep_helper = "def dC_db(x, y, m, b):\n" + nested
    analysis = read(notebook(dC_dm=code, dC_db=deep_helper))
    assert charged(analysis, "autograd") == {"dC_dm", "dC_db"}


def test_a_syntax_error_cell_contributes_nothing_but_a_note():
    analysis = read(notebook("from autograder.reference import dC_dm\ndef broken(:\n    pass\n"))
    assert analysis.findings == []
    [note] = analysis.notes
    assert (note.kind, note.where) == ("syntax", "cell 6, line 2")
    assert note.message.startswith("SyntaxError")


def test_a_3_mb_cell_is_left_unread_with_one_finding_and_the_other_cells_are_read():
    big = "x = 1\n" * 500_000
    started = time.perf_counter()
    analysis = read(notebook(big, big, dC_dm=AUTOGRAD_DC_DM))
    assert time.perf_counter() - started < 5  # the big cells are never parsed
    assert review_problems(analysis) == [("too-large", None, "cell 6")]
    assert charged(analysis, "autograd") == {"dC_dm"}


def test_code_past_the_node_limit_charges_every_gradient_function_with_what_was_read():
    many = "values = [" + "1, " * 20_000 + "]\n"
    analysis = read(notebook(many, many, many, dC_dm=AUTOGRAD_DC_DM))
    assert review_problems(analysis) == [("too-large", None, "cell 8")]
    assert charged(analysis, "autograd") == set(GRADIENT_FUNCTIONS)
    assert [note.kind for note in analysis.notes] == ["tangled"]


def test_a_search_past_its_limit_charges_every_gradient_function(monkeypatch):
    monkeypatch.setattr(source, "SEARCH_LIMIT", 3)
    analysis = read(notebook(dC_dm=AUTOGRAD_DC_DM))
    assert charged(analysis, "autograd") == set(GRADIENT_FUNCTIONS)
    assert [note.kind for note in analysis.notes] == ["tangled"]


def test_cells_python_cannot_read_never_raise():
    cells = [SETUP, None, 3, "x = '\x00'", "x = '\ud800'", "def f(:", "\t\t  bad indent", "\ufeffx = 1", ""]
    analysis = read(cells)
    assert {problem[0] for problem in review_problems(analysis)} == {"unreadable"}
    assert charged(analysis, "review") == {None}


def test_findings_quote_student_text_printably_and_briefly():
    code = ("def dC_dm(x, y, m, b):\n    open('/proc/self/\\udcff\\n' + 'x' * 500).read()\n"
            "    return 2 * torch.mean((m * x + b - y) * x)\n")
    analysis = read(notebook("x = '\ud800'", dC_dm=code))
    assert charged(analysis, "review") == {None, "dC_dm", "sgd"}
    for finding in analysis.findings:
        assert finding.reason.isascii() and finding.reason.isprintable()
        assert len(finding.found) <= 80


def test_a_failure_inside_the_reader_is_a_notebook_wide_review_finding(monkeypatch):
    def broken(*args):
        raise KeyError("surprise")

    monkeypatch.setattr(source, "_Notebook", broken)
    analysis = read(notebook())
    assert review_problems(analysis) == [("unread", None, "")]
    assert analysis.notes == [Note("error", "", "KeyError: 'surprise'")]


# --- the Analysis object ----------------------------------------------------------------------------------

def test_for_function_adds_the_notebook_wide_findings_and_kinds_collects_them():
    analysis = read(notebook("exec('pass')\n", dC_dm=AUTOGRAD_DC_DM))
    assert [finding.function for finding in analysis.for_function("dC_dm")] == [None, "dC_dm"]
    assert analysis.kinds("dC_dm") == {"review", "autograd"}
    assert analysis.kinds("dC_db") == {"review"}


def test_json_round_trip_keeps_every_field():
    analysis = read(notebook("x = (\n", dC_dm=AUTOGRAD_DC_DM))
    assert analysis.findings and analysis.notes
    assert Analysis.from_json(json.loads(json.dumps(analysis.to_json()))) == analysis


@pytest.mark.parametrize("data", [
    [], {}, {"findings": []},
    {"findings": [{"kind": "cheating", "function": None, "reason": "", "where": "", "found": ""}], "notes": []},
    {"findings": [{"kind": "review", "function": 3, "reason": "", "where": "", "found": ""}], "notes": []},
    {"findings": [{"kind": "review", "function": None, "reason": ""}], "notes": []},
    {"findings": [], "notes": [{"kind": "syntax", "where": "", "message": None}]},
], ids=["a list", "empty", "no notes", "unknown kind", "function not text", "missing field", "note not text"])
def test_from_json_rejects_other_shapes(data):
    with pytest.raises(ValueError):
        Analysis.from_json(data)


def test_the_sample_class_reads_in_well_under_10_ms_a_notebook():
    notebooks = [answer_cells(path) for path in SAMPLES]
    best = float("inf")
    for _ in range(5):  # the best of five runs, so that another process's load does not count
        started = time.perf_counter()
        for cells in notebooks:
            read(cells)
        best = min(best, (time.perf_counter() - started) / len(notebooks))
    assert best < 0.010, f"{best * 1000:.1f} ms a notebook"
