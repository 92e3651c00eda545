#!/usr/bin/env bash
# Installs torch into a virtualenv, before anything else, so that no other
# requirement pulls a CUDA build (several GB) in its place.
#
#   TORCH_SPEC=torch==2.13.0 scripts/install-torch.sh .venv/bin/python
#
# TORCH_INDEX empty or unset: PyTorch's CPU wheel index when it answers
# within PROBE_SECONDS, else pip's default index, said in one line (on PyPI,
# Linux builds of torch are CUDA builds). TORCH_INDEX=URL: that index, no probe.
# pip's own configuration (find-links, constraints, certificates) applies as usual.
set -euo pipefail

python=${1:?usage: scripts/install-torch.sh VENV_PYTHON}
spec=${TORCH_SPEC:?TORCH_SPEC is empty (the Makefile sets it, e.g. torch==2.13.0)}
CPU_INDEX=https://download.pytorch.org/whl/cpu
PROBE_SECONDS=3

# Whether the index serves its page, once, no retries. Certificates are not
# checked here (pip checks them when it downloads); `timeout` also bounds a
# DNS lookup that hangs.
reachable() {
  timeout "$PROBE_SECONDS" "$python" -I -c '
import ssl, sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]), context=ssl._create_unverified_context())
' "$1/" "$PROBE_SECONDS" >/dev/null 2>&1
}

index=()
if [ -n "${TORCH_INDEX:-}" ]; then
  index=(--index-url "$TORCH_INDEX")
elif reachable "$CPU_INDEX"; then
  index=(--index-url "$CPU_INDEX")
else
  echo "$CPU_INDEX did not answer within ${PROBE_SECONDS} s: $spec comes from pip's default index instead (TORCH_INDEX=URL chooses)"
fi
"$python" -m pip install -q "${index[@]}" "$spec"
