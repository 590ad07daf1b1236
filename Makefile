# Two commands for a fresh machine with Python 3.11+ and make:
#   make chat   - create the environment, install, start the console companion
#   make test   - create the environment, install, run the whole test suite
# Installs take the versions pinned in constraints.txt, so every clone runs what was tested.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: chat test lint check bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

chat: $(BIN)/.installed
	$(BIN)/companion chat

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# Lint, format and type checks (CI runs them before the tests).
lint: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dev]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: $(BIN)/.installed
	$(BIN)/companion content check

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/engine_turns.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
