"""A student's machine: a fresh virtualenv with only torch, numpy, Jupyter's runner and the student kit
(and what the kit itself depends on: scikit-learn for assignment 2's data)."""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.runners import kit

# The CPU build the course pins (the Makefile's TORCH_SPEC); pip takes it from local disk where it lies there.
TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch==2.13.0")


@dataclass
class KitEnv:
    kit: Path
    python: Path
    home: Path

    def env(self) -> dict:
        """A student's environment: the kit venv first on PATH, nothing of the course's."""
        keep = {key: value for key, value in os.environ.items()
                if key in ("LANG", "LC_ALL", "TERM", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TMPDIR")}
        return {**keep, "PATH": f"{self.python.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(self.home),
                "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}

    def run(self, *args, cwd=None, check=True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(arg) for arg in args], cwd=cwd or self.home, env=self.env(),
                                capture_output=True, text=True, timeout=900)
        if check and result.returncode != 0:
            raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result


def _kit_env(root: Path, assignment: str | None = None) -> KitEnv:
    folder = kit.build(root / "kit", assignment=assignment)
    target = root / "venv"
    # No pip inside: the course's pip installs into it (--python), torch from local disk.
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(target)
    python = target / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, TORCH_SPEC], check=True, capture_output=True, timeout=1800)
    subprocess.run([*pip, "nbclient", "ipykernel", str(folder / kit.PACKAGE)], check=True, capture_output=True,
                   timeout=1800)
    home = root / "home"
    home.mkdir()
    return KitEnv(folder, python, home)


@pytest.fixture(scope="session")
def kit_env(tmp_path_factory) -> KitEnv:
    """Assignment 1's kit."""
    return _kit_env(tmp_path_factory.mktemp("student"))


@pytest.fixture(scope="session")
def vector_kit_env(tmp_path_factory) -> KitEnv:
    """Assignment 2's kit (mse-gradient-vector), in a virtualenv of its own: both kits are `autograder`."""
    return _kit_env(tmp_path_factory.mktemp("student-vector"), "mse-gradient-vector")
