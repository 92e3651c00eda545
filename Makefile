# Two commands: `make demo` (grade the sample class) and `make test`.
# Both set up .venv/ first when it is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A pinned CPU build of torch is installed before anything else so that no
# other requirement pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0
# nbgrader runs alembic as a program: it must find the venv's bin/ on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0

.PHONY: demo test setup system lessons videos exercises kit clean

demo: setup
	$(BIN)/python -m autograder.demo

test: setup
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed

system:
	@bash scripts/system-packages.sh

$(VENV)/.installed: pyproject.toml scripts/system-packages.sh
	@bash scripts/system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[all]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Regenerate the student release from solutions/ (commit the result).
exercises: setup
	$(BIN)/python -m autograder.release

# What students receive: the release notebook, the visible checks, a README.
kit: setup
	$(BIN)/msegrad kit --out out/kit

lessons: setup
	$(BIN)/python -m course.export

videos: setup
	$(BIN)/msegrad render --quality low

clean:
	rm -rf $(VENV) build *.egg-info
