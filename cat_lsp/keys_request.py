"""The key explorer's requests: ``cat/keys``, ``cat/keyValue`` and ``cat/userIds``.

Every request takes an optional ``uri`` (a document or folder URI) choosing
the project (default: the first workspace folder).

``cat/keys`` lists every key of the project's database and of its code::

    {"database": "/abs/path/core.db (from config.py)" | null,
     "reason": null | "why there are no keys",
     "keys": [{"scope": "global" | "user", "key": str, "type": str,
               "types": [str], "size": int, "preview": str, "users": int,
               "inDatabase": bool, "savedInCode": bool, "readInCode": bool,
               "saves": [Location], "reads": [Location]}]}

Keys the workspace's code saves but the database does not hold yet are
listed too (``inDatabase`` false, ``type`` "unknown", ``size`` 0), so the
explorer shows what the plugin will create; a key held in the database
that no code saves or reads is one the explorer marks unused.  ``saves``
and ``reads`` hold at most :data:`MAX_PLACES` places each.

``cat/keyValue`` (``{"key": str, "userId"?: str}``) answers one key's whole
value, global or of one user: ``{"found": bool, "value": any, "database":
str | null, "reason": str | null}``.

``cat/userIds`` (``{"key"?: str}``) answers the users holding a per-user key
(every user, without ``key``), in order: ``{"userIds": [str] (at most
:data:`MAX_USERS`), "more": bool}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cat_lsp.session import FeatureSession
    from cat_lsp.workspace import Project

METHOD = "cat/keys"
VALUE_METHOD = "cat/keyValue"
USERS_METHOD = "cat/userIds"
MAX_PLACES = 20
MAX_USERS = 50


def _param(params: Any, name: str) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _project(session: FeatureSession, params: Any) -> Project | None:
    uri = _param(params, "uri")
    if isinstance(uri, str) and uri:
        return session.projects.project_for(session.path_of(uri))
    projects = session.projects.all()
    return projects[0] if projects else session.projects.project_for(Path.cwd())


def _places(session: FeatureSession, project: Project, uses: list) -> list[dict[str, Any]]:
    from cat_lsp.navigation import locations

    return [
        {"uri": loc.uri, "range": {"start": {"line": loc.range.start.line, "character": loc.range.start.character},
                                   "end": {"line": loc.range.end.line, "character": loc.range.end.character}}}
        for loc in locations(session, project, uses[:MAX_PLACES])
    ]


def _list_sync(session: FeatureSession, project: Project) -> dict[str, Any]:
    snapshot = project.snapshot(force_check=True)  # an explicit refresh: look now, not at most 50 ms ago
    out: list[dict[str, Any]] = []
    for scope, code_scope in (("global", "store"), ("user", "user")):
        stored = snapshot.keys(code_scope)
        uses = project.uses_by_key(code_scope)
        written = project.written_keys(code_scope)
        for name in sorted(set(stored) | written):
            key = stored.get(name)
            key_uses = uses.get(name, [])
            saves = [u for u in key_uses if u.writes]
            reads = [u for u in key_uses if not u.writes]
            entry: dict[str, Any] = {
                "scope": scope, "key": name, "inDatabase": key is not None,
                "savedInCode": name in written, "readInCode": bool(reads),
                "saves": _places(session, project, saves), "reads": _places(session, project, reads),
            }
            if key is not None:
                entry.update(type=key.type, types=list(key.types), size=key.size, preview=key.preview, users=key.users)
            else:
                entry.update(type="unknown", types=[], size=0, preview="", users=0)
            out.append(entry)
    return {
        "database": project.database.describe() if snapshot.reason is None else None,
        "reason": snapshot.reason,
        "keys": out,
    }


async def list_keys(session: FeatureSession, params: Any) -> dict[str, Any]:
    project = _project(session, params)
    if project is None:
        return {"database": None, "reason": "no workspace folder", "keys": []}
    await session.ready_project(project.folder)  # so that keys saved in code are all listed
    return await session.run_query(_list_sync, session, project)


def _value_sync(project: Project, key: str, user_id: str | None) -> dict[str, Any]:
    snapshot = project.snapshot(force_check=True)
    if snapshot.reason is not None:
        return {"found": False, "value": None, "database": None, "reason": snapshot.reason}
    found, value = project.database.get(key, user_id)
    return {"found": found, "value": value, "database": project.database.describe(), "reason": None}


async def key_value(session: FeatureSession, params: Any) -> dict[str, Any]:
    key = _param(params, "key")
    user_id = _param(params, "userId")
    if not isinstance(key, str):
        return {"found": False, "value": None, "database": None, "reason": "no key given"}
    project = _project(session, params)
    if project is None:
        return {"found": False, "value": None, "database": None, "reason": "no workspace folder"}
    return await session.run_query(_value_sync, project, key, user_id if isinstance(user_id, str) else None)


def _users_sync(project: Project, key: str | None) -> dict[str, Any]:
    project.snapshot(force_check=True)
    ids = project.database.user_ids(key, MAX_USERS + 1)
    return {"userIds": ids[:MAX_USERS], "more": len(ids) > MAX_USERS}


async def user_ids(session: FeatureSession, params: Any) -> dict[str, Any]:
    key = _param(params, "key")
    project = _project(session, params)
    if project is None:
        return {"userIds": [], "more": False}
    return await session.run_query(_users_sync, project, key if isinstance(key, str) else None)
