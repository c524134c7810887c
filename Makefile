# Two commands from a fresh clone: `make run` and `make test`; a third for contributors, `make lint`.
# Each installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint venv bench card clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## embedded Redis + web + worker + simulated phone network, at human pace
	$(BIN)/python -m scripts.run_local

# Two test processes (pytest-xdist), each with its own Redis and stack: the tests mostly wait on
# processes and sockets (11 min in one process). Four take under 5 min but load two cores so
# much that a few end-to-end tests' timing assumptions break (see docs/reliability.md).
# Tests marked xdist_group("heavy") (failover, restart, load) run one after another on one of them.
TEST_PROCESSES ?= 2

test: $(STAMP)  ## every test, on a real (embedded) Redis and real RQ worker processes
	$(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --dist loadgroup

lint: $(STAMP)  ## ruff's linter and formatter (check only), then mypy; configuration in pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

BENCHMARKS := webhooks dispatch stream memory languages bench_time_to_interpreter coverage

bench: $(STAMP)  ## every benchmark in turn (python -m bench.<name>); fails at the end if any missed its targets
	status=0; for b in $(BENCHMARKS); do $(BIN)/python -m bench.$$b || status=1; done; exit $$status

card: $(STAMP)  ## regenerate docs/language-codes.md from the catalog
	$(BIN)/python -m dispatch.languages.card

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
