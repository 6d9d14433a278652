# Bildungslotse – two set-up commands: `make demo` (console chat on SQLite) and `make test`.
SHELL := /bin/bash
# 3.11 first: the image's Python, and the one constraints.txt (`make lock`) was resolved for
FOUND_PYTHON := $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
PYTHON ?= $(FOUND_PYTHON)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-long test-shifted install install-dev lint bench clean synapse image-check lock

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Fehler: Python >= 3.11 wird benötigt." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# runtime libraries at the versions of constraints.txt (`make lock`), the same as in the image
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --constraint constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --constraint constraints.txt -e '.[dev]'
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

# Tests whose answers depend on the date or the hour: `make test` runs them again on two shifted clocks
# (23:40 Berlin on the day DST ends, 00:10 Berlin on the day it starts, the latter in a far-off TZ),
# so CI proves at every run that it is not green only by day or only in Germany.
DATED_TESTS := tests/test_hours_and_days.py tests/test_reminders_planner.py tests/test_reminders_dispatch.py \
	tests/test_reminders_runtime.py tests/test_reminders_telegram.py tests/test_events_handlers.py \
	tests/test_events_ics.py
SHIFTED_NOW ?= 2026-10-25T23:40:00+01:00

test: install-dev synapse
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	BL_TEST_NOW=2026-10-25T23:40:00+01:00 $(BIN)/python -m pytest -q $(DATED_TESTS)
	TZ=Pacific/Kiritimati BL_TEST_NOW=2026-03-29T00:10:00+01:00 $(BIN)/python -m pytest -q $(DATED_TESTS)

# The 10,000-example property test of the dialog (about 20 s more); CI runs it after `make test`.
test-long: install-dev
	DIALOG_PROPERTY_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/test_dialog_properties.py

# The whole suite with the process clock at SHIFTED_NOW (default: 23:40 Berlin on a DST day), ticking on.
test-shifted: install-dev synapse
	BL_TEST_NOW=$(SHIFTED_NOW) $(BIN)/python -m pytest -q

# Benchmarks (minutes; never part of `make test`): results as ratios to same-run baselines in docs/benchmarks.md
BENCH_OUT ?= .bench
# e.g. BENCH_POSTGRES_URL=postgresql://127.0.0.1:5432/bench (an empty database) adds the dialog on PostgreSQL,
# with one bot process and with two (webhook mode behind a round-robin proxy)
BENCH_POSTGRES_URL ?=
bench: install-dev
	mkdir -p $(BENCH_OUT)
	$(BIN)/python -m bench.dialog --json $(BENCH_OUT)/dialog.json
	if [ -n "$(BENCH_POSTGRES_URL)" ]; then $(BIN)/python -m bench.dialog --rounds 3 \
		--database-url "$(BENCH_POSTGRES_URL)" --json $(BENCH_OUT)/dialog_postgresql.json; fi
	if [ -n "$(BENCH_POSTGRES_URL)" ]; then $(BIN)/python -m bench.dialog --rounds 3 --processes 2 \
		--database-url "$(BENCH_POSTGRES_URL)" --json $(BENCH_OUT)/dialog_postgresql_2p.json; fi
	$(BIN)/python -m bench.dialog --latency --json $(BENCH_OUT)/latency.json
	$(BIN)/python -m bench.matching --json $(BENCH_OUT)/matching.json
	$(BIN)/python -m bench.turn --json $(BENCH_OUT)/turn.json
	$(BIN)/python -m bench.report $(BENCH_OUT) docs/benchmarks.md
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.load $(if $(BENCH_POSTGRES_URL),--postgres-url "$(BENCH_POSTGRES_URL)")  # ~7 min: 2,000 users, two webhook processes, PostgreSQL

# Builds the image with the real Dockerfile and runs it (root, minutes; never part of `make test`): installs
# Debian's docker.io and debootstrap if missing, starts dockerd if none runs, falls back to a debootstrapped
# bookworm base where python:3.11-slim cannot be pulled; PASS/FAIL per check (docs/container-check.md)
image-check: install-dev
	bash deploy/image-check.sh

# The image and `make install` take exactly the versions in constraints.txt (pip -c): a rebuild next month gets
# the libraries the tests ran with. After changing `dependencies` in pyproject.toml: `make lock`, run the tests, commit constraints.txt.
# Python 3.11 as in the image; tests/test_constraints.py fails while a dependency has no pin.
LOCK_PYTHON ?= python3.11
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) build
	$(LOCK_PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet .
	{ echo "# Exact versions of every runtime dependency, for the image and \`make install\` (pip --constraint)."; \
	  echo "# Made by \`make lock\` with $$($(LOCK_VENV)/bin/python -V) on $$(date -u +%F); do not edit by hand."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude bildungslotse; } > constraints.txt
	rm -rf $(LOCK_VENV) build

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .mypy_cache data .bench
