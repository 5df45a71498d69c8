# Vraagbaak: the single entry point. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
LAUNCH := $(PY) -m vraagbaak.ops.launcher
MODEL := models/vraagbaak.tar.gz
# Training inputs: the model is rebuilt only when one of these changes.
TRAINING_INPUTS := config.yml domain.yml $(wildcard data/*/*.yml) vraagbaak/core/kennisbank.yml $(wildcard vraagbaak/adapters/nlu/*.py) \
	$(wildcard vraagbaak/core/safety/*.py) vraagbaak/core/safety/signalen.yml vraagbaak/core/normalise.py
# Rasa 3.6 needs Python 3.10; look on PATH, then in pyenv.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: help install model validate run shell test test-unit test-stories test-e2e bench clean install-nl-model

help:  ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 niet gevonden (Rasa 3.6 vereist Python < 3.11)."; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed  ## Create .venv with Python 3.10 and install pinned dependencies

install-nl-model: install  ## Optional: install spaCy's nl_core_news_sm (needs access to GitHub releases)
	$(PY) -m pip install -e '.[nl-model]'

$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	$(LAUNCH) rasa train --fixed-model-name vraagbaak --out models
	touch $@

model: $(MODEL)  ## Train the model if data, config or NLU code changed

validate: install  ## rasa data validate --fail-on-warnings
	$(LAUNCH) rasa data validate --fail-on-warnings

run: $(MODEL)  ## Set up, train if needed, start Rasa (5005), the action server (5055), the demo page (8080) and the staff console (8090)
	$(LAUNCH) serve $(MODEL)

shell: $(MODEL)  ## Chat in the terminal with the bot of `make run`; without one, starts its own and stops it on exit
	$(PY) -m vraagbaak.ops.shell --model $(MODEL)

test-unit: install lint-venv  ## Tests that need no model and no servers
	$(PY) -m pytest -m "not model and not servers and not cluster" -q

test-stories: $(MODEL)  ## Test stories, failing on any prediction error
	$(LAUNCH) rasa test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out reports/stories

test-e2e: $(MODEL)  ## End-to-end tests against real Rasa and action servers
	$(PY) -m pytest -m servers -q

test: $(MODEL) validate lint web-deps services-deps deploy-deps  ## Set up, train if needed, and run every test
	$(MAKE) test-stories
	$(PY) -m pytest -q
	$(MAKE) test-cluster

# BENCH_ARGS=--skip-baseline-rasa leaves out the rasa-init accuracy baseline (its 5-fold CV takes ~40 minutes here).
BENCH_ARGS ?=
bench: $(MODEL) services-deps  ## Accuracy vs baselines, latency, training time, memory; then 1 vs 2 replicas
	$(PY) -m vraagbaak.bench.run $(BENCH_ARGS)
	$(PY) -m vraagbaak.bench.cluster

clean:  ## Remove generated files (not the venv)
	rm -rf models reports results .pytest_cache

# Linting, the website widget, staff tools and the production cluster: one fragment each.
include make/lint.mk make/web.mk make/staff.mk make/cluster.mk
