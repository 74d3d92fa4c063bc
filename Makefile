# The two commands of the README: `make run` and `make test`. Both set up everything they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app cacnet
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint format translations browser-deps install clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cacnet needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# Compiled catalogues are build output (git-ignored); make them from the .po sources.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d cacnet/translations

run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

# Headless Chromium (Debian's package), and from npm axe-core for the browser tests and
# oidc-provider, the loopback OpenID provider of the sign-in tests.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Install Chromium first (Debian/Ubuntu: sudo apt-get install chromium)"; exit 1; fi; }
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else echo "Install Node.js and npm first (Debian/Ubuntu: sudo apt-get install npm)"; exit 1; fi; }
	@[ -f node_modules/axe-core/axe.min.js ] && [ -d node_modules/oidc-provider ] || \
	  npm ci --no-audit --no-fund --loglevel=error

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Two test processes by default (pytest-xdist; each has its own SQLite file or PostgreSQL database).
PYTEST_ARGS ?= -n 2

test: $(VENV)/.installed-test translations browser-deps lint
	@echo "== tests on SQLite"
	CACNET_TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$CACNET_TEST_DATABASE_URL" ]; then \
	  echo "== tests on $$CACNET_TEST_DATABASE_URL"; \
	  $(BIN)/pytest $(PYTEST_ARGS); \
	fi

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
