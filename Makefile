# The targets CI and people call. Each one sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck fmt bench bench-quick chaos chaos-quick browser node-deps clean proto

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/herald serve

# Debian's Chromium drives the dashboard tests; Playwright never downloads a browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "could not install chromium: browser tests will skip (and fail under CI=true)"; }

# The npm socket.io-client that the compatibility tests drive.
node-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: Node client tests will skip (and fail under CI=true)"; \
	else for dir in tests/node bench/node; do \
	  if [ -f $$dir/package.json ]; then \
	    (cd $$dir && npm install --silent --no-audit --no-fund >/dev/null) || exit 1; fi; \
	done; fi

lint: $(STAMP)
	$(BIN)/ruff check herald tests bench
	$(BIN)/ruff format --check herald tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format herald tests bench
	$(BIN)/ruff check --fix herald tests bench

test: $(STAMP) browser node-deps lint typecheck
	$(BIN)/pytest

bench: $(STAMP) node-deps
	$(BIN)/python -m bench

bench-quick: $(STAMP) node-deps
	$(BIN)/python -m bench --quick $(if $(BENCH_RESULTS),--results $(BENCH_RESULTS) --no-report)

# Crashes and reconnect storms against real processes: 0 lost, 0 duplicated, or it fails.
chaos: $(STAMP) node-deps
	$(BIN)/python -m bench.chaos

# The bounded form CI runs (under 5 minutes); its figures go to a temp dir, not the docs.
chaos-quick: $(STAMP) node-deps
	$(BIN)/python -m bench.chaos --quick $(if $(CHAOS_RESULTS),--results $(CHAOS_RESULTS) --no-report)

# herald/grpc/v1 from proto/herald/v1/herald.proto (the generated code is committed).
proto: $(STAMP)
	$(BIN)/python -m herald.grpc.codegen

clean:
	rm -rf $(VENV) .herald .pytest_cache .mypy_cache .ruff_cache
