# Lifeboat developer entry points. Everything installs into .venv from PyPI.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck check checkov bench sam-validate sam-build clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The main job: a real backup cycle of a demo fleet on an emulated AWS account.
demo: $(STAMP)
	$(VENV)/bin/lifeboat demo

## The whole suite: unit, functional (moto), state machine (real ASL on moto), template.
test: $(STAMP)
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers functions bench tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

## checkov on the template: 0 failed checks; every skip carries its reason in template.yaml.
## Its own venv: checkov pins libraries that the SAM CLI and cfn-lint pin differently.
CHECKOV_VENV := .venv-checkov
checkov:
	test -x $(CHECKOV_VENV)/bin/checkov || ($(PYTHON) -m venv $(CHECKOV_VENV) && \
		$(CHECKOV_VENV)/bin/pip install --quiet checkov==3.3.30)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet

## Orchestration cost and API calls per resource, cold imports, restore/drill RTO (README: Measurements).
bench: $(STAMP)
	$(PY) bench/backup_cycle.py --resources 20
	$(PY) bench/daily_cycle.py --resources 1000
	$(PY) bench/resource_day.py --resources 20
	$(PY) bench/cold_import.py
	$(PY) bench/drill_rto.py --runs 5
	$(PY) bench/failover.py --runs 3

sam-validate: $(STAMP)
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

sam-build: $(STAMP)
	$(VENV)/bin/sam build --template template.yaml

clean:
	rm -rf .aws-sam .lifeboat .pytest_cache .mypy_cache .ruff_cache .venv-checkov
