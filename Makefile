# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint format schema sdk clean node-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap --quiet-if-done
	DEPOT_BIND_HOST=$(HOST) $(BIN)/python manage.py welcome --host $(HOST) --port $(PORT)
	DEPOT_BIND_HOST=$(HOST) $(BIN)/uvicorn config.asgi:application --http config.http_protocol:BoundedHttpToolsProtocol \
		--host $(HOST) --port $(PORT) --no-access-log

# The browser, SDK, tus-js and MCP Inspector tests use npm packages pinned by lock files under
# tests/; each folder is installed once (when npm is on the machine; without it they skip).
NODE_DIRS := $(patsubst %/package-lock.json,%,$(shell find tests -name package-lock.json -not -path '*/node_modules/*'))

node-deps:
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: the node-based tests will skip"; exit 0; }; \
	for dir in $(NODE_DIRS); do \
	  test -d $$dir/node_modules || (cd $$dir && npm ci --no-audit --no-fund --silent) || exit 1; \
	done

# On the embedded default the suite runs on two workers (each its own test database; every test
# its own storage folder); on the production profile serially, since the workers would share
# Redis's counters and the S3 bucket.
PYTEST_ARGS ?= $(if $(DATABASE_URL),,-n 2)

test: $(STAMP) node-deps
	DEPOT_DATA_DIR=$${DEPOT_TEST_DATA_DIR:-$(CURDIR)/data/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The shipped clients (clients/, issue 12): `make sdk` writes the schema from the code
# (clients/openapi.yaml, validated, warnings as errors), then from it the Python package
# (clients/python/) and the TypeScript types (clients/typescript/depot.d.ts; the npm tools of
# tests/js/sdk, installed from its lock file when missing). tests/test_sdk_up_to_date.py fails
# until it is rerun after an API change. `make schema` writes the schema alone.
sdk: $(STAMP)
	$(BIN)/python clients/generate.py

schema: $(STAMP)
	$(BIN)/python clients/generate.py --schema-only

clean:
	rm -rf $(VENV) data .pytest_cache
