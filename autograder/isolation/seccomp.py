"""The system-call filter every student process runs under (seccomp-bpf, built with ctypes).

Installed in the submission process just before the student's first cell,
after the grader has set up that submission's namespaces and mounts; every
process the student starts inherits it and cannot remove it. It refuses what
no answer needs and what would reach past the submission's own namespaces:

- new namespaces (``unshare``, ``setns``, namespace flags to ``clone``;
  ``clone3`` answers ENOSYS so the C library falls back to ``clone``);
- mounts of any kind, ``chroot``, ``pivot_root``;
- kernel keyrings (``add_key``, ``keyctl``, ``request_key``): they would
  outlive the submission;
- reading or writing other processes (``ptrace``, ``process_vm_readv``,
  ``pidfd_getfd``, ``kcmp``);
- kernel interfaces that bypass or widen the filter (``bpf``, ``io_uring``,
  ``userfaultfd``, ``perf_event_open``, modules, ``kexec``,
  ``open_by_handle_at``);
- every system call of another ABI (i386 and x32 on x86_64): a filter for
  one ABI says nothing about the other's numbers.

Refused calls fail with EPERM (the student's code sees an ordinary OSError);
nothing is killed, so an honest library that probes a feature degrades.
"""
from __future__ import annotations

import ctypes
import errno
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000

# BPF opcodes
_LD_W_ABS = 0x20       # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15          # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35          # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45         # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06          # BPF_RET | BPF_K

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
_NR, _ARCH, _ARG0_LOW = 0, 4, 16

NAMESPACE_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000
                   | 0x40000000 | 0x00000080)   # NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET NEWTIME

# The refused calls, by name; the numbers per architecture below.
REFUSED = ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount",
           "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
           "add_key", "keyctl", "request_key",
           "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
           "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
           "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
           "open_by_handle_at", "name_to_handle_at", "acct", "swapon", "swapoff", "reboot", "syslog",
           "quotactl", "setdomainname", "sethostname")

_TABLES = {
    # machine: (AUDIT_ARCH, {name: number}, clone, clone3, lowest number of a foreign ABI or None)
    "x86_64": (0xC000003E, {
        "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "add_key": 248, "keyctl": 250, "request_key": 249, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438, "kcmp": 312, "bpf": 321,
        "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "kexec_load": 246, "kexec_file_load": 320, "open_by_handle_at": 304, "name_to_handle_at": 303,
        "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169, "syslog": 103, "quotactl": 179,
        "setdomainname": 171, "sethostname": 170}, 56, 435, 0x40000000),
    "aarch64": (0xC00000B7, {
        "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "add_key": 217, "keyctl": 219, "request_key": 218, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "pidfd_getfd": 438, "kcmp": 272, "bpf": 280,
        "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "kexec_load": 104, "kexec_file_load": 294, "open_by_handle_at": 265, "name_to_handle_at": 264,
        "acct": 89, "swapon": 224, "swapoff": 225, "reboot": 142, "syslog": 116, "quotactl": 60,
        "setdomainname": 162, "sethostname": 161}, 220, 435, None),
}


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


def program(machine: str | None = None) -> bytes | None:
    """The filter's BPF instructions for this machine, or None when its system calls are not tabled."""
    machine = machine or platform.machine()
    if machine not in _TABLES:
        return None
    arch, numbers, clone, clone3, foreign = _TABLES[machine]
    refused = sorted({numbers[name] for name in REFUSED})
    deny = _RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM
    body: list[tuple] = []
    # Instructions after the checks, from the end: [.. checks ..] ALLOW, DENY, ENOSYS, clone-args...
    # Laid out first, then the jump offsets are filled in relative to the labels.
    checks = [("nr", number, "deny") for number in refused] + [("nr", clone3, "enosys"), ("nr", clone, "clone")]
    head = [(_LD_W_ABS, 0, 0, _ARCH), ("arch",), (_LD_W_ABS, 0, 0, _NR)]
    if foreign is not None:
        head.append(("foreign",))
    layout = head + checks + [("allow",), ("deny",), ("enosys",),
                              (_LD_W_ABS, 0, 0, _ARG0_LOW), ("flags",), ("allow2",), ("deny2",)]
    labels = {"allow": None, "deny": None, "enosys": None, "clone": None}
    for index, item in enumerate(layout):
        if item[0] in ("allow", "deny", "enosys"):
            labels[item[0]] = index
        if item == (_LD_W_ABS, 0, 0, _ARG0_LOW):
            labels["clone"] = index
    out = []
    for index, item in enumerate(layout):
        def to(label):
            offset = labels[label] - index - 1
            if not 0 <= offset <= 255:
                raise ValueError("seccomp program too long for one jump")
            return offset
        kind = item[0]
        if kind == "arch":
            out.append(_instruction(_JEQ_K, 0, to("deny"), arch))     # a foreign ABI: refuse everything
        elif kind == "foreign":
            out.append(_instruction(_JGE_K, to("deny"), 0, foreign))
        elif kind == "nr":
            out.append(_instruction(_JEQ_K, to(item[2]), 0, item[1]))
        elif kind in ("allow", "allow2"):
            out.append(_instruction(_RET_K, 0, 0, SECCOMP_RET_ALLOW))
        elif kind in ("deny", "deny2"):
            out.append(_instruction(*deny))
        elif kind == "enosys":
            out.append(_instruction(_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS))
        elif kind == "flags":
            out.append(_instruction(_JSET_K, 1, 0, NAMESPACE_FLAGS))   # namespace flags -> deny2, else allow2
        else:
            out.append(_instruction(*item))
    del body
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> str | None:
    """Install the filter on this process (and its future children). None on success, else why not."""
    code = program()
    if code is None:
        return f"no system-call table for {platform.machine()}"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"PR_SET_NO_NEW_PRIVS failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return f"seccomp failed: {errno.errorcode.get(ctypes.get_errno(), '?')}"
    return None
