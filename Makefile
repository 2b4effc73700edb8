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

test: $(STAMP) vscode-ready
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/store.py
	$(BIN)/python bench/lint.py
	$(BIN)/python bench/big_file.py
	$(BIN)/python bench/one_key.py
	$(BIN)/python bench/lsp.py

# Every wheel into dist/: cat-devtools (the tools) and cat-devtools-runtime (the `cat` runtime).
dist: $(STAMP)
	rm -rf dist build *.egg-info
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist . ./runtime
	rm -rf build *.egg-info
	@ls -1 dist

clean:
	rm -rf $(VENV) .pytest_cache .cat-lint-cache examples/data dist build *.egg-info

# -- VS Code extension -------------------------------------------------------
# `make vsix` builds vscode-extension/cat-devtools-linux-x64-VERSION.vsix offline
# from the registries: the client bundled by esbuild, plus bundled/libs/py3.X
# (cat_lint, cat_lsp and their dependencies, never the `cat` runtime) for
# Python 3.10 to 3.13.  `make vscode-ready` also installs what the end-to-end
# test drives (Debian's chromium, code-server from npm), cached under
# $(CAT_CACHE) between runs.
EXT := vscode-extension
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
VSIX := $(EXT)/cat-devtools-linux-x64-$(VERSION).vsix
CAT_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cat-devtools
export npm_config_cache ?= $(CAT_CACHE)/npm

.PHONY: vsix vscode-ready vscode-bench vscode-screenshot

$(EXT)/node_modules/.installed: $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VSIX): $(STAMP) $(EXT)/node_modules/.installed $(EXT)/package.json $(EXT)/scripts/bundle_libs.py $(EXT)/README.md \
		$(wildcard $(EXT)/src/*.ts) $(wildcard cat_lint/*.py cat_lint/*/*.py cat_lsp/*.py) pyproject.toml
	rm -rf build/vsix $(EXT)/bundled $(EXT)/dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir build/vsix .
	$(BIN)/python $(EXT)/scripts/bundle_libs.py build/vsix/cat_devtools-$(VERSION)-py3-none-any.whl $(EXT)/bundled/libs
	cp LICENSE $(EXT)/LICENSE
	cd $(EXT) && node scripts/build.mjs
	cd $(EXT) && npx vsce package --target linux-x64 --no-dependencies --allow-missing-repository \
		--out cat-devtools-linux-x64-$(VERSION).vsix
	rm -rf build/vsix build/lib build/bdist* *.egg-info

vsix: $(VSIX)

vscode-ready: vsix
	sh tests/vscode/install-editor.sh

# The .vsix's size and the time to the first diagnostic in code-server (measured, not asserted).
vscode-bench: vscode-ready
	$(BIN)/python bench/vscode.py

# The README's key explorer screenshot, taken by the end-to-end test.
vscode-screenshot: vscode-ready
	CAT_README_SCREENSHOT=$(CURDIR)/docs/images/vscode-key-explorer.png $(BIN)/python -m pytest -q tests/vscode/test_vscode_e2e.py
