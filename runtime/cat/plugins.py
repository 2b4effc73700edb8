"""Import a project's plugins the way the Cat does, so their hooks register.

Every ``.py`` file below ``plugins/<plugin_id>/`` is imported, except under
a ``tests/`` folder (and caches and hidden folders).  Each file gets a
module name of its own, ``cat_plugins.<plugin_id>.<path>``: two plugins'
``helpers.py`` never collide, no plugin shadows an installed package (the
Cat puts ``plugins/`` itself on ``sys.path``, where a plugin named ``json``
would), and relative imports between a plugin's files work because every
folder is a package.

Loading replaces the previous load: the modules and handlers of the plugin
set loaded before are dropped first, so calling it again (a reload) never
registers a handler twice.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
from pathlib import Path

from cat import endpoints as _endpoints
from cat import hooks as _hooks
from cat.errors import PluginLoadError

__all__ = ["load_plugins", "unload_plugins", "plugins_folder", "PLUGIN_PACKAGE"]

PLUGIN_PACKAGE = "cat_plugins"
_SKIPPED_DIRS = {"tests", "__pycache__", "node_modules"}


def plugins_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The plugins folder: ``folder/plugins`` for a project folder, else ``folder`` itself.

    With no argument: ``plugins/`` of the project folder
    (``cat.configure(project=...)``, ``CAT_PROJECT_DIR`` or the working directory).
    """
    if folder is None:
        from cat.database import configured_project
        from cat_lint.project.location import project_dir

        return project_dir(configured_project()) / "plugins"
    path = Path(folder).resolve()
    if path.name != "plugins" and (path / "plugins").is_dir():
        return path / "plugins"
    return path


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return f"_{ident}" if not ident or ident[0].isdigit() else ident


def _package(name: str, path: Path) -> types.ModuleType:
    """A package module for a folder, running its ``__init__.py`` when there is one."""
    init = path / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(path)])
        return _execute(spec, name, init)
    module = types.ModuleType(name, f"plugin folder {path}")
    module.__path__ = [str(path)]
    module.__package__ = name
    module.__file__ = None
    spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    assert spec is not None
    spec.submodule_search_locations = [str(path)]
    module.__spec__ = spec
    sys.modules[name] = module
    return module


def _import_file(name: str, path: Path) -> None:
    if name in sys.modules:
        return  # already imported by a sibling's relative import during this load
    _execute(importlib.util.spec_from_file_location(name, path), name, path)


def _execute(spec: importlib.machinery.ModuleSpec | None, name: str, path: Path) -> types.ModuleType:
    """Run a plugin file as module ``name``; any failure is a PluginLoadError naming the file."""
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"cannot import plugin file {path}", name=name, path=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        raise PluginLoadError(f"cannot import plugin file {path}: {type(exc).__name__}: {exc}", name=name, path=str(path)) from exc
    return module


def unload_plugins() -> None:
    """Forget the loaded plugin modules and everything they registered."""
    for name in [n for n in sys.modules if n == PLUGIN_PACKAGE or n.startswith(PLUGIN_PACKAGE + ".")]:
        del sys.modules[name]
    _hooks.unregister_module(PLUGIN_PACKAGE)
    _endpoints.unregister_module(PLUGIN_PACKAGE)


def load_plugins(folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Import every plugin below ``folder`` and return the plugin ids, in load order.

    ``folder`` is a project folder (its ``plugins/`` is used) or a plugins
    folder.  A plugin whose file fails to import raises
    :class:`~cat.errors.PluginLoadError` naming the file: in development a
    broken plugin should stop the run, not vanish with a log line.
    """
    root = plugins_folder(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no plugins folder at {root}")
    importlib.invalidate_caches()
    unload_plugins()
    _package(PLUGIN_PACKAGE, root)
    loaded: list[str] = []
    used: set[str] = set()
    for plugin_dir in sorted(p for p in root.iterdir() if p.is_dir() and not _skipped(p.name)):
        files = _plugin_files(plugin_dir)
        if not files:
            continue
        ident = _identifier(plugin_dir.name)
        while ident in used:
            ident += "_"
        used.add(ident)
        package = f"{PLUGIN_PACKAGE}.{ident}"
        _package(package, plugin_dir)
        for file in files:
            relative = file.relative_to(plugin_dir)
            parts = [_identifier(p) for p in relative.parts[:-1]]
            # create the intermediate packages so relative imports resolve
            for depth in range(1, len(parts) + 1):
                name = ".".join([package, *parts[:depth]])
                if name not in sys.modules:
                    _package(name, plugin_dir.joinpath(*relative.parts[:depth]))
            if relative.name == "__init__.py":
                continue
            _import_file(".".join([package, *parts, _identifier(file.stem)]), file)
        loaded.append(plugin_dir.name)
    return loaded


def _skipped(name: str) -> bool:
    return name in _SKIPPED_DIRS or name.startswith(".")


def _plugin_files(plugin_dir: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(plugin_dir):
        dirnames[:] = sorted(d for d in dirnames if not _skipped(d))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py"))
    return found
