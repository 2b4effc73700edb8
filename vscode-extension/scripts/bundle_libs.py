"""Fill a target's ``bundled/libs`` with cat_lint, cat_lsp and their dependencies, for CPython 3.10 to 3.15.

Usage: ``python scripts/bundle_libs.py TARGET TOOLS_WHEEL OUT_DIR WHEEL_CACHE``
(``scripts/package_vsix.py`` runs it for each platform-specific .vsix).

**Wheels.** For each Python, the wheels come from ``pip download
--only-binary :all: --no-deps --platform TAG... --python-version X.Y
--implementation cp --abi cpXY``, with the target's platform tags in order of
preference (never the build machine's).  pip would evaluate environment
markers against the Python running it, so dependencies are followed here:
every wheel's ``Requires-Dist`` is evaluated for the target's platform and
that Python, and what is missing is downloaded the same way, until nothing
is.  The wheels and the list each (target, Python) resolved to are kept in
WHEEL_CACHE, so a rebuild asks no registry (delete the cache to pick up new
releases).  PyYAML is left out: only libcst's command-line ``libcst.tool``
imports it, the server never does, and it has no Windows-on-Arm wheel for
3.10 and 3.11.

**Layout.** Only libcst has compiled code, and an extension module's file
name carries its ABI tag (``native.cpython-313-x86_64-linux-gnu.so``,
``native.cp313-win_amd64.pyd``), so the modules of several Pythons sit side
by side in one package folder.  What every Python of the target has the same
goes once into ``common/``, with all their extension modules; a package that
differs (a backport only 3.10 needs, or an older libcst where the newest has
no wheel for that platform and Python) goes into ``py3.X/``, which comes
first on that Python's ``PYTHONPATH``.  ``manifest.json`` tells the extension
which folders each Python uses, and why a Python has none.  Third-party
``tests`` folders, ``__pycache__`` and the wheels' RECORD files are not
copied.

The result never holds the ``cat`` runtime package (it would shadow a user's
real Cat): that is checked here, and again by tests/vscode.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
FORBIDDEN = ("cat", "cat_devtools_runtime", "cat_devtools_pytest")
LEFT_OUT = {"pyyaml", "pyyaml-ft"}  # see the module docstring
METADATA_NOT_COPIED = {"RECORD", "WHEEL", "INSTALLER", "REQUESTED", "direct_url.json"}
RESOLUTION_FORMAT = 1  # bump when what a cached resolution means changes


@dataclass(frozen=True)
class Target:
    """A VS Code platform: the wheel platform tags pip tries, best first, and its marker environment."""

    tags: tuple[str, ...]
    sys_platform: str
    platform_machine: str
    # Pythons for which no wheel of a dependency exists: the package says to use fromEnvironment there.
    gaps: tuple[str, ...] = ()

    @property
    def windows(self) -> bool:
        return self.sys_platform == "win32"


# pip expands a macosx_X_Y tag to the older macOS versions and the universal formats.
TARGETS = {
    "win32-x64": Target(("win_amd64",), "win32", "AMD64"),
    "win32-arm64": Target(("win_arm64",), "win32", "ARM64"),
    "darwin-x64": Target(("macosx_10_15_x86_64",), "darwin", "x86_64", gaps=("3.15",)),
    "darwin-arm64": Target(("macosx_11_0_arm64",), "darwin", "arm64"),
    "linux-x64": Target(("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"), "linux", "x86_64"),
    "linux-arm64": Target(("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"), "linux", "aarch64"),
    "alpine-x64": Target(("musllinux_1_2_x86_64", "musllinux_1_1_x86_64"), "linux", "x86_64"),
}


class NoWheel(Exception):
    """pip found no wheel of some requirement for this platform and Python."""


def marker_environment(target: Target, version: str) -> dict[str, str]:
    environment = default_environment()
    environment.update(
        python_version=version, python_full_version=f"{version}.0", implementation_name="cpython",
        platform_python_implementation="CPython", sys_platform=target.sys_platform,
        platform_system={"win32": "Windows", "darwin": "Darwin", "linux": "Linux"}[target.sys_platform],
        platform_machine=target.platform_machine, os_name="nt" if target.windows else "posix", extra="",
    )
    return environment


def requirements_of(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        headers = Parser().parsestr(archive.read(name).decode("utf-8"), headersonly=True)
    return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def pip_download(target: Target, version: str, requirements: list[str], dest: Path) -> list[Path]:
    """The wheels pip picks for these requirements (each name once), downloaded into ``dest`` if not there yet."""
    abi = "cp" + version.replace(".", "")
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
        "--only-binary", ":all:", *[arg for tag in target.tags for arg in ("--platform", tag)],
        "--python-version", version, "--implementation", "cp", "--abi", abi,
        "--dest", str(dest), *requirements,
    ]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        missing = re.findall(r"No matching distribution found for (\S+)", run.stderr)
        if missing:
            raise NoWheel(f"no wheel of {', '.join(missing)} for {' or '.join(target.tags)} and CPython {version}")
        raise SystemExit(f"pip download failed:\n{run.stderr.strip()[-2000:]}")
    # pip says where each wheel is: "Saved PATH" or "File was already downloaded PATH".
    paths = re.findall(r"^\s*(?:Saved|File was already downloaded) (.+\.whl)\s*$", run.stdout, re.M)
    return [dest / Path(p).name for p in paths]


def satisfies(wheel: Path, requirements: list[str]) -> bool:
    version = parse_wheel_filename(wheel.name)[1]
    return all(Requirement(r).specifier.contains(version, prereleases=True) for r in requirements)


def resolve(name: str, target: Target, version: str, tools_wheel: Path, cache: Path) -> list[Path]:
    """The wheels one Python needs on one target: from the cache, else from pip."""
    own = requirements_of(tools_wheel)
    key = hashlib.sha256(repr((RESOLUTION_FORMAT, target, sorted(map(str, own)), sorted(LEFT_OUT))).encode()).hexdigest()[:16]
    record = cache / "resolved" / f"{name}-py{version}-{key}.json"
    if record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        if "gap" in saved:
            raise NoWheel(saved["gap"])
        wheels = [cache / file for file in saved["wheels"]]
        if all(w.is_file() for w in wheels):
            return wheels
    environment = marker_environment(target, version)
    wanted: dict[str, list[str]] = {}  # canonical name -> every requirement string on it
    have: dict[str, Path] = {}
    pending = own
    try:
        for _ in range(20):
            for requirement in pending:
                project = canonicalize_name(requirement.name)
                if project in LEFT_OUT or (requirement.marker and not requirement.marker.evaluate(environment)):
                    continue
                requirement.marker = None
                requirement.extras = set()
                wanted.setdefault(project, [])
                if str(requirement) not in wanted[project]:
                    wanted[project].append(str(requirement))
            # Not fetched yet, or fetched before a later requirement narrowed what it may be.
            fetch = sorted(p for p in wanted if p not in have or not satisfies(have[p], wanted[p]))
            if not fetch:
                break
            for wheel in pip_download(target, version, [r for p in fetch for r in wanted[p]], cache):
                have[canonicalize_name(parse_wheel_filename(wheel.name)[0])] = wheel
            pending = [r for p in fetch if p in have for r in requirements_of(have[p])]
        else:
            raise SystemExit(f"{name} py{version}: dependencies do not settle: {sorted(wanted)}")
    except NoWheel as error:
        if version not in target.gaps:
            raise SystemExit(f"{name} py{version}: {error}") from None
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"gap": str(error)}), encoding="utf-8")
        raise
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"wheels": sorted(w.name for w in have.values())}, indent=1), encoding="utf-8")
    return sorted(have.values())


def is_native(path: str) -> bool:
    return path.endswith((".so", ".pyd", ".dylib"))


def unpack(wheels: list[Path], own: str) -> dict[str, dict[str, bytes]]:
    """Top-level entry (package, module or .dist-info) -> its files (path -> bytes), as an install lays them out."""
    entries: dict[str, dict[str, bytes]] = {}
    for wheel in wheels:
        third_party = not wheel.name.startswith(f"{own}-")
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                parts = info.filename.split("/")
                if parts[0].endswith(".data"):
                    if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                        continue  # scripts, headers, data: not used from PYTHONPATH
                    parts = parts[2:]
                if "__pycache__" in parts or (parts[0].endswith(".dist-info") and parts[-1] in METADATA_NOT_COPIED):
                    continue
                if third_party and "tests" in parts[1:-1]:
                    continue
                entries.setdefault(parts[0], {})["/".join(parts)] = archive.read(info)
    return entries


def pure_signature(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        if not is_native(path):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


def write(folder: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        destination = folder / path
        if destination.exists() and destination.read_bytes() != data:
            raise SystemExit(f"{destination}: two Pythons bring different files of that name")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)


def bundle(name: str, tools_wheel: Path, out: Path, cache: Path) -> dict:
    target = TARGETS[name]
    own = parse_wheel_filename(tools_wheel.name)[0].replace("-", "_")
    cache.mkdir(parents=True, exist_ok=True)
    lock = (cache / ".lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # builds of other checkouts share the cache: one pip at a time writes to it
    unpacked: dict[str, dict[str, dict[str, bytes]]] = {}  # version -> entries
    manifest: dict = {"target": name, "pythons": {}, "gaps": {}}
    for version in VERSIONS:
        try:
            wheels = resolve(name, target, version, tools_wheel, cache)
        except NoWheel as error:
            manifest["gaps"][version] = str(error)
            print(f"{name} py{version}: no bundle ({error})")
            continue
        unpacked[version] = unpack([tools_wheel, *wheels], own)
        libcst = next(parse_wheel_filename(w.name)[1] for w in wheels if w.name.startswith("libcst-"))
        manifest["pythons"][version] = {"libcst": str(libcst), "path": []}
        for forbidden in FORBIDDEN:
            if forbidden in unpacked[version] or f"{forbidden}.py" in unpacked[version]:
                raise SystemExit(f"{name} py{version} holds {forbidden}: the bundle must never carry the cat runtime")
    lock.close()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for entry in sorted({e for entries in unpacked.values() for e in entries}):
        variants: dict[str, list[str]] = {}
        for version, entries in unpacked.items():
            if entry in entries:
                variants.setdefault(pure_signature(entries[entry]), []).append(version)
        shared = max(variants.values(), key=len)
        everywhere = sum(map(len, variants.values())) == len(unpacked)
        if not everywhere or (len(shared) < 2 and len(unpacked) > 1):
            shared = []  # only what every Python has goes to common/, and only a variant two of them share
        for version in unpacked:
            if entry in unpacked[version]:
                folder = "common" if version in shared else f"py{version}"
                write(out / folder, unpacked[version][entry])
    for version, python in manifest["pythons"].items():
        python["path"] = [f for f in (f"py{version}", "common") if (out / f).is_dir()]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for folder in sorted(p.name for p in out.iterdir() if p.is_dir()):
        print(f"{name} {folder}: {', '.join(sorted(p.name for p in (out / folder).iterdir()))}")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in TARGETS:
        raise SystemExit(__doc__ + f"\nTARGET is one of {', '.join(TARGETS)}")
    bundle(sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve(), Path(sys.argv[4]).resolve())
