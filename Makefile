# daodian: `make run` serves the demo city, `make test` runs the whole suite. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
ASSETS_STAMP := node_modules/.assets-installed

.PHONY: run test test-sqlite test-postgresql install assets lint layers bench clean

run: $(RUN_STAMP) $(ASSETS_STAMP)
	$(BIN)/daodian db upgrade
	$(BIN)/daodian demo --if-empty
	$(BIN)/daodian serve

test: $(TEST_STAMP) $(ASSETS_STAMP)
	scripts/system-deps.sh
	$(BIN)/lint-imports
	scripts/test-both-legs.sh

test-sqlite: $(TEST_STAMP) $(ASSETS_STAMP)
	$(BIN)/python -m pytest --db sqlite

test-postgresql: $(TEST_STAMP) $(ASSETS_STAMP)
	$(BIN)/python -m pytest --db postgresql

install: $(RUN_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP) pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): package.json package-lock.json scripts/vendor-assets.sh
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor-assets.sh
	touch $@

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports

# The import contracts in pyproject.toml: layers one way, no cycles (docs/architecture.md).
layers: $(TEST_STAMP)
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules var src/daodian/web/static/vendor
