# Skywatch: `make run` serves the product, `make test` proves it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONPATH := $(CURDIR):$(CURDIR)/platform

.PHONY: run test lint format worker beat needs-redis bench migrate install install-test clean chart-check image-check

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Skywatch needs $(PYTHON) on the PATH."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_plans

run: migrate
	@echo "Skywatch on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(PY) -m uvicorn skywatch.asgi:application --host 127.0.0.1 --port $(PORT) --lifespan on --ws-per-message-deflate false --no-proxy-headers

# Distributed mode only: Celery's broker is REDIS_URL (from the environment or .env).
needs-redis:
	@[ -n "$$REDIS_URL" ] || grep -qs '^REDIS_URL=.' .env || { echo "make worker and make beat need REDIS_URL (the Celery broker), e.g. REDIS_URL=redis://127.0.0.1:6379/0"; exit 1; }

worker: needs-redis migrate
	$(VENV)/bin/celery -A skywatch worker --loglevel INFO

beat: needs-redis migrate
	$(VENV)/bin/celery -A skywatch beat --loglevel INFO

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install-test chart-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_ENV=test $(PY) -m pytest

# Lints and renders the Helm chart (no helm binary) and the k8s overlays, validates every manifest.
chart-check: install-test
	$(PY) -m tests.deploy.chart_check

# Builds the image with buildah (root; no Docker engine) on a stand-in base cached between runs,
# then runs every role of it against the local PostgreSQL and Redis (docs/OPERATIONS.md).
image-check: install-test
	$(PY) -m tests.deploy.image_check

# Needs DATABASE_URL (PostgreSQL) and REDIS_URL; BENCH="fanout rest" runs some (docs/BENCHMARKS.md).
bench: install-test
	DJANGO_ENV=test $(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .coverage htmlcov
