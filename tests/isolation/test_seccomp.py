"""The seccomp filter: what it refuses, and that honest work (fork, threads, subprocesses, torch) still runs."""
from __future__ import annotations

import ctypes
import json
import os
import platform
import struct

import pytest

from autograder.isolation import seccomp

needs_table = pytest.mark.skipif(seccomp.program() is None, reason=f"no system-call table for {platform.machine()}")

PROBE = """
import ctypes, json, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def refused(result):
    return result == -1 and ctypes.get_errno() == 1
report = {
    "unshare_user": refused(libc.unshare(0x10000000)),
    "unshare_mount": refused(libc.unshare(0x20000)),
    "add_key": refused(libc.syscall(248 if os.uname().machine == "x86_64" else 217, b"user", b"k", b"v", 1, -4)),
    "mount": refused(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
    "ptrace": refused(libc.ptrace(16, os.getppid(), None, None)),
}
child = os.fork()
if child == 0:
    os._exit(7)
report["fork"] = os.waitpid(child, 0)[1] >> 8 == 7
box = []
thread = threading.Thread(target=lambda: box.append(1)); thread.start(); thread.join()
report["thread"] = box == [1]
report["subprocess"] = subprocess.run(["true"]).returncode == 0
import torch
report["torch"] = float(torch.ones(4).sum()) == 4.0
print(json.dumps(report))
"""


@needs_table
def test_the_program_is_whole_instructions_with_jumps_in_range():
    code = seccomp.program()
    assert len(code) % 8 == 0 and 10 < len(code) // 8 < 200
    count = len(code) // 8
    for index in range(count):
        opcode, jt, jf, _ = struct.unpack("HBBI", code[index * 8:index * 8 + 8])
        if opcode & 0x07 == 0x05:                      # a jump lands on an instruction of the program
            assert index + 1 + max(jt, jf) <= count - 1
    assert struct.unpack("HBBI", code[-8:])[0] == 0x06  # and the program ends in a return


@needs_table
def test_filtered_process_is_refused_what_no_answer_needs_and_keeps_the_rest():
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            import sys
            sys.stdout = open(1, "w", buffering=1, closefd=False)
            problem = seccomp.install()
            if problem:
                print(json.dumps({"install": problem}))
            else:
                exec(PROBE, {})
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as handle:
        output = handle.read()
    os.waitpid(pid, 0)
    report = json.loads(output.strip().splitlines()[-1])
    assert report == {"unshare_user": True, "unshare_mount": True, "add_key": True, "mount": True, "ptrace": True,
                      "fork": True, "thread": True, "subprocess": True, "torch": True}, report


def test_unknown_machines_get_no_filter_rather_than_a_wrong_one():
    assert seccomp.program("sparc64") is None


@needs_table
def test_install_needs_no_privilege():
    # no_new_privs first: an ordinary process may install a filter (checked in a child).
    pid = os.fork()
    if pid == 0:
        os._exit(0 if seccomp.install() is None and ctypes.CDLL(None).prctl(39, 0, 0, 0, 0) == 1 else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
