"""The sandbox and its worker: what a submission can see and do, and that nothing carries over to the next."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from autograder import batch, sandbox, spec

MODE = sandbox.choose_mode()
needs_bwrap = pytest.mark.skipif(not MODE.sandboxed, reason=f"bubblewrap cannot run here: {MODE.reason}")
REPO = Path(__file__).resolve().parents[1]


def _request(cells, functions=(), **limits):
    return {"id": "test", "cells": list(cells), "functions": list(functions), "seed": None,
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
def test_student_code_runs_as_an_unprivileged_user_alone_in_its_pid_namespace(box):
    assert box.info["pid_namespace"] is True
    assert box.info["student_uid"] == sandbox.SANDBOX_ID != box.info["uid"]
    printed = _printed(box, "import os\nprint(os.getuid(), os.getgid(), *open('/proc/self/uid_map').read().split())\n"
                            "print([line.split()[1] for line in open('/proc/self/status') "
                            "if line.startswith(('CapPrm', 'CapEff', 'CapAmb'))])")
    ids, capabilities = printed.splitlines()
    assert eval(capabilities) == ["0000000000000000"] * 3    # no capability, not even in the namespace
    uid, gid, *uid_map = ids.split()
    assert (uid, gid) == (str(sandbox.SANDBOX_ID), str(sandbox.SANDBOX_ID))
    # Outside the sandbox the student is `nobody`, never root.
    assert uid_map[uid_map.index(str(sandbox.SANDBOX_ID)) + 1] == str(sandbox.NOBODY)


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
import os, time
open('left.txt', 'w').write('x')
open('/tmp/left.txt', 'w').write('x')
open('/dev/shm/left', 'w').write('x')
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
"""
    answer = box.request(_request([first]), 60)
    assert answer["leftover_processes"] >= 1
    second = """
import os
print(sorted(os.listdir('.')), os.path.exists('/tmp/left.txt'), os.path.exists('/dev/shm/left'))
print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
"""
    listing, pids = _printed(box, second).splitlines()
    assert listing == "[] False False"
    # Only the namespace's init, the worker and this submission's own process remain.
    assert len(eval(pids)) == 3, pids


@needs_bwrap
def test_sysv_shared_memory_left_behind_asks_for_a_fresh_sandbox(box):
    leave = """
import ctypes
libc = ctypes.CDLL(None)
print(libc.shmget(0, 1 << 20, 0o1000 | 0o600) >= 0)      # IPC_PRIVATE, IPC_CREAT: outlives the process
"""
    answer = box.request(_request([leave]), 60)
    assert answer["output"]["head"].strip() == "True"
    assert answer.get("restart") is True
    box.stop()                                            # what grade_submission does
    assert "restart" not in box.request(_request(["x = 1\n"]), 60)


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
    binds = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"]
    assert str(REPO) not in binds
    assert str(REPO / "autograder") in binds
    assert sys.prefix in binds
    assert "--unshare-pid" in argv and "--die-with-parent" in argv


def test_unsandboxed_fallback_still_grades_and_says_so(tmp_path):
    from tests.adversarial.notebooks import write_student
    path = write_student(tmp_path, "ada")
    mode = sandbox.Mode("none", "testing the fallback")
    with sandbox.Sandbox(mode) as box:
        graded = batch.grade_submission(box, batch.Submission("ada", path), None,
                                        batch.Limits(function_timeout=20, top_timeout=10), sandboxed=False)
    assert float(graded.row["score"]) == spec.MAX_SCORE
    assert graded.row["flags"] == "unsandboxed"
