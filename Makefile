# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
VENV ?= .venv
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

.PHONY: demo test lint
demo: $(VENV)/.installed
	$(VENV)/bin/shopfloor demo $(ARGS)

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python scripts/typecheck.py
	$(VENV)/bin/pytest $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python scripts/typecheck.py
