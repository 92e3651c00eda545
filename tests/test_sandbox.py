"""The sandbox and its worker: what a submission can see and do, and that nothing carries over to the next."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from autograder import batch, cases, sandbox, spec

MODE = sandbox.choose_mode()
needs_bwrap = pytest.mark.skipif(not MODE.sandboxed, reason=f"bubblewrap cannot run here: {MODE.reason}")
REPO = Path(__file__).resolve().parents[1]


def _request(cells, functions=(), **limits):
    inputs = {cell.id: cases.cell_inputs(cell.id) for cell in spec.GRADE_CELLS}
    return {"cells": list(cells), "functions": list(functions), "cases": inputs,
            "top_timeout": 5.0, "function_timeout": 5.0, **limits}


@pytest.fixture(scope="module")
def box():
    with sandbox.Sandbox(MODE, sandbox.Options(hide=[str(REPO)])) as started:
        yield started


def _printed(box, source: str, **limits) -> str:
    answer = box.request(_request([source], **limits), 60)
    assert answer["top"]["failure"] is None, answer
    return answer["output"]["head"]


@needs_bwrap
def test_student_code_runs_without_privilege_alone_in_its_own_namespaces(box):
    printed = _printed(box, """
import os
def reachable(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(os.getuid(), os.getgid(), os.getpid())
print([status[key].strip() for key in ("CapPrm", "CapEff", "CapAmb", "CapBnd", "NoNewPrivs", "Seccomp")])
print(open("/proc/self/uid_map").read().split())
print([pid for pid in range(1, 4096) if reachable(pid)])
""")
    ids, status, uid_map, reachable = printed.splitlines()
    uid, gid, pid = ids.split()
    assert eval(status) == ["0000000000000000"] * 4 + ["1", "2"]   # no capability, no new privileges, seccomp
    if MODE.name == "bwrap-root":
        assert (uid, gid) == (str(sandbox.SANDBOX_ID),) * 2           # nobody outside the sandbox
    # Its own user namespace maps only its own id; its own PID namespace: I is 1, S is 2.
    assert eval(uid_map) == [uid, uid, "1"]
    assert int(pid) <= 3
    assert set(eval(reachable)) <= {1, int(pid)}, reachable


@needs_bwrap
def test_course_directory_home_and_root_only_files_are_invisible(box):
    probe = f"""
import os
for path in [{str(REPO / 'pyproject.toml')!r}, {str(REPO / 'solutions')!r}, {str(REPO / 'tests')!r},
             '/root/.bashrc', '/etc/shadow', '/run', '/home']:
    try:
        with open(path, 'rb') as handle:
            handle.read(1)
        print(path, 'READABLE')
    except OSError as error:
        print(path, type(error).__name__)
print(sorted(os.listdir({str(REPO)!r})))
"""
    printed = _printed(box, probe)
    assert "READABLE" not in printed, printed
    # Only what the worker needs is bound back into the hidden course folder.
    assert printed.strip().splitlines()[-1] == str(sorted(["autograder", ".venv"]))


@needs_bwrap
def test_the_answer_key_is_not_in_the_sandbox(box):
    from autograder import assignments
    # Every assignment's trusted modules, and the grader's own; each unit's spec, data and probes only are there.
    trusted = ["autograder.checks", "autograder.batch"]
    for unit in assignments.every():
        trusted += [f"{unit.package}.{part}" for part in ("reference", "cases", "judge", "mistakes", "protocol", "kit")]
    assert "autograder.assignments.mse_gradient_vector.reference" in trusted
    printed = _printed(box, f"""
import os
for name in {trusted!r}:
    try:
        __import__(name)
        print(name, "IMPORTED")
    except ImportError:
        print(name, "absent")
print(sorted(os.listdir({str(REPO / 'autograder')!r})))
print(sorted(os.listdir({str(REPO / 'autograder' / 'assignments' / 'mse_gradient_vector')!r})))
""")
    *lines, listing, unit_listing = printed.strip().splitlines()
    assert len(lines) == len(trusted) and all(line.endswith("absent") for line in lines), printed
    assert eval(listing) == sorted({name.split("/")[0] for name in sandbox.SANDBOX_MODULES})
    assert eval(unit_listing) == ["__init__.py", "data.py", "probes.py", "spec.py"]


@needs_bwrap
def test_system_folders_are_read_only_and_scratch_is_writable(box):
    probe = """
import os
for path in ['/usr/x', '/etc/x', '/x', os.path.join(os.getcwd(), 'mine.txt'), '/tmp/mine.txt']:
    try:
        open(path, 'w').close()
        print(path, 'WROTE')
    except OSError as error:
        print(path, 'denied')
"""
    lines = dict(line.rsplit(" ", 1) for line in _printed(box, probe).splitlines())
    assert [lines[p] for p in ("/usr/x", "/etc/x", "/x")] == ["denied"] * 3
    assert list(lines.values())[-2:] == ["WROTE", "WROTE"]


@needs_bwrap
def test_nothing_carries_over_to_the_next_submission(box):
    first = """
import ctypes, os, time
open('left.txt', 'w').write('x')
open('/tmp/left.txt', 'w').write('x')
open('/dev/shm/left', 'w').write('x')
print(ctypes.CDLL(None).shmget(0, 1 << 20, 0o1000 | 0o600) >= 0)      # SysV memory outlives its process
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
"""
    answer = box.request(_request([first]), 60)
    assert answer["output"]["head"].strip() == "True"
    assert answer["leftover_processes"] >= 1
    second = """
import os
print(sorted(os.listdir('.')), sorted(os.listdir('/tmp')), os.path.exists('/dev/shm/left'))
print(len(open('/proc/sysvipc/shm').read().splitlines()))
"""
    listing, shm = _printed(box, second).splitlines()
    # /tmp holds the scratch folder, and the folders leading to the grader's own mounts when the
    # course (its virtualenv) is kept under /tmp.
    leading = sorted({"scratch"} | {Path(path).parts[2] for path in (str(REPO), sys.prefix)
                                    if Path(path).parts[1:2] == ("tmp",) and len(Path(path).parts) > 2})
    assert listing == f"[] {leading} False"
    assert shm == "1"          # the header line only: a fresh IPC namespace


@needs_bwrap
def test_process_count_is_capped(box):
    probe = """
import os, time
children = 0
try:
    for _ in range(500):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError:
    pass
print(children)
"""
    children = int(_printed(box, probe, nproc=16))
    assert 0 < children < 16


@needs_bwrap
def test_memory_is_capped_well_below_six_gigabytes(box):
    answer = box.request(_request(["block = bytearray(3 * 1024 ** 3)\n"], memory_mb=512), 60)
    assert any("MemoryError" in error for error in answer["top"]["errors"]), answer


@needs_bwrap
def test_no_network_inside(box):
    probe = """
import socket
for address in [('127.0.0.1', 22), ('8.8.8.8', 53)]:
    try:
        socket.create_connection(address, timeout=1).close()
        print('CONNECTED')
    except OSError as error:
        print(type(error).__name__)
"""
    assert "CONNECTED" not in _printed(box, probe)


@needs_bwrap
def test_a_hang_in_one_function_costs_only_that_function(box):
    cells = ["import torch\n",
             "def dC_dyhat(yhat, y):\n    return 2 * (yhat - y) / len(y)\n",
             "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    import signal\n"
             "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"]
    answer = box.request(_request(cells, ["sgd", "dC_dyhat"], function_timeout=1.5), 60)
    assert answer["functions"]["sgd"]["failure"] == "timeout"
    assert "probe" in answer["functions"]["dC_dyhat"]


@needs_bwrap
def test_the_worker_reports_patching_but_does_not_judge(box):
    cells = ["import numpy\nnumpy.allclose = lambda *a, **k: True\n",
             "def dC_dyhat(yhat, y):\n    return yhat\n"]
    answer = box.request(_request(cells, ["dC_dyhat"]), 60)
    assert "numpy.allclose" in answer["tamper"]
    graded = batch.judge_answer("t", answer, None, True, 10 ** 6)
    assert sum(float(graded.row[cell.id]) for cell in spec.cells_for("dC_dyhat")) == 0


@needs_bwrap
def test_bwrap_command_binds_only_what_the_worker_needs():
    argv = sandbox.bwrap_command("bwrap-root", ["python"], sandbox.Options(hide=[str(REPO)]))
    binds = {argv[i + 2]: argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"}
    assert str(REPO) not in binds
    # The package's place holds a copy of the sandbox's modules, not the package.
    assert binds[str(REPO / "autograder")] == sandbox.staged_package() != str(REPO / "autograder")
    assert sys.prefix in binds
    assert "--unshare-pid" in argv and "--die-with-parent" in argv


def test_only_matplotlib_s_font_lists_are_staged_for_the_sandbox(tmp_path, monkeypatch):
    cache = tmp_path / "matplotlib"
    cache.mkdir()
    (cache / "fontlist-v1.json").write_text("{}")
    (cache / "other.txt").write_text("not a font list")
    monkeypatch.setenv("MPLCONFIGDIR", str(cache))
    assert [os.path.basename(path) for path in sandbox._font_lists()] == ["fontlist-v1.json"]


@needs_bwrap
def test_the_zygote_reads_the_staged_font_list_and_the_submission_cannot_change_it(box):
    if sandbox.staged_fonts() is None:
        pytest.skip("this user has no matplotlib font list to stage")
    printed = _printed(box, f"""
import os
print(os.environ.get("MPLCONFIGDIR", "").startswith("/tmp/matplotlib-"))
try:    # as root the folder is the zygote's alone; as an ordinary user the submission may read it
    print(sorted(os.listdir({sandbox.FONT_LIST_DIR!r})))
except OSError as error:
    print([])
for action in (lambda: open(os.path.join({sandbox.FONT_LIST_DIR!r}, "planted"), "w"),
               lambda: os.remove(os.path.join({sandbox.FONT_LIST_DIR!r}, os.listdir({sandbox.FONT_LIST_DIR!r})[0]))):
    try:
        action()
        print("CHANGED")
    except (OSError, IndexError) as error:
        print(type(error).__name__)
""")
    copied, names, *changed = printed.splitlines()
    assert copied == "True"            # the zygote copied the list into its own matplotlib cache
    assert all(name.startswith("fontlist-v") and name.endswith(".json") for name in eval(names))
    assert "CHANGED" not in changed, printed


@needs_bwrap
def test_each_cell_gets_its_own_output_and_error_back(box):
    cells = ["print('first')\n", "import sys\nsys.stdout.write('x' * 70000)\n", "raise ValueError('no')\n",
             "import os\nos.write(1, b'raw\\n')\nprint('third')\n"]
    answer = box.request(_request(cells), 60)
    outputs = [cell["output"] for cell in answer["cells"]]
    errors = [cell["error"] for cell in answer["cells"]]
    assert outputs[0] == "first\n" and outputs[2] == "" and outputs[3] == "raw\nthird\n"
    assert outputs[1] == "x" * 2048              # bounded per cell
    assert errors[:2] == [None, None] and "ValueError: no" in errors[2] and errors[3] is None
    assert answer["output"]["bytes"] == len("first\n") + 70000 + len("raw\nthird\n")


def test_cell_outputs_split_at_markers_cut_across_reads():
    from autograder import worker
    splitter = worker._CellOutputs(collect=True)
    stream = b"one" + worker.CELL_END + b"two" + worker.CELL_END + b"three"
    clean = b"".join(splitter.feed(stream[index:index + 5]) for index in range(0, len(stream), 5))
    assert clean == b"onetwothree"
    assert splitter.texts() == ["one", "two", "three"]


@needs_bwrap
def test_without_namespaces_the_submission_still_runs_and_every_process_is_killed(box):
    first = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
print(os.getpid() > 3)
"""
    answer = box.request(_request([first], namespaces=False), 60)
    assert answer["isolation"]["namespaces"] is False
    assert answer["output"]["head"].strip() == "True"      # the sandbox's PID namespace, not its own
    assert answer["leftover_processes"] >= 1
    graded = batch.judge_answer("t", answer, None, True, 10 ** 6)
    assert "no-namespaces" in graded.flags


def test_unsandboxed_fallback_still_grades_and_says_so(tmp_path):
    from tests.adversarial.notebooks import write_student
    path = write_student(tmp_path, "ada")
    mode = sandbox.Mode("none", "testing the fallback")
    with sandbox.Sandbox(mode) as box:
        graded = batch.grade_submission(box, batch.Submission("ada", path), None,
                                        batch.Limits(function_timeout=20, top_timeout=10), sandboxed=False)
    assert float(graded.row["score"]) == spec.MAX_SCORE
    assert set(graded.row["flags"].split()) - {"no-cgroup"} == {"unsandboxed"}


def test_the_zygote_finishes_warming_up_once_the_first_submission_is_on_its_way():
    """Plotting, the frozen heap and huge pages come after "ready", between commands: a first submission
    does not wait for them, and the ones after it fork from a zygote that has them."""
    import re
    import time

    with sandbox.Sandbox(MODE, sandbox.Options(hide=[str(REPO)])) as fresh:
        if fresh.zygote_pid is None:
            pytest.skip("the zygote's PID cannot be read here")
        first = _printed(fresh, "import sys\nprint('matplotlib.pyplot' in sys.modules)")
        assert first == "False\n"          # forked before the rest of the warm-up
        deadline = time.monotonic() + 60
        while True:
            with open(f"/proc/{fresh.zygote_pid}/maps") as handle:
                plots = "ft2font" in handle.read()
            with open(f"/proc/{fresh.zygote_pid}/smaps_rollup") as handle:
                huge = int(re.search(r"AnonHugePages:\s+(\d+)", handle.read()).group(1)) * 1024
            if (plots and huge >= 32 * 1024 * 1024) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert plots
        assert _printed(fresh, "import sys\nprint('matplotlib.pyplot' in sys.modules)") == "True\n"
        import subprocess
        collapses = subprocess.run([sys.executable, "-c", "from autograder import worker\n"
                                    "b = bytearray(8 << 20)\nprint(worker._collapse_heap())"],
                                   capture_output=True, text=True, timeout=120)
        if int(collapses.stdout.split()[-1] or 0) > 0:
            assert huge >= 32 * 1024 * 1024
