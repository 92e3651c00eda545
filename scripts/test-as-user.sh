#!/usr/bin/env bash
# Runs tests as an unprivileged user (`make test-user`): most instructors grade
# as an ordinary user, while CI runs as root, and the sandbox differs between
# the two (autograder/sandbox.py: bwrap-root, bwrap-user).
#
#   scripts/test-as-user.sh tests/test_sandbox.py tests/adversarial ...
#
# Not root: runs pytest here, with .venv/, as the current user.
# Root: makes the account $ACCOUNT when it is missing (it can log in to
# nothing), puts a copy of the course in its home, and there, as that account,
# makes .venv/ from a Python it can run (root's own may live under /root,
# which it cannot read), installs torch as `make` does and then `-e .[test]`,
# with the pip configuration that account has, and runs pytest. The copy is
# refreshed every run; its .venv/ is kept until pyproject.toml, the torch
# install or TORCH_SPEC/TORCH_INDEX change.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/test-as-user.sh TEST..." >&2; exit 2; }
: "${TORCH_SPEC:?is set by make test-user}"

ACCOUNT=${MSEGRAD_TEST_ACCOUNT:-msegrad-ci}
PYTEST=(python -m pytest)

if [ "$(id -u)" -ne 0 ]; then
  echo "test-user: as the ordinary user $(id -un) (uid $(id -u)), with .venv/"
  PATH="$PWD/.venv/bin:$PATH" exec "${PYTEST[@]}" "$@"
fi

if ! id "$ACCOUNT" >/dev/null 2>&1; then
  useradd --create-home --user-group --shell /usr/sbin/nologin \
    --comment "msegrad tests as an ordinary user" "$ACCOUNT"
fi
home=$(getent passwd "$ACCOUNT" | cut -d: -f6)
course=$home/course
echo "test-user: as root, so as the unprivileged user $ACCOUNT (uid $(id -u "$ACCOUNT")), in $course"

# As the account, in the copy, with root's environment (pip's settings
# included) but none of root's own folders.
as_account() {
  runuser -u "$ACCOUNT" -- env -C "$course" \
    -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_DATA_HOME -u XDG_RUNTIME_DIR \
    -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u PYTHONUSERBASE -u TMPDIR \
    PATH="$course/.venv/bin:/usr/local/bin:/usr/bin:/bin" "$@"
}

# The course as it is here, without its environment and what runs made (.gitignore).
install -d -o "$ACCOUNT" -g "$(id -gn "$ACCOUNT")" -m 0755 "$course"
as_account find . -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
excluded=(./.venv ./.git __pycache__ .pytest_cache .ipynb_checkpoints '*.egg-info' ./build ./out ./media
          ./submitted ./autograded ./feedback ./release ./source ./gradebook.db ./grades.csv)
tar -c "${excluded[@]/#/--exclude=}" . | as_account tar -x

wanted="$(cat pyproject.toml scripts/install-torch.sh | sha256sum | cut -c1-16) $TORCH_SPEC ${TORCH_INDEX:-}"
if [ "$(as_account cat .venv/.installed 2>/dev/null)" != "$wanted" ]; then
  started=$SECONDS
  python=""
  for candidate in "${PYTHON:-python3}" python3 /usr/bin/python3; do
    if as_account "$candidate" -c 'import ensurepip, sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "error: $ACCOUNT can run no Python >= 3.10 with venv (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  as_account rm -rf .venv
  as_account "$python" -m venv .venv
  as_account bash scripts/install-torch.sh .venv/bin/python
  as_account python -m pip install -q -e ".[test]"
  printf '%s\n' "$wanted" | as_account tee .venv/.installed >/dev/null
  echo "test-user: $ACCOUNT's .venv/ ($(as_account python -c 'import torch; print("torch", torch.__version__)'), $(du -sh "$course/.venv" | cut -f1)) set up in $((SECONDS - started)) s"
fi

as_account "${PYTEST[@]}" "$@"
