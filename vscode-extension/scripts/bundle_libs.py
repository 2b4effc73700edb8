"""Fill ``bundled/libs/py3.X`` with cat_lint, cat_lsp and their dependencies, for each Python the .vsix supports.

Usage: ``python scripts/bundle_libs.py TOOLS_WHEEL OUT_DIR`` (``make vsix`` runs it).

Each folder comes from ``pip install --target`` with the tools' wheel, for
that Python's version and manylinux x86-64 (libcst has compiled code, hence
one folder per version and a platform-specific .vsix).  pip checks wheel tags
against ``--python-version`` but evaluates environment markers against the
Python running it, so a dependency needed only on the target version (``tomli``
and ``exceptiongroup`` on 3.10) would be missing: after each install, every
installed distribution's ``Requires-Dist`` is evaluated for the target
version and what is missing is installed the same way, until nothing is.

The result must never hold the ``cat`` runtime package (it would shadow a
user's real Cat): that is checked here, and again by tests/vscode.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

VERSIONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORM = "manylinux2014_x86_64"
FORBIDDEN = ("cat", "cat_devtools_runtime", "cat_devtools_pytest")


def pip_install(target: Path, version: str, requirements: list[str], deps: bool) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), "--python-version", version, "--implementation", "cp",
        "--platform", PLATFORM, "--only-binary=:all:", *requirements,
    ]
    if not deps:
        command.append("--no-deps")
    subprocess.run(command, check=True)


def installed(target: Path) -> dict[str, Path]:
    """Installed distributions of a target folder: canonical name -> METADATA file."""
    out = {}
    for metadata in target.glob("*.dist-info/METADATA"):
        name = Parser().parsestr(metadata.read_text(encoding="utf-8"), headersonly=True)["Name"]
        out[canonicalize_name(name)] = metadata
    return out


def missing_for(target: Path, version: str) -> list[str]:
    """Requirements of what is installed that apply to ``version`` and are not installed."""
    environment = default_environment()
    environment.update(python_version=version, python_full_version=f"{version}.0", implementation_name="cpython",
                       platform_python_implementation="CPython", sys_platform="linux", platform_system="Linux",
                       platform_machine="x86_64", os_name="posix")
    have = installed(target)
    missing = []
    for metadata in have.values():
        headers = Parser().parsestr(metadata.read_text(encoding="utf-8"), headersonly=True)
        for line in headers.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            if canonicalize_name(requirement.name) not in have:
                missing.append(str(requirement).split(";")[0].strip())
    return sorted(set(missing))


def bundle(wheel: Path, out: Path) -> None:
    for version in VERSIONS:
        target = out / f"py{version}"
        if target.exists():
            shutil.rmtree(target)
        pip_install(target, version, [str(wheel)], deps=True)
        for _ in range(10):
            missing = missing_for(target, version)
            if not missing:
                break
            print(f"py{version}: adding {', '.join(missing)} (required on Python {version})")
            pip_install(target, version, missing, deps=False)
        else:
            raise SystemExit(f"py{version}: dependencies do not settle: {missing}")
        for name in FORBIDDEN:
            if (target / name).exists() or (target / f"{name}.py").exists():
                raise SystemExit(f"py{version} holds {name}: the bundle must never carry the cat runtime")
        for leftover in [*target.glob("bin"), *target.rglob("__pycache__")]:
            shutil.rmtree(leftover, ignore_errors=True)
        print(f"py{version}: {', '.join(sorted(installed(target)))}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    bundle(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
