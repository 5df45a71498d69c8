# Code checks: style, types and the import contract between the layers. Included from the main Makefile.

.PHONY: lint format lint-venv

# import-linter lives in a venv of its own: it would bring `rich`, which makes Rasa print tracebacks with
# their local variables (user text) when a terminal is attached.
LINT_VENV := .run/lint-venv

$(LINT_VENV)/.installed:
	$(PY) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install -q import-linter==2.15
	touch $@

lint-venv: $(LINT_VENV)/.installed  ## The venv of import-linter alone (the layer tests need it too)

lint: install $(LINT_VENV)/.installed  ## ruff, black --check, mypy and the layer contract (import-linter)
	$(VENV)/bin/ruff check vraagbaak actions tests
	$(VENV)/bin/black --check vraagbaak actions tests
	$(VENV)/bin/mypy vraagbaak actions
	PYTHONPATH=. $(LINT_VENV)/bin/lint-imports --no-cache

format: install  ## Apply black and ruff fixes
	$(VENV)/bin/ruff check --fix vraagbaak actions tests
	$(VENV)/bin/black vraagbaak actions tests
