# The two commands of the README do all the set-up on a fresh machine:
#   make run   installs, then serves the Almi example on the embedded default (SQLite)
#   make test  installs, then runs the whole test suite (lint, types, tests)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install system lint typecheck pytest clean

run: install
	$(BIN)/ombud demo --dir demo --host $(HOST) --port $(PORT)

test: install lint typecheck pytest

install: system $(STAMP)

# Debian packages: poppler-utils (pdftotext, to check the PDF notice in tests), chromium
# (the browser tests drive it through Playwright) and the Pango libraries WeasyPrint renders
# PDFs with. Installed only when missing.
system:
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	ldconfig -p | grep -q libpango-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n auto

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache
