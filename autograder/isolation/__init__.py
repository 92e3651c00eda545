"""The isolated grader's pieces that run inside the sandbox or guard its edge.

seccomp   the system-call filter every student process runs under
cgroups   per-submission memory and process caps (trusted side)
protocol  what comes back from the sandbox, checked before anyone believes it (trusted side)
"""
