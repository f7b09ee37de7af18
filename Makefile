# rempart: `make run` starts the platform, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: pdf-libs run test lint typecheck pytest test-postgres browsers clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "rempart needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's pango and a font for WeasyPrint's PDF reports (also done by .ci/run).
pdf-libs:
	ldconfig -p | grep -q libpango-1.0.so.0 || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

run: $(STAMP)
	REMPART_DEMO_ASSESS=1 $(BIN)/rempart bootstrap
	$(BIN)/rempart serve --with-daemon --demo-traffic

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy src

# pytest exits 5 when it collected no test: that is a failure, never a success.
PYTEST = status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no test" >&2; exit 1; fi; exit $$status

pytest: $(STAMP)
	@$(PYTEST)

test: lint typecheck pytest

# The suite again against PostgreSQL (used by .ci/run).
test-postgres: export REMPART_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
test-postgres: PYTEST_ARGS = -m "not browser"
test-postgres: $(STAMP)
	@$(PYTEST)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
