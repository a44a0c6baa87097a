# The two commands: `make run` (serve the app with demo data) and `make test` (the whole test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
INSTANCE_PATH ?= $(CURDIR)/instance
export INSTANCE_PATH

.PHONY: run test bench install install-dev system-packages bench-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian packages the tests need: chromium (browser tests), a TrueType CJK font (PDFs, screenshots),
# poppler-utils (pdftotext). Installed only when missing.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing="$$missing fonts-wqy-zenhei"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	EMBEDDED_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks: every figure beside its baseline from the same run, written to docs/benchmarks.md; then the
# long load test (50 API clients through gunicorn, 1,000 review tasks) on PostgreSQL.
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: install-dev system-packages bench-packages
	$(BIN)/python -m tests.bench $(BENCH_ARGS)
	LOAD_CLIENTS=50 LOAD_TASKS=1000 TEST_DATABASE_URL=$(BENCH_PG_URL) $(BIN)/python -m pytest -q -m load -p no:cacheprovider

bench-packages:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian package: wrk"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf $(VENV) instance .pytest_cache
