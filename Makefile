# FocusFlow: `make run` serves the API locally, `make test` runs lint and the whole suite.
PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/focusflow

.PHONY: run db-stop test test-env deploy-test bench lint format install install-dev migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# The npm tools that check the schema as client generators see it, exactly as package-lock.json
# pins them (focusflow/tests/test_clients.py).
node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

# Local run: debug on; without DATABASE_URL, manage.py starts the embedded PostgreSQL in .pgdata/
# (focusflow/db/embedded.py), which stops when this recipe ends, Ctrl-C included. `manage.py serve`
# is uvicorn: one process serves the API, the admin, the docs and the live streams of
# /api/events/ (without REDIS_URL the pokes stay in that process), and reloads on code changes.
# The worker runs
# beside the server and prints every email (links and codes) to this console (EMAIL_URL
# defaults to console:). The trap runs in the recipe's shell: it stops the worker, waits for it,
# then the database; it does nothing more when DATABASE_URL is set or the server is already down.
# load_quotes is idempotent (quotes already stored are skipped), so every run loads the file.
RUN_ADDRESS ?= 127.0.0.1:8000
run: export DJANGO_DEBUG ?= 1
run: $(VENV)/.installed
	@worker=; trap '[ -z "$$worker" ] || { kill -TERM $$worker 2>/dev/null; wait $$worker; }; \
		[ -n "$$DATABASE_URL" ] || $(BIN)/python -m focusflow.db.embedded stop' EXIT INT TERM; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py load_quotes fixtures/quotes.json && \
	{ $(BIN)/python manage.py worker --concurrency 2 & worker=$$!; } && \
	$(BIN)/python manage.py serve $(RUN_ADDRESS)

# Stops the embedded PostgreSQL that a `python manage.py ...` by hand left running.
db-stop:
	$(BIN)/python -m focusflow.db.embedded stop

# Chromium for the browser tests, Node.js for the client checks, PostgreSQL and Redis: started
# or installed when missing.
test-env:
	@PYTHON=$(PYTHON) bash scripts/provision.sh chromium node

test: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test: test-env $(VENV)/.installed-dev node_modules/.installed lint
	$(BIN)/python -m pytest

# nginx in front of two gunicorn instances, PostgreSQL and Redis, and a worker sending to a real
# SMTP server, checked end to end with a failover, a database outage, a minute-long SMTP outage,
# webhooks delivered while an instance is killed and a 3-minute soak (deploy/check). Its own
# database and Redis database number (DEPLOY_TEST_DATABASE_URL, DEPLOY_TEST_REDIS_URL), free ports.
deploy-test: export DEPLOY_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/focusflow_deploy_test
deploy-test: export DEPLOY_TEST_REDIS_URL ?= redis://127.0.0.1:6379/13
deploy-test: $(VENV)/.installed-dev
	@PYTHON=$(PYTHON) DATABASE_URL=$$DEPLOY_TEST_DATABASE_URL TEST_REDIS_URL=$$DEPLOY_TEST_REDIS_URL \
		bash scripts/provision.sh nginx
	$(BIN)/python -m deploy.check

# wrk against the hot endpoints and the floor of the stack (bench/run.py); writes the table to
# docs/performance.md. Its own database (BENCH_DATABASE_URL) and Redis database (BENCH_REDIS_URL).
# Then each speed trick the code keeps against its plain way (bench/tricks.py), and the reset
# request and the worker's mail latency (bench/mail.py), and one change's fan-out to an account's
# open event streams (bench/events.py).
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py
	$(BIN)/python bench/tricks.py
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/events.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache staticfiles
