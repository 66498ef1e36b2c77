# CrampTrack. `make run` runs the whole system on embedded defaults; `make test` runs the tests.
SHELL := /bin/bash
# The interpreter the venv is made from: python3.11 where there is one (pyproject.toml's requires-python).
PYTHON ?= $(or $(shell command -v python3.11 2>/dev/null),python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# Tests use this machine's PostgreSQL and Redis unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cramptrack
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run demo test test-fast lint typecheck lock bench-api bench-analysis bench-honesty bench-digest bench-reminders bench-import bench-memory bench-pwa bench-tap reliability reliability-quick clean

# The venv holds the development lock: the runtime's exact versions plus tests and tooling.
$(BIN)/.installed: requirements.lock requirements-dev.lock
	$(PYTHON) tools/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Re-lock after changing requirements.txt or requirements-dev.txt: versions already locked stay
# unless a requirement moves them (`make lock LOCK_ARGS=--upgrade` takes the newest of everything).
# The dev lock is resolved within the runtime lock's versions, so tests run what production runs.
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command "make lock" $(LOCK_ARGS)
## lock: compile requirements.lock (runtime, the Docker image) and requirements-dev.lock (make, CI)
lock: $(BIN)/.installed
	$(LOCK) requirements.txt --output-file requirements.lock
	$(LOCK) requirements-dev.txt --constraint requirements.lock --output-file requirements-dev.lock

# axe-core for the browser tests' accessibility checks. Lighthouse (a dev
# dependency) is only for bench/lighthouse.sh, which installs it itself.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package-lock.json
	npm ci --omit=dev --no-audit --no-fund
	touch $@

.env:
	sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')|" \
		-e "s|^VAPID_PRIVATE_KEY=.*|VAPID_PRIVATE_KEY=$$($(PYTHON) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode())')|" \
		.env.example > .env

## run: install, migrate and start web + Celery worker with embedded beat (Procfile) on embedded defaults
run: $(BIN)/.installed .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@echo "CrampTrack is starting at http://localhost:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	$(BIN)/honcho start --port $(PORT)

## demo: like run, with a demo patient and clinician (printed logins)
# Beat ticks every minute rather than 15 (analysis) and 5 (emails), so the demo's findings and its
# weekly email appear within a minute of the start.
demo: $(BIN)/.installed .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py share_demo
	ANALYSIS_TICK_SECONDS=$${ANALYSIS_TICK_SECONDS:-60} DIGEST_TICK_SECONDS=$${DIGEST_TICK_SECONDS:-60} $(MAKE) run

PYTEST := DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	SECRET_KEY=test-only-secret DEBUG=0 CELERY_TASK_ALWAYS_EAGER=0 $(BIN)/python -m pytest

## test: the whole suite on PostgreSQL + Redis (what CI runs)
test: $(BIN)/.installed $(AXE)
	$(PYTEST) $(PYTEST_ARGS)

## test-fast: the developer's inner loop, about 2 minutes: the same suite less the tests marked
## browser, embedded, servers (they start processes of their own) and slow (pytest.ini)
test-fast: $(BIN)/.installed
	$(PYTEST) -m "not browser and not embedded and not servers and not slow" $(PYTEST_ARGS)

## bench-api: the API budget, a realistic mix at 50 requests/s against gunicorn on PostgreSQL (bench/README.md)
bench-api: $(BIN)/.installed
	$(BIN)/python bench/api_mix.py

## bench-analysis: CPU per one-year diary (PostgreSQL, SQLite), 10,000 through Celery, linearity (bench/ANALYSIS.md; BENCH_ARGS=--quick)
bench-analysis: $(BIN)/.installed
	$(BIN)/python bench/analysis.py $(BENCH_ARGS)

## bench-honesty: a year of daily looks on simulated diaries: false alarms and power (bench/README.md)
bench-honesty: $(BIN)/.installed
	$(BIN)/python bench/honesty.py

## bench-digest: weekly emails per second per worker process into a local SMTP server (bench/DIGEST.md)
bench-digest: $(BIN)/.installed
	$(BIN)/python bench/digest_throughput.py

## bench-memory: the whole `make run` stack's memory (PSS) while the demo patient uses the app (budget 400 MB)
bench-memory: $(BIN)/.installed
	$(BIN)/python bench/memory.py $(BENCH_ARGS)

## bench-reminders: 10,000 morning reminders planned and pushed into a local Web Push receiver (bench/REMINDERS.md)
bench-reminders: $(BIN)/.installed
	$(BIN)/python bench/reminders.py $(BENCH_ARGS)

## bench-import: a 10 MB CSV export of episodes through the importer, then again (BENCH_ARGS=--shape minimal)
bench-import: $(BIN)/.installed
	$(BIN)/python bench/import_speed.py $(BENCH_ARGS)

## bench-pwa: Lighthouse scores and first-load bytes of the log page (see bench/PWA.md)
bench-pwa: $(BIN)/.installed
	$(BIN)/python bench/lighthouse.py

## bench-tap: a cramp shows as saved <= 100 ms after the last tap at 4x CPU slowdown, online and offline (bench/PWA.md)
bench-tap: $(BIN)/.installed
	$(BIN)/python bench/tap_to_saved.py $(BENCH_ARGS)

# The reliability battery's tools live in their own venv (locust's gevent must not patch the app).
RELIABILITY_VENV := .venv-reliability
$(RELIABILITY_VENV)/.installed: requirements-reliability.txt
	$(PYTHON) -m venv $(RELIABILITY_VENV)
	$(RELIABILITY_VENV)/bin/pip install --quiet -r requirements-reliability.txt
	touch $@

## reliability: schemathesis, a 10-minute soak at 70% of capacity, faults under load (see bench/RELIABILITY.md; as root)
reliability: $(BIN)/.installed $(RELIABILITY_VENV)/.installed
	$(BIN)/python bench/reliability.py $(RELIABILITY_ARGS)

## reliability-quick: the same with a 120 s soak and shorter runs (CI)
reliability-quick: $(BIN)/.installed $(RELIABILITY_VENV)/.installed
	$(BIN)/python bench/reliability.py --quick $(RELIABILITY_ARGS)

## lint: ruff (lint and format) and mypy
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) typecheck

## typecheck: mypy with the Django and DRF plugins (configured in pyproject.toml)
# The Django plugin imports the settings, which want a SECRET_KEY; this one is never used to sign anything.
typecheck: $(BIN)/.installed
	SECRET_KEY=typecheck-only DEBUG=0 $(BIN)/mypy

clean:
	rm -rf $(VENV) $(RELIABILITY_VENV) var
