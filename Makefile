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
# `make vsix` builds, offline from the registries, one .vsix per VS Code
# platform (vscode-extension/cat-devtools-TARGET-VERSION.vsix) and the
# universal vscode-extension/cat-devtools-VERSION.vsix.  Each platform's holds
# the client bundled by esbuild and bundled/libs/: cat_lint, cat_lsp and their
# dependencies (never the `cat` runtime) for CPython 3.10 to 3.15, the pure
# Python once in common/ and libcst's compiled module of each Python beside
# it (scripts/bundle_libs.py says how).  The wheels, fetched for the target's
# platform tags and never the build machine's, are cached under
# $(CAT_CACHE)/vsix-wheels with what each target and Python resolved to, so
# a rebuild asks no registry (delete that folder to pick up new releases).
# The universal package has no bundle: it runs the cat-devtools installed in
# the user's Python.  `make vsix-TARGET` builds one package.  `make
# vscode-ready` also installs what the end-to-end test drives (Debian's
# chromium, code-server from npm), what runs the linux-arm64 bundle under
# emulation (Debian's qemu-aarch64-static and arm64 CPython 3.11) and
# Debian unstable's CPython 3.14 and 3.15, cached under $(CAT_CACHE).
EXT := vscode-extension
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
VSIX_TARGETS := win32-x64 win32-arm64 darwin-x64 darwin-arm64 linux-x64 linux-arm64 alpine-x64
VSIXES := $(foreach target,$(VSIX_TARGETS),$(EXT)/cat-devtools-$(target)-$(VERSION).vsix) $(EXT)/cat-devtools-$(VERSION).vsix
TOOLS_WHEEL := build/vsix-wheel/cat_devtools-$(VERSION)-py3-none-any.whl
CLIENT := $(EXT)/dist/extension.js
CAT_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cat-devtools
export npm_config_cache ?= $(CAT_CACHE)/npm

.PHONY: vsix vsix-universal vscode-ready vscode-bench vscode-screenshot

$(EXT)/node_modules/.installed: $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TOOLS_WHEEL): $(STAMP) $(wildcard cat_lint/*.py cat_lint/*/*.py cat_lsp/*.py) pyproject.toml
	rm -rf build/vsix-wheel build/lib build/bdist* *.egg-info
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir build/vsix-wheel .
	rm -rf build/lib build/bdist* *.egg-info

$(CLIENT): $(EXT)/node_modules/.installed $(EXT)/scripts/build.mjs $(wildcard $(EXT)/src/*.ts)
	cd $(EXT) && node scripts/build.mjs

PACKAGE_INPUTS := $(TOOLS_WHEEL) $(CLIENT) $(EXT)/package.json $(EXT)/README.md $(EXT)/.vscodeignore LICENSE \
	$(EXT)/scripts/bundle_libs.py $(EXT)/scripts/package_vsix.py

$(EXT)/cat-devtools-%-$(VERSION).vsix: $(PACKAGE_INPUTS)
	$(BIN)/python $(EXT)/scripts/package_vsix.py $* $(TOOLS_WHEEL) $@ $(CAT_CACHE)/vsix-wheels

$(EXT)/cat-devtools-$(VERSION).vsix: $(PACKAGE_INPUTS)
	$(BIN)/python $(EXT)/scripts/package_vsix.py universal $(TOOLS_WHEEL) $@ $(CAT_CACHE)/vsix-wheels

vsix: $(VSIXES)

# One package, as the release workflow (docs/release.md) builds each in its own job.
vsix-universal: $(EXT)/cat-devtools-$(VERSION).vsix
vsix-%: $(EXT)/cat-devtools-%-$(VERSION).vsix
	@true

vscode-ready: vsix
	sh tests/vscode/install-editor.sh
	sh tests/vscode/install-arm64.sh
	sh tests/vscode/install-newest-pythons.sh

# The .vsix's size and the time to the first diagnostic in code-server (measured, not asserted).
vscode-bench: vscode-ready
	$(BIN)/python bench/vscode.py

# The README's key explorer screenshot, taken by the end-to-end test.
vscode-screenshot: vscode-ready
	CAT_README_SCREENSHOT=$(CURDIR)/docs/images/vscode-key-explorer.png $(BIN)/python -m pytest -q tests/vscode/test_vscode_e2e.py
