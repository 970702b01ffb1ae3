# The two commands of the README do all the set-up on a fresh machine:
#   make run   installs, then serves the Almi example on the embedded default (SQLite)
#   make test  installs, then runs the whole test suite (lint, types, tests)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# axe-core, the accessibility checker the browser tests load into pages (tests/e2e/package.json)
E2E    := tests/e2e
AXE    := $(E2E)/node_modules/axe-core/axe.min.js

.PHONY: run test install system lint typecheck pytest screenshots clean

run: install
	$(BIN)/ombud demo --dir demo --host $(HOST) --port $(PORT)

test: install lint typecheck pytest

install: system $(STAMP) $(AXE)

# Debian packages: poppler-utils (pdftotext, to check the PDF notice in tests), chromium
# (the browser tests drive it through Playwright), npm (installs axe-core for them) and the
# Pango libraries WeasyPrint renders PDFs with. Installed only when missing.
system:
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
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

# The exact axe-core of the lock file, again only when it is missing or the lock file changed.
# npm keeps the package's own file dates, so the stamp is touched to say when it came.
$(AXE): $(E2E)/package-lock.json
	cd $(E2E) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n auto

# docs/img's screenshots of the console, taken by the browser tests marked `screenshots`.
screenshots: install
	OMBUD_SCREENSHOTS=docs/img $(BIN)/pytest -m screenshots -p no:xdist tests/e2e

clean:
	rm -rf $(VENV) $(E2E)/node_modules demo build dist .pytest_cache .mypy_cache .ruff_cache
