"""Throwaway virtual environments built from this checkout's own wheels.

The packaging tests install what a user installs, the way they install it:
the two wheels built from this checkout (``cat-devtools``, the tools, and
``cat-devtools-runtime``, the ``cat`` runtime), the real Cat
(``cheshire-cat-ai``), pytest, in the orders users happen to use.

Third-party wheels come from a wheelhouse cached outside the repository
(``~/.cache/cat-devtools/wheelhouse-py3.X``), filled by ``pip download`` the
first time (about 10 s) and whenever the requirements change; every install
after that is ``pip install --no-index`` from it, about 10 s for the whole
Cat, so each test can afford environments of its own.  The environments
have no pip of their own: the test session's pip installs into them
(``pip --python``), which is faster and leaves nothing behind.
"""

from __future__ import annotations

import base64
import csv
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAT_VERSION = "2.0.23"
CAT = f"cheshire-cat-ai=={CAT_VERSION}"


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cat-devtools"


def pip(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The test session's own pip, quiet; raises with pip's own words when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if not line.startswith("WARNING")]
        raise RuntimeError(f"pip {' '.join(args[:2])} failed ({done.returncode}):\n" + "\n".join(errors[-20:]))
    return done


def build_wheels(dest: Path) -> dict[str, Path]:
    """Both wheels of this checkout, built as ``make dist`` builds them."""
    dest.mkdir(parents=True, exist_ok=True)
    pip("wheel", "--no-deps", "--wheel-dir", str(dest), str(ROOT), str(ROOT / "runtime"))
    for leftover in (ROOT / "build", ROOT / "cat_devtools.egg-info"):  # setuptools builds in the tree
        shutil.rmtree(leftover, ignore_errors=True)
    wheels = {_wheel_name(path): path for path in dest.glob("*.whl")}
    assert set(wheels) == {"cat-devtools", "cat-devtools-runtime"}, wheels
    return wheels


def _wheel_name(path: Path) -> str:
    return path.name.split("-", 1)[0].replace("_", "-")


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(meta).decode("utf-8"))
    return sorted(message.get_all("Requires-Dist") or [])


def wheelhouse(wheels: dict[str, Path]) -> Path:
    """Every third-party wheel the environments need, downloaded once per set of requirements."""
    wanted = [CAT, "pytest"] + [req for wheel in wheels.values() for req in wheel_requirements(wheel)]
    digest = hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()[:12]
    house = cache_root() / f"wheelhouse-py{sys.version_info.major}.{sys.version_info.minor}"
    stamp = house / f".ready-{digest}"
    house.mkdir(parents=True, exist_ok=True)
    with open(house.with_name(house.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs never fill it at once
        if not stamp.exists():
            # Resolved together with our own wheels, so each install below finds its whole closure here.
            pip("download", "--dest", str(house), "--find-links", str(next(iter(wheels.values())).parent),
                *(str(w) for w in wheels.values()), CAT, "pytest", "asyncpg")
            for ours in house.glob("cat_devtools*.whl"):  # ours come fresh from the build, never from the cache
                ours.unlink()
            stamp.touch()
    return house


@dataclass
class Venv:
    """A virtual environment without pip, installed into by the session's pip."""

    path: Path
    house: Path
    wheels: dict[str, Path]

    @classmethod
    def create(cls, path: Path, house: Path, wheels: dict[str, Path]) -> Venv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
        return cls(path, house, wheels)

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    @property
    def site_packages(self) -> Path:
        return next((self.path / "lib").glob("python3*/site-packages"))

    def install(self, *requirements: str) -> None:
        """``pip install`` from the wheelhouse; ``tools``/``runtime`` name this checkout's wheels."""
        named = [str(self.wheels[f"cat-devtools{'' if r == 'tools' else '-runtime'}"]) if r in ("tools", "runtime") else r
                 for r in requirements]
        pip("--python", str(self.python), "install", "--no-index",
            "--find-links", str(self.house), "--find-links", str(next(iter(self.wheels.values())).parent), *named)

    def uninstall(self, *names: str) -> None:
        pip("--python", str(self.python), "uninstall", "--yes", *names)

    def run(self, *args: str | Path, cwd: Path, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command of this environment as its user would: no PYTHONPATH, no outer venv."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "CAT_SQL", "CAT_PROJECT_DIR")}
        env["PATH"] = f"{self.path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run([str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def record_mismatches(venv: Venv, distribution: str) -> tuple[int, list[str]]:
    """How many files of ``distribution`` its RECORD lists, and those whose bytes differ or are gone."""
    name = distribution.replace("-", "_")
    dist_info = next(venv.site_packages.glob(f"{name}-*.dist-info"))
    wrong, checked = [], 0
    with open(dist_info / "RECORD", newline="", encoding="utf-8") as record:
        for path, hash_spec, _size in csv.reader(record):
            if not hash_spec:  # RECORD itself, and .pyc files pip compiled
                continue
            algorithm, expected = hash_spec.split("=", 1)
            checked += 1
            file = venv.site_packages / path
            try:
                digest = hashlib.new(algorithm, file.read_bytes()).digest()
            except FileNotFoundError:
                wrong.append(f"{path}: missing")
                continue
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != expected:
                wrong.append(f"{path}: changed")
    return checked, wrong
