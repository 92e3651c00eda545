#!/usr/bin/env bash
# Installs the Debian packages the course needs, only those missing.
# As root it uses apt-get directly, otherwise sudo; when neither works it
# names the packages and stops.
set -euo pipefail

PACKAGES=(
  # Manim builds pycairo and manimpango against these
  pkg-config libcairo2-dev libpango1.0-dev
  # MathTex needs LaTeX and dvisvgm
  texlive-latex-base texlive-latex-recommended texlive-latex-extra dvisvgm
  # the isolated grader's sandbox
  bubblewrap
  # MathJax for the lessons' HTML export, offline
  libjs-mathjax
  # make test-user: a Python with venv that an unprivileged account can run
  # (root's own may live under /root, which only root can read)
  python3-venv
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: these system packages are needed and this is not a Debian/Ubuntu machine: ${missing[*]}" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo)
else
  echo "error: these Debian packages are missing and I cannot install them (not root, no sudo):" >&2
  echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
