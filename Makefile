# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
# `make dist`: the wheel and sdist in dist/ for a site install (deploy/raspberry-pi/); `make constraints`: the
# venv's exact versions into constraints.txt, which the install scripts give pip (run it after the tests pass).
VENV ?= .venv
PYTHON ?= python3

# the tests run on the versions constraints.txt pins, the ones a site installs
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

.PHONY: demo test lint dist constraints
demo: $(VENV)/.installed
	$(VENV)/bin/shopfloor demo $(ARGS)

# the suite in one process per core, a test file per process at a time (its module fixtures, e.g. a demo server,
# made once); TEST_WORKERS=0 runs it in this process
TEST_WORKERS ?= auto
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python scripts/typecheck.py
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python scripts/typecheck.py

dist: $(VENV)/.installed
	rm -rf dist
	$(VENV)/bin/python -m build --outdir dist .

constraints: $(VENV)/.installed
	{ echo "# pip freeze of the venv the tests passed with (make constraints); the install scripts install with"; \
	  echo "# pip install -c constraints.txt so a site gets these versions"; \
	  $(VENV)/bin/pip freeze --exclude-editable | grep -v '^shopfloor[= @]'; } > constraints.txt
