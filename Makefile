# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv on first use, so a fresh machine needs only Python 3.10+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/experiment --name default_network --type BP

# The whole suite on oneDNN's CPU kernels, then the kernel-dependent tests (marker `kernels`) on
# Eigen's: every x86 machine checks both families. TF_ENABLE_ONEDNN_OPTS is read at import.
test: $(TEST_STAMP)
	TF_ENABLE_ONEDNN_OPTS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)
	TF_ENABLE_ONEDNN_OPTS=0 $(BIN)/python -m pytest -m kernels $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
