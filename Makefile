# Two commands matter: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python 3.10 or newer is required"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

# The example project has plugins with each mistake on purpose: show the findings, then run it.
demo: $(STAMP)
	@echo "== cat-lint examples/plugins =========================================="
	$(BIN)/cat-lint --exit-zero --output-format concise examples/plugins
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/store.py
	$(BIN)/python bench/lint.py
	$(BIN)/python bench/lsp.py

clean:
	rm -rf $(VENV) .pytest_cache .cat-lint-cache examples/data
