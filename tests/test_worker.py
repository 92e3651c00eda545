"""The worker's own mechanics, outside any sandbox: what the zygote does to its memory before it forks."""
from __future__ import annotations

import subprocess
import sys

import pytest

# In a fresh interpreter: a heap like the zygote's (a large live object), collapsed into huge
# pages; then a fork writes all over it. Prints the bytes collapsed, the process's huge-page
# memory, and what the parent and the child each see afterwards.
PROBE = r"""
import os, re
from autograder import worker
block = bytearray(b"z" * (64 * 1024 * 1024))
collapsed = worker._collapse_heap()
with open("/proc/self/smaps_rollup") as handle:
    huge = int(re.search(r"AnonHugePages:\s+(\d+)", handle.read()).group(1)) * 1024
read_r, read_w = os.pipe()
pid = os.fork()
if pid == 0:
    block[::4096] = b"c" * len(block[::4096])
    os.write(read_w, bytes(block[:1]) + bytes(block[-4096:-4095]))
    os._exit(0)
os.waitpid(pid, 0)
print(collapsed, huge, os.read(read_r, 2).decode(), bytes(block[:1] + block[-4096:-4095]).decode())
"""


def test_the_zygotes_heap_goes_to_huge_pages_and_forks_still_copy_on_write():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          env={"MSEGRAD_CONFIG": "-", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    collapsed, huge, child_sees, parent_sees = done.stdout.split()
    # A child's writes stay in the child, huge pages or not.
    assert (child_sees, parent_sees) == ("cc", "zz")
    if int(collapsed) == 0:
        pytest.skip("this kernel does not collapse memory into huge pages (MADV_COLLAPSE)")
    assert int(huge) >= 32 * 1024 * 1024
