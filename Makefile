# Bildungslotse – two set-up commands: `make demo` (console chat on SQLite) and `make test`.
SHELL := /bin/bash
FOUND_PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
PYTHON ?= $(FOUND_PYTHON)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-dev lint bench clean synapse

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Fehler: Python >= 3.11 wird benötigt." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Matrix integration tests run a real Synapse homeserver; it lives in its own venv and is never a bot dependency.
SYNAPSE_VENV ?= .synapse-venv
SYNAPSE_VERSION ?= 1.163.2
$(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION):
	@test -n "$(PYTHON)" || { echo "Fehler: Python >= 3.11 wird benötigt." >&2; exit 1; }
	rm -rf $(SYNAPSE_VENV)
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet "matrix-synapse==$(SYNAPSE_VERSION)"
	@touch $@
synapse: $(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION)

demo: $(VENV)/.installed
	$(BIN)/bildungslotse db upgrade
	$(BIN)/bildungslotse knowledge load
	$(BIN)/bildungslotse events import --examples
	$(BIN)/bildungslotse chat

lint: install-dev
	$(BIN)/ruff check .

test: install-dev synapse
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .mypy_cache data
