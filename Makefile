# Two commands matter: `make demo` and `make test`.  Both build .venv first, with
# both distributions installed editable: the tools (cat-devtools, from the root
# pyproject.toml) and the runtime (cat-devtools-runtime, from runtime/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench dist clean

$(STAMP): pyproject.toml runtime/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python 3.10 or newer is required"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]' -e './runtime[postgres]'
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
	$(BIN)/python bench/big_file.py
	$(BIN)/python bench/lsp.py

# Every wheel into dist/: cat-devtools (the tools) and cat-devtools-runtime (the `cat` runtime).
dist: $(STAMP)
	rm -rf dist build *.egg-info
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist . ./runtime
	rm -rf build *.egg-info
	@ls -1 dist

clean:
	rm -rf $(VENV) .pytest_cache .cat-lint-cache examples/data dist build *.egg-info
