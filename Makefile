# Two commands for a new user: `make demo` and `make test`. Both set up what is missing first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PARE   := $(VENV)/bin/pare
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup system venv demo test unit integration lint fuzz bench bench-transfer bench-analyze bench-build clean

setup: system venv

system:
	@bash scripts/install-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@sh scripts/install-completion.sh $(VENV)
	@touch $(STAMP)

demo: setup
	$(PY) scripts/demo.py

lint: venv
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

integration: setup
	$(PY) -m pytest tests/integration -q $(PYTEST_ARGS)

# The long fuzz run: every parser of untrusted bytes, FUZZ_SECONDS each (the short run is in `unit`).
FUZZ_SECONDS ?= 40
fuzz: venv
	$(PY) scripts/fuzz.py --seconds $(FUZZ_SECONDS)

# Fast checks first, then the real registry / engine tests.
test: setup lint
	$(PY) -m pytest tests/unit tests/integration -q $(PYTEST_ARGS)

# Benchmarks print figures and ratios against a peer tool measured in the same run.
bench: bench-transfer bench-analyze bench-build

bench-transfer: setup
	$(PY) benchmarks/transfer.py

bench-analyze: setup
	$(PY) benchmarks/analyze.py

bench-build: setup
	$(PY) benchmarks/build.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
