# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint format schema clean

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

test: $(STAMP)
	DEPOT_DATA_DIR=$${DEPOT_TEST_DATA_DIR:-$(CURDIR)/data/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yaml

clean:
	rm -rf $(VENV) data .pytest_cache
