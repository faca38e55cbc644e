# The README's two commands: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

BROWSER := $(VENV)/.browser

# pytest caches the modules it rewrites (tests, conftests, plugins) only where Python may
# write bytecode; without the cache each of the suite's many pytest processes rewrites
# them anew (seconds each). The caches go to __pycache__ folders here and in .venv.
export PYTHONDONTWRITEBYTECODE :=

# pytest with a temporary directory of its own, removed afterwards (pass, fail or Ctrl-C): its
# default (/tmp/pytest-of-$USER) is shared and outlives the run.
PYTEST := tmp=$$(mktemp -d -t pitstop-pytest-XXXXXX) || exit 1; \
	trap 'rm -rf "$$tmp"' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/pytest --basetemp="$$tmp"

.PHONY: test demo lint bench clean soak

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "pitstop needs Python 3.11 or newer: run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Playwright's Chromium where it can be downloaded, else a system Chromium
# (as root on Debian: apt-get install chromium).
$(BROWSER): $(STAMP)
	$(BIN)/pitstop browser
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(BROWSER)
	$(PYTEST) -n auto

# The full flow 100 times in a row and 100 times under two workers; numbers in soak-results.json.
soak: $(BROWSER)
	$(PYTEST) tests/soak -m soak -p no:xdist -v
	@cat soak-results.json

demo: $(BROWSER)
	$(BIN)/pitstop demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
