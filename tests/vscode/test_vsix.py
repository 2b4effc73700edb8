"""The built packages: what each carries, and that their bundled server runs.

`make vsix` builds them (a prerequisite of `make test`); these tests read them
as a user's VS Code would receive them: one .vsix per VS Code platform, with
cat-lsp bundled for CPython 3.10 to 3.15, and the universal one without.
Native modules are checked by their headers (ELF machine, Mach-O CPU type, PE
machine), not only by their names.  The linux-x64 bundle's server runs with
each CPython this machine has, and the linux-arm64 one under qemu with
Debian's arm64 CPython (installed by `make vscode-ready`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from vscode_support import CACHE_ROOT, NEWEST_PYTHONS, ROOT, VSIX_TARGETS, package_json, universal_vsix, version, vsix

VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
# Pythons a target has no bundle for: libcst publishes no wheel there (README, "VS Code").
GAPS = {"darwin-x64": {"3.15"}}
# Where a target needs an older libcst than the others.
OLDER_LIBCST = {"darwin-x64"}
# Each package's size budget in MB (the README states them beside the sizes).
BUDGET_MB = {target: 12.0 for target in VSIX_TARGETS} | {"universal": 1.0}
LIBS = "extension/bundled/libs/"


def arch_of_native(data: bytes) -> tuple[str, str]:
    """(format, architecture) of a compiled module, from its header."""
    if data[:4] == b"\x7fELF":
        endian = "<" if data[5] == 1 else ">"
        (machine,) = struct.unpack_from(endian + "H", data, 18)
        return "elf", {0x3E: "x64", 0xB7: "arm64"}.get(machine, hex(machine))
    if data[:4] == b"\xcf\xfa\xed\xfe":  # 64-bit Mach-O, little-endian
        (cputype,) = struct.unpack_from("<I", data, 4)
        return "macho", {0x01000007: "x64", 0x0100000C: "arm64"}.get(cputype, hex(cputype))
    if data[:2] == b"MZ":
        (pe,) = struct.unpack_from("<I", data, 0x3C)
        assert data[pe:pe + 4] == b"PE\0\0"
        (machine,) = struct.unpack_from("<H", data, pe + 4)
        return "pe", {0x8664: "x64", 0xAA64: "arm64"}.get(machine, hex(machine))
    return "unknown", data[:4].hex()


def expected_native(target: str, python: str) -> tuple[str, str, str]:
    """The module's file name, format and architecture that ``target`` needs for ``python``."""
    system, arch = target.split("-")
    tag = python.replace(".", "")
    if system == "win32":
        return f"native.cp{tag}-{'win_amd64' if arch == 'x64' else 'win_arm64'}.pyd", "pe", arch
    if system == "darwin":
        return f"native.cpython-{tag}-darwin.so", "macho", arch
    machine = "x86_64" if arch == "x64" else "aarch64"
    # CPython 3.10 names a musl build's modules linux-gnu as well (its SOABI has no musl triplet), and so
    # does libcst's musllinux wheel for it: the ELF check below tells the C library apart.
    libc = "musl" if system == "alpine" and python != "3.10" else "gnu"
    return f"native.cpython-{tag}-{machine}-linux-{libc}.so", "elf", arch


class Package:
    """One .vsix, read once: its names, its bundle manifest, and file contents on demand."""

    def __init__(self, path: Path):
        self.path = path
        self.archive = zipfile.ZipFile(path)
        self.names = self.archive.namelist()
        self.manifest = json.loads(self.archive.read(LIBS + "manifest.json")) if LIBS + "manifest.json" in self.names else None

    def read(self, name: str) -> bytes:
        return self.archive.read(name)

    def top_level(self, folder: str) -> set[str]:
        prefix = f"{LIBS}{folder}/"
        return {name[len(prefix):].split("/", 1)[0] for name in self.names if name.startswith(prefix)}

    def pure_files(self) -> dict[str, str]:
        """The bundled Python files and package data: path under libs/ -> sha256 (of LF line ends).

        Not compiled code (modules, and the libraries auditwheel vendors), nor
        the .dist-info metadata (auditwheel's SBOM differs by wheel).
        """
        return {name[len(LIBS):]: hashlib.sha256(self.read(name).replace(b"\r\n", b"\n")).hexdigest()
                for name in self.names if name.startswith(LIBS) and not name.endswith("/manifest.json")
                and not re.search(r"\.(so|pyd|dylib)(\.\d+)*$|\.dist-info/", name)}


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    found = {target: Package(vsix(target)) for target in VSIX_TARGETS}
    found["universal"] = Package(universal_vsix())
    return found


def test_the_extension_and_the_tools_have_one_version():
    assert package_json()["version"] == version()


def test_the_server_runs_where_the_files_are():
    """With Remote-SSH, WSL or a Dev Container, the extension (and so cat-lsp) runs on the remote side."""
    assert package_json()["extensionKind"] == ["workspace"]


@pytest.mark.parametrize("target", [*VSIX_TARGETS, "universal"])
def test_each_package_is_one_bundled_client_for_its_platform(packages: dict[str, Package], target: str):
    package = packages[target]
    assert "extension/dist/extension.js" in package.names
    assert not [n for n in package.names if "/node_modules/" in n]
    assert not [n for n in package.names if n.startswith("extension/src/") or n.endswith(".ts")]
    manifest = package.read("extension.vsixmanifest").decode()
    platforms = re.findall(r'TargetPlatform="([^"]+)"', manifest)
    assert platforms == ([] if target == "universal" else [target])


def test_the_universal_package_has_no_bundle(packages: dict[str, Package]):
    assert not [n for n in packages["universal"].names if n.startswith("extension/bundled/")]


@pytest.mark.parametrize("target", VSIX_TARGETS)
def test_each_python_has_a_native_module_built_for_the_target(packages: dict[str, Package], target: str):
    """For 3.10 to 3.15 (less the known gaps): libcst's compiled module, for this platform and CPU, on that Python's path."""
    package = packages[target]
    manifest = package.manifest
    assert manifest["target"] == target
    assert set(manifest["gaps"]) == GAPS.get(target, set()), manifest["gaps"]
    assert sorted(manifest["pythons"]) == [v for v in VERSIONS if v not in GAPS.get(target, set())]
    for python, entry in manifest["pythons"].items():
        name, fmt, arch = expected_native(target, python)
        found = [f"{LIBS}{folder}/libcst/{name}" for folder in entry["path"] if f"{LIBS}{folder}/libcst/{name}" in package.names]
        assert found, f"{target} has no {name} for Python {python} in {entry['path']}"
        data = package.read(found[0])
        assert arch_of_native(data) == (fmt, arch), f"{found[0]} is {arch_of_native(data)}, not {(fmt, arch)}"
        if fmt == "elf":  # glibc or musl: the C library the module links against
            assert (b"libc.musl-x86_64.so.1" in data) == target.startswith("alpine"), found[0]
    natives = [n for n in package.names if n.endswith((".so", ".pyd"))]
    assert all(arch_of_native(package.read(n))[1] == target.split("-")[1] for n in natives), natives


def test_the_pure_python_files_are_the_same_in_every_target(packages: dict[str, Package]):
    """Only a target that needs an older libcst differs, and only in libcst.

    libcst's Windows wheels carry its files with CRLF line ends, so files are
    compared with line ends made alike (Python reads both the same).
    """
    reference = packages["linux-x64"].pure_files()
    assert any(path.startswith("common/cat_lsp/") for path in reference)
    for target in VSIX_TARGETS:
        files = packages[target].pure_files()
        differ = {p for p in reference.keys() | files.keys() if reference.get(p) != files.get(p)}
        if target in OLDER_LIBCST:
            assert differ and all(re.match(r"(common|py3\.\d+)/libcst[/-]", p) for p in differ), sorted(differ)[:20]
            assert {e["libcst"] for e in packages[target].manifest["pythons"].values()} != {"1.9.0"}
        else:
            assert not differ, f"{target} differs from linux-x64 in {sorted(differ)[:20]}"


@pytest.mark.parametrize("target", [*VSIX_TARGETS, "universal"])
def test_no_package_holds_the_cat_runtime(packages: dict[str, Package], target: str):
    package = packages[target]
    for folder in {n[len(LIBS):].split("/", 1)[0] for n in package.names if n.startswith(LIBS) and n.count("/") > 3}:
        found = package.top_level(folder)
        assert not found & {"cat", "cat.py", "cat_devtools_runtime", "cat_devtools_pytest.py"}, (folder, found)
        assert not [n for n in found if n.endswith(".pth")]
    assert not [n for n in package.names if re.search(r"/cat/(store|user)\.py$|/cat_devtools_runtime", n)]


@pytest.mark.parametrize("target", [*VSIX_TARGETS, "universal"])
def test_each_package_is_within_its_budget(packages: dict[str, Package], target: str):
    size = packages[target].path.stat().st_size / 1e6
    print(f"{packages[target].path.name}: {size:.1f} MB (budget {BUDGET_MB[target]:.0f} MB)")
    assert size <= BUDGET_MB[target]


def test_the_readme_states_each_size_and_budget(packages: dict[str, Package]):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target, budget in BUDGET_MB.items():
        row = re.search(rf"^\| `{target}`[^|]*\|.*\| ([\d.]+) MB \| ([\d.]+) MB \|$", readme, re.M)
        assert row, f"README's VS Code table has no row for {target}"
        assert float(row.group(2)) == budget
        assert abs(float(row.group(1)) - packages[target].path.stat().st_size / 1e6) <= 0.5, (target, row.group(0))


def test_python_310_gets_the_backports_its_markers_ask_for(packages: dict[str, Package]):
    package = packages["linux-x64"]
    assert {"tomli", "exceptiongroup"} <= package.top_level("py3.10")
    assert "tomli" not in package.top_level("common")
    assert package.manifest["pythons"]["3.11"]["path"] == ["common"]
    assert {"cat_lint", "cat_lsp", "libcst", "pygls", "lsprotocol"} <= package.top_level("common")


PROBE = (
    "import cat_lsp.server, cat_lint.engine, libcst, importlib.util, sys\n"
    "libcst.parse_module('async def f():\\n    pass\\n')\n"
    "cat = importlib.util.find_spec('cat')\n"
    "print(cat_lsp.server.__file__, libcst.__file__, cat.origin if cat else None)\n"
)


def runs_as(executable: str | None, python: str) -> bool:
    """Whether ``executable`` is a working Python of that minor version (a pyenv shim may only print an error)."""
    if not executable or not os.access(executable, os.X_OK):
        return False
    major, minor = python.split(".")
    check = f"import sys; sys.exit(sys.version_info[:2] != ({major}, {minor}))"
    return subprocess.run([executable, "-c", check], capture_output=True).returncode == 0


def local_pythons() -> dict[str, str]:
    """The CPythons 3.10 to 3.15 of this machine: this test's own, then the PATH's, pyenv's and Debian unstable's."""
    found = {f"{sys.version_info.major}.{sys.version_info.minor}": sys.executable}
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for python in VERSIONS:
        candidates = [shutil.which(f"python{python}"), *sorted(map(str, pyenv.glob(f"{python}.*/bin/python{python}"))),
                      str(NEWEST_PYTHONS[python]) if python in NEWEST_PYTHONS else None]
        first = None if python in found else next((c for c in candidates if runs_as(c, python)), None)
        if first:
            found[python] = first
    return found


def test_the_bundled_server_starts_from_the_linux_package_on_each_local_python(tmp_path: Path):
    """Each folder exactly as the extension uses it: first on PYTHONPATH, from the extension's folder."""
    with zipfile.ZipFile(vsix("linux-x64")) as archive:
        archive.extractall(tmp_path)
    libs = tmp_path / "extension" / "bundled" / "libs"
    manifest = json.loads((libs / "manifest.json").read_text())
    pythons = local_pythons()
    started = {}
    for python, executable in sorted(pythons.items()):  # all at once: each compiles the bundle's modules
        path = [libs / folder for folder in manifest["pythons"][python]["path"]]
        env = {"PYTHONPATH": os.pathsep.join(map(str, path)), "PATH": "/usr/bin:/bin"}
        started[python] = subprocess.Popen([executable, "-c", PROBE], env=env, cwd=tmp_path / "extension",
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if executable == sys.executable:  # started as the extension starts it
            help_text = subprocess.run([executable, "-m", "cat_lsp", "--help"], env=env, cwd=tmp_path / "extension",
                                       capture_output=True, text=True, timeout=60, check=True).stdout
            assert "--stdio" in help_text
    for python, process in started.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"Python {python}: {err}"
        server, libcst, cat = out.split()
        assert server.startswith(str(libs)) and libcst.startswith(str(libs)), python
        assert not cat.startswith(str(libs))  # `cat` is the user's (here the test venv's runtime), never ours
    print(f"ran the linux-x64 bundle's server on CPython {', '.join(sorted(pythons))}")
    missing = [v for v in VERSIONS if v not in pythons]
    if missing:
        warnings.warn(f"the linux-x64 bundle was not run on CPython {', '.join(missing)}: no such interpreter on this machine")


PLUGIN = 'from cat import store\n\n\nasync def remember(theme):\n    store.save("theme", theme)\n'


async def arm64_diagnostics(command: list[str], env: dict[str, str], project: Path) -> list[str]:
    """Start cat-lsp with ``command`` over stdio, initialize, open a plugin: the codes it reports."""
    client = make_test_lsp_client()
    await client.start_io(command[0], *command[1:], env=env, cwd=str(project))
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")])), 180)
        path = project / "plugins" / "themes" / "themes.py"
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1, text=PLUGIN)))
        await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 180)
        return [d.code for d in client.diagnostics[path.as_uri()]]
    finally:
        await asyncio.wait_for(client.shutdown_session(), 60)
        await client.stop()


def test_the_linux_arm64_bundle_runs_under_emulation(tmp_path: Path):
    """Debian's arm64 CPython 3.11 under qemu-aarch64, with the linux-arm64 bundle: a real LSP session."""
    emulation = CACHE_ROOT / "linux-arm64-python"
    qemu, root = emulation / "qemu-aarch64-static", emulation / "root"
    if platform.machine() != "x86_64":
        warnings.warn(f"the linux-arm64 bundle was not run: this {platform.machine()} machine has no emulator set up "
                      "for it (tests/vscode/install-arm64.sh fetches an x86-64 qemu)")
        print("NOT RUN: the linux-arm64 bundle's server (no emulator for this machine)")
        return
    if not (qemu.is_file() and (root / "usr" / "bin" / "python3.11").is_file()):
        pytest.fail(f"{qemu} or its arm64 Python is missing: run `make vscode-ready`")
    with zipfile.ZipFile(vsix("linux-arm64")) as archive:
        archive.extractall(tmp_path)
    libs = tmp_path / "extension" / "bundled" / "libs"
    manifest = json.loads((libs / "manifest.json").read_text())
    path = os.pathsep.join(str(libs / folder) for folder in manifest["pythons"]["3.11"]["path"])
    python = [str(qemu), "-L", str(root), str(root / "usr" / "bin" / "python3.11")]
    # The arm64 root has no libcst of its own: the compiled parser the server runs on is the bundle's.
    assert not list(root.glob("usr/lib/python3*/**/libcst"))
    assert arch_of_native((libs / "common" / "libcst" / "native.cpython-311-aarch64-linux-gnu.so").read_bytes()) == ("elf", "arm64")
    project = tmp_path / "project"
    (project / "plugins" / "themes").mkdir(parents=True)
    (project / "config.py").write_text("")
    env = {"PYTHONPATH": path, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert asyncio.run(arm64_diagnostics([*python, "-m", "cat_lsp"], env, project)) == ["CAT004"]
    print("ran the linux-arm64 bundle's server under qemu-aarch64 with Debian's arm64 CPython 3.11")
