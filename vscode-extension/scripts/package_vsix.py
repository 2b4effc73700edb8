"""Build one .vsix: a platform-specific one with its bundle, or the universal one without.

Usage: ``python scripts/package_vsix.py TARGET TOOLS_WHEEL OUT.vsix WHEEL_CACHE``
(``make vsix`` runs it for every target), with TARGET one of
``bundle_libs.TARGETS`` or ``universal``.

The package is laid out in a folder of its own under ``build/vsix/``
(``package.json``, ``README.md``, ``LICENSE``, the client bundled by esbuild
into ``dist/extension.js``, and for a platform ``bundled/libs/``), so that
the targets never share a ``bundled/`` folder and can be built in parallel;
vsce packages that folder.  The universal package has no ``bundled/`` at all:
the extension then runs the cat-devtools installed in the interpreter
(``fromEnvironment``) and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bundle_libs import TARGETS, bundle

EXTENSION = Path(__file__).resolve().parents[1]
ROOT = EXTENSION.parent
COPIED = ("package.json", "README.md", ".vscodeignore", "dist/extension.js")


def package(target: str, tools_wheel: Path, out: Path, cache: Path) -> None:
    stage = ROOT / "build" / "vsix" / target
    if stage.exists():
        shutil.rmtree(stage)
    for name in COPIED:
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXTENSION / name, stage / name)
    shutil.copyfile(ROOT / "LICENSE", stage / "LICENSE")
    options = []
    if target != "universal":
        bundle(target, tools_wheel, stage / "bundled" / "libs", cache)
        options = ["--target", target]
    vsce = EXTENSION / "node_modules" / ".bin" / "vsce"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(vsce), "package", *options, "--no-dependencies", "--allow-missing-repository",
                    "--out", str(out)], cwd=stage, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    print(f"{out.name}: {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in (*TARGETS, "universal"):
        raise SystemExit(__doc__)
    package(sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve(), Path(sys.argv[4]).resolve())
