# Zairyu — the two commands: `make run` and `make test`. Nothing but Python 3.11 and make needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
TEST_WORKERS ?= auto
export PORT

.PHONY: install run test test-postgres bench walk screenshots lint typecheck format messages check-deploy clean api-schema api-contract

## make install: a development machine gets both locks; production installs requirements.lock alone
$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(VENV)/.installed

## make run: set up, migrate, load reference + demo data (idempotent) and serve on 127.0.0.1:$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py serve --port $(PORT)

## make test: set up and run the whole suite (SQLite; tests needing PostgreSQL/Redis/Chromium say when skipped)
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) -q

## make walk: start `make run` on WALK_PORT (not 8000) with fresh data, follow every link as each demo
## user in Chromium (desktop and phone): screenshots and axe-core into var/walk/, report var/walk/report.md
WALK_PORT ?= 8123
walk: install
	$(PY) scripts/walk.py --port $(WALK_PORT)

screenshots: walk

## make bench: run benchmarks/, one figure a line as `name: value unit`
bench: install
	$(PY) benchmarks/run.py

## make api-schema: regenerate docs/api/openapi.json from the code (commit it with the API change)
api-schema: install
	$(PY) manage.py api_schema --write

## make api-contract: Schemathesis against every API operation on gunicorn with PostgreSQL (as .ci/run)
api-contract: install
	$(PY) scripts/api_contract.py

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(MAKE) --no-print-directory typecheck

## make typecheck: mypy with django-stubs ([tool.mypy] in pyproject.toml: strict on the service layer)
typecheck: install
	$(PY) -m mypy

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## make messages: refresh and compile the Japanese translations (needs GNU gettext)
messages: install
	cd src/zairyu && ../../$(PY) ../../manage.py makemessages -l ja --no-obsolete --ignore 'tests/*'
	cd src/zairyu && ../../$(PY) ../../manage.py compilemessages -l ja

check-deploy: install
	ZAIRYU_ENV=production ZAIRYU_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	ZAIRYU_ALLOWED_HOSTS=zairyu.example ZAIRYU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/zairyu \
	ZAIRYU_REDIS_URL=redis://127.0.0.1:6379/0 ZAIRYU_CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
	ZAIRYU_SMTP_HOST=127.0.0.1 ZAIRYU_CLAMD=tcp://127.0.0.1:3310 $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
