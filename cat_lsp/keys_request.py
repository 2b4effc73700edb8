"""``cat/keys``: every key of the project's database, for an editor's key explorer.

Request params (all optional): ``{"uri": <a document or folder URI>}``
choosing the project (default: the first workspace folder).  The result::

    {"database": "/abs/path/core.db (from config.py)" | null,
     "reason": null | "why there are no keys",
     "keys": [{"scope": "global" | "user", "key": str, "type": str,
               "types": [str], "size": int, "preview": str, "users": int,
               "savedInCode": bool}]}

Keys the workspace's code saves but the database does not hold yet are
listed too (``type`` "unknown", ``size`` 0), so the explorer shows what
the plugin will create.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cat_lsp.server import CatLanguageServer
    from cat_lsp.workspace import Project

METHOD = "cat/keys"


def _param(params: Any, name: str) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _project(ls: CatLanguageServer, params: Any) -> Project | None:
    uri = _param(params, "uri")
    if isinstance(uri, str) and uri:
        return ls.projects.project_for(ls.path_of(uri))
    projects = ls.projects.all()
    return projects[0] if projects else ls.projects.project_for(Path.cwd())


def _list_sync(ls: CatLanguageServer, project: Project) -> dict[str, Any]:
    snapshot = project.snapshot(force_check=True)  # an explicit refresh: look now, not at most 50 ms ago
    out: list[dict[str, Any]] = []
    for scope, code_scope in (("global", "store"), ("user", "user")):
        stored = snapshot.keys(code_scope)
        written = project.written_keys(code_scope)
        for name in sorted(set(stored) | written):
            key = stored.get(name)
            if key is not None:
                out.append({
                    "scope": scope, "key": name, "type": key.type, "types": list(key.types),
                    "size": key.size, "preview": key.preview, "users": key.users,
                    "savedInCode": name in written,
                })
            else:
                out.append({
                    "scope": scope, "key": name, "type": "unknown", "types": [],
                    "size": 0, "preview": "", "users": 0, "savedInCode": True,
                })
    return {
        "database": project.database.describe() if snapshot.reason is None else None,
        "reason": snapshot.reason,
        "keys": out,
    }


async def list_keys(ls: CatLanguageServer, params: Any) -> dict[str, Any]:
    project = _project(ls, params)
    if project is None:
        return {"database": None, "reason": "no workspace folder", "keys": []}
    await ls.ready_project(project.folder)  # so that keys saved in code are all listed
    return await ls.run_query(_list_sync, ls, project)
