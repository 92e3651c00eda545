# Two commands: `make demo` (grade the sample class) and `make test`.
# Both set up .venv/ first when it is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed before anything else, so that no other requirement pulls
# a CUDA build: TORCH_SPEC from PyTorch's CPU wheel index when it answers
# within 3 s, else from pip's default index (scripts/install-torch.sh).
# TORCH_INDEX=URL takes torch from that index instead.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
export TORCH_SPEC TORCH_INDEX
# nbgrader runs alembic as a program: it must find the venv's bin/ on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0

# What `make test-user` runs as an unprivileged user (CI runs as root).
USER_TESTS := tests/test_sandbox.py tests/adversarial tests/test_grade_cli.py tests/isolation

.PHONY: demo test test-user setup system lessons videos exercises kit clean

demo: setup
	$(BIN)/python -m autograder.demo

# As root, the sandbox and adversarial tests run again as an ordinary user,
# even when the first run failed: CI reports both.
test: setup
	@status=0; $(BIN)/python -m pytest -q || status=1; \
	if [ "$$(id -u)" -eq 0 ]; then $(MAKE) --no-print-directory test-user || status=1; \
	else echo "test-user: not needed, the tests above ran as the ordinary user $$(id -un)"; fi; \
	exit $$status

# USER_TESTS as an unprivileged user: the current one, or, as root, the
# account msegrad-ci in a copy of the course (scripts/test-as-user.sh).
test-user: setup
	@PYTHON=$(PYTHON) bash scripts/test-as-user.sh -q $(USER_TESTS)

setup: $(VENV)/.installed

system:
	@bash scripts/system-packages.sh

$(VENV)/.installed: pyproject.toml scripts/system-packages.sh scripts/install-torch.sh
	@bash scripts/system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	bash scripts/install-torch.sh $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[all]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@echo "set-up done: torch $$($(BIN)/python -c 'import torch; print(torch.__version__)'), $(VENV)/ is $$(du -sh $(VENV) | cut -f1)"
	touch $@

# Regenerate the student release from solutions/ (commit the result).
exercises: setup
	$(BIN)/python -m autograder.points
	$(BIN)/python -m autograder.release

# What students receive, one kit per assignment in out/kit/<assignment id>/: the release
# notebook, the visible checks, a README.
kit: setup
	@for id in $$($(BIN)/python -c "from autograder import assignments; print(*assignments.names())"); do \
		$(BIN)/msegrad kit --out out/kit/$$id --assignment $$id || exit 1; \
	done

lessons: setup
	$(BIN)/python -m course.export

videos: setup
	$(BIN)/msegrad render --quality low

clean:
	rm -rf $(VENV) build *.egg-info
