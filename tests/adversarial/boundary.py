"""Attacks on the grader's trust boundary: on other students, on the result channel, on the answer key.

Unlike ``corpus.ATTACKS`` (each attack alone), these are graded in ONE run on
ONE worker (``--jobs 1``), in the order of their names, with an honest
student after every attacker: an attack that reached past its own
submission shows as lost points of the honest student next to it.

``BOUNDARY[name] = (answers, top, expect)`` as in ``corpus.ATTACKS``:
``expect`` maps each function to "full", 0 or "wrong", plus "flags" that
must be in the row and "absent" flags that must not. Attacks that would
earn or steal something if they worked replace dC_dm by a broken one
*when they succeed* (``BREAK``), so a full dC_dm proves they failed.
"""
from __future__ import annotations

from .corpus import ALL_FULL, ALL_ZERO, BREAK

# A secret only the victim's source holds; the reader looks for the prefix
# followed by eight hex digits (it never builds the whole string itself).
SECRET = "VICTIMSECRET:" + "5a1d7c3e"

AUTOGRAD_DC_DM = """def dC_dm(x, y, m, b):
    m = torch.as_tensor(m, dtype=x.dtype).reshape(()).clone().requires_grad_(True)
    cost = torch.mean((m * x + b - y) ** 2)
    cost.backward()
    return m.grad
"""

# Writes frames in the worker's framing (a JSON header line with "bytes", then the payload)
# into every pipe the process holds: claims every function passed with the probe the
# student computed itself, autograd markers removed, absurd seconds.
FORGE = """
import json, os, stat
def _frames(seconds):
    out = b""
    out += json.dumps({"event": "top", "errors": [], "seconds": seconds, "tamper": [], "bytes": 0}).encode() + b"\\n"
    for function in ("dC_dyhat", "dC_dm", "dC_db", "sgd"):
        out += json.dumps({"event": "start", "function": function, "bytes": 0}).encode() + b"\\n"
        payload = json.dumps({"probe": {}, "tamper": []}).encode()
        out += json.dumps({"event": "function", "function": function, "seconds": seconds,
                           "bytes": len(payload)}).encode() + b"\\n" + payload
    return out
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, _frames(SECONDS))
    except OSError:
        pass
"""

BOUNDARY = {
    # --- the students before: their data must not be readable ------------------------------------
    "a10_victim": ({}, f"# {SECRET}\nVICTIM = {SECRET!r}\n", {**ALL_FULL}),
    "a11_read_earlier_heap": ({}, """
import ctypes, re
found = []
pattern = re.compile(rb"VICTIM" + rb"SECRET:([0-9a-f]{8})")
for line in open("/proc/self/maps"):
    fields = line.split()
    if len(fields) < 2 or not fields[1].startswith("rw"):
        continue
    start, end = (int(part, 16) for part in fields[0].split("-"))
    if end - start > 1 << 28:
        continue
    try:
        found += pattern.findall(ctypes.string_at(start, end - start))
    except Exception:
        pass
print("found", found)
if found:""" + BREAK, {**ALL_FULL}),
    "a12_honest": ({}, "", {**ALL_FULL}),
    "a20_leave_posix_queue": ({}, """
import ctypes, os
rt = ctypes.CDLL("librt.so.1", use_errno=True)
rt.mq_open.restype = ctypes.c_int
queue = rt.mq_open(b"/carry", os.O_CREAT | os.O_RDWR, 0o666, None)
print("mq", queue, rt.mq_send(queue, b"answers", 7, 0) if queue >= 0 else ctypes.get_errno())
""", {**ALL_FULL}),
    "a21_read_posix_queue": ({}, """
import ctypes, os
rt = ctypes.CDLL("librt.so.1", use_errno=True)
if rt.mq_open(b"/carry", os.O_RDWR, 0, None) >= 0:""" + BREAK, {**ALL_FULL}),
    "a22_leave_keyring": ({}, """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
KEY_SPEC_USER_KEYRING = -4
print("key", libc.syscall(248, b"user", b"carry", b"answers", 7, KEY_SPEC_USER_KEYRING))   # add_key
""", {**ALL_FULL}),
    "a23_read_keyring": ({}, """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING = 10, -4
if libc.syscall(250, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, b"user", b"carry", 0) >= 0:""" + BREAK,
                           {**ALL_FULL}),
    # --- the students after: their grading must not be sabotaged ---------------------------------
    "a30_replace_scratch_by_symlinks": ({}, """
import os, shutil
here = os.getcwd()
os.chdir("/")
for path in (here, os.path.dirname(here)):
    try:
        shutil.rmtree(path)
    except OSError:
        pass
for target, link in (("/", here), ("/", os.path.dirname(here)), ("/", "/tmp/root"), ("/tmp", "/dev/shm/tmp")):
    try:
        os.symlink(target, link)
    except OSError:
        pass
for path in ("/tmp", "/dev/shm"):
    try:
        os.chmod(path, 0)
    except OSError:
        pass
""", {**ALL_FULL}),
    "a31_honest": ({}, "", {**ALL_FULL}),
    "a32_fill_the_inodes": ({}, """
import os
made = 0
try:
    for index in range(2_000_000):
        os.close(os.open(f"/tmp/f{index}", os.O_CREAT | os.O_WRONLY))
        made += 1
except OSError:
    pass
print("made", made)
""", {**ALL_FULL}),
    "a33_honest": ({}, "", {**ALL_FULL}),
    # --- nested namespaces ---------------------------------------------------------------------------
    "a40_nested_user_namespace": ({}, """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) == 0:""" + BREAK, {**ALL_FULL}),
    # --- the result channel: nothing the student's process says is believed --------------------------
    "a50_forge_frames_hide_autograd": ({"dC_dm": AUTOGRAD_DC_DM}, "SECONDS = 1.0\n" + FORGE,
                                       {"dC_dm": 0, "flags": ["tamper"]}),
    "a51_forge_huge_seconds": ({}, "SECONDS = 10 ** 400\n" + FORGE, {}),
    "a52_forge_nan_seconds": ({}, "SECONDS = float('nan')\n" + FORGE, {}),
    "a53_forge_giant_frame": ({}, """
import json, os, stat
payload = b"[" * 4_000_000 + b"]" * 4_000_000
header = json.dumps({"event": "function", "function": "dC_dm", "bytes": len(payload)}).encode() + b"\\n"
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, header + payload)
    except OSError:
        pass
""", {}),
    "a54_honest": ({}, "", {**ALL_FULL}),
    # --- the answer key --------------------------------------------------------------------------------
    # At the top level, an import of the grader's package runs before every check: nothing earns points.
    "a60_answer_key_plain": ({"dC_dm": "from autograder.reference import dC_dm\n"}, "",
                             {**ALL_ZERO, "flags": ["answer-key"]}),
    "a61_answer_key_disguised": ({"dC_db": (
        "def dC_db(x, y, m, b):\n"
        "    key = __import__('auto' + 'grader.ref' + 'erence', fromlist=['x'])\n"
        "    return getattr(key, 'dC_' + 'db')(x, y, m, b)\n")}, "",
        {"dC_dyhat": "full", "dC_dm": "full", "dC_db": 0, "sgd": "full", "flags": ["answer-key"]}),
    "a62_answer_key_in_sgd": ({"sgd": (
        "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
        "    from autograder import reference\n"
        "    return reference.descent(x, y, m, b, lr, epochs).final()\n")}, "",
        {"dC_dyhat": "full", "dC_dm": "full", "dC_db": "full", "sgd": 0, "flags": ["answer-key"]}),
    "a63_autograd_via_engine": ({"dC_dm": (
        "def dC_dm(x, y, m, b):\n"
        "    from torch.autograd import Variable\n"
        "    m = torch.as_tensor(m, dtype=x.dtype).reshape(()).clone()\n"
        "    setattr(m, 'requires' + '_grad', True)\n"
        "    cost = torch.mean((m * x + b - y) ** 2)\n"
        "    (g,) = Variable._execution_engine.run_backward((cost,), (torch.ones(()),), False, False, (m,), False)\n"
        "    return g\n")}, "",
        {"dC_dyhat": "full", "dC_dm": 0, "dC_db": "full", "sgd": "full", "flags": ["review"]}),
    "a64_honest": ({}, "", {**ALL_FULL}),
}
