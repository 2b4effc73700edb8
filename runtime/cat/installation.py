"""Refuse to run from on top of the real Cat's files, and say how to recover.

The real Cat (``cheshire-cat-ai``) also installs a top-level package ``cat``.
This runtime's wheel keeps its ``cat`` in a folder of its own
(``cat_devtools_runtime/``, on ``sys.path`` through a ``.pth`` file), so pip
never mixes the two.  Other routes still can: ``pip install --target`` into
one folder, a copied tree, or cat-devtools 0.1, which shipped ``cat`` plainly.
Then this package's ``__init__.py`` has replaced the Cat's, the Cat no longer
starts, and running on as if nothing happened would hide that.  The check
costs one ``stat`` per name below at import.
"""

from __future__ import annotations

from pathlib import Path

# Names only the Cat's package has (cheshire-cat-ai 2.x); this runtime has none of them.
CAT_ONLY = ("looking_glass", "mad_hatter", "main.py")


def check_not_over_the_cat(package_dir: Path) -> None:
    """Raise :class:`ImportError` when the Cat's own files share ``package_dir`` with this runtime."""
    found = [name for name in CAT_ONLY if (package_dir / name).exists()]
    if not found:
        return
    version = _cat_version()
    pin = f"cheshire-cat-ai=={version}" if version else "cheshire-cat-ai"
    raise ImportError(
        f"the cat-devtools runtime's `cat` package sits on top of the real Cat's files in {package_dir} "
        f"(it holds the Cat's {', '.join(found)}): both ship a top-level package named `cat`, and the "
        "runtime's cat/__init__.py has replaced the Cat's, so neither works. Recover the Cat with:\n"
        "    pip uninstall --yes cat-devtools-runtime\n"
        f"    pip install --force-reinstall --no-deps {pin}\n"
        "Where the real Cat is installed, plugin code imports the Cat's own `cat`; use the runtime in an "
        "environment without the Cat (plugin tests, scripts, other hosts). cat-lint, cat-lsp and cat-store "
        "(pip install cat-devtools) work beside the Cat."
    )


def _cat_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("cheshire-cat-ai")
    except metadata.PackageNotFoundError:
        return None
