# Every target works on a fresh clone with nothing installed but Python >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MINISTACK_VENV := .ministack-venv
MINISTACK_VERSION ?= 1.5.33
CHECKOV_VENV := .checkov-venv
CHECKOV_VERSION ?= 3.3.30
AWSCLI_VENV := .awscli-venv
AWSCLI_VERSION ?= 1.46.2
BLUEPRINTS := $(wildcard blueprints/*.yaml)

.PHONY: install emulator checkov awscli test test-fast lint demo goldens bench clean

$(BIN)/cfngen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(BIN)/cfngen ## create .venv with cfngen and its dev tools
	@# bytecode for cfngen itself: read even where PYTHONDONTWRITEBYTECODE stops Python writing it
	@$(BIN)/python -m compileall -q cfngen

$(MINISTACK_VENV)/bin/ministack:
	$(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/pip install --quiet --disable-pip-version-check 'ministack==$(MINISTACK_VERSION)'
	touch $@

emulator: $(MINISTACK_VENV)/bin/ministack ## MiniStack in its own venv (it pins its own botocore)

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	touch $@

checkov: $(CHECKOV_VENV)/bin/checkov ## checkov in its own venv (it pins an old boto3)

$(AWSCLI_VENV)/bin/aws:
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check 'awscli==$(AWSCLI_VERSION)'
	touch $@

awscli: $(AWSCLI_VENV)/bin/aws ## the AWS CLI v1 in its own venv (the runbook replay test runs it)

# pytest keeps each test module, its asserts rewritten, in __pycache__; where the environment
# sets PYTHONDONTWRITEBYTECODE it would rewrite ~130 of them in every worker of every run (~2 s)
KEEP_PYTEST_CACHE := PYTHONDONTWRITEBYTECODE=

test: install emulator checkov awscli ## run every test (unit, golden, CLI, security gates, emulator deploys)
	$(KEEP_PYTEST_CACHE) \
	MINISTACK_BIN=$(abspath $(MINISTACK_VENV))/bin/ministack \
	CHECKOV_BIN=$(abspath $(CHECKOV_VENV))/bin/checkov \
	AWSCLI_BIN=$(abspath $(AWSCLI_VENV))/bin/aws \
	$(BIN)/pytest -q -n 2 --dist loadgroup

test-fast: install ## every test but the slow groups (emulator deploys, checkov, fuzzing, corpora)
	$(KEEP_PYTEST_CACHE) $(BIN)/pytest -q -n 2 -m "not (emulator or checkov or fuzz or slow)"

lint: install ## ruff + mypy
	$(BIN)/ruff check cfngen tests
	$(BIN)/ruff format --check cfngen tests
	$(BIN)/mypy

demo: install emulator ## render + lint legocity dev and prod, then deploy dev on the local emulator
	$(BIN)/python -m tools.demo

goldens: install ## regenerate tests/golden/ on purpose (review the diff before committing)
	$(BIN)/python -m tests.goldens

bench: install emulator ## render (and deploy) timings
	$(BIN)/python -m tools.bench

clean:
	rm -rf $(VENV) $(MINISTACK_VENV) $(CHECKOV_VENV) $(AWSCLI_VENV) out .bench
