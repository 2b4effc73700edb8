"""The real Cat's side of the interoperability test.

Run by ``tests/runtime/test_interop.py`` with the python of a throwaway
virtual environment holding ``cheshire-cat-ai``, in a project folder as the
working directory (the Cat finds ``data/core/core.db`` from there, as it does
at start-up).  It drives only the Cat's own database layer, ``cat.db``
(``Store``, ``UserStore`` and the Piccolo tables), never our runtime.

    python cat_side.py write SPEC.json OUT.json   # save every value of SPEC
    python cat_side.py read  SPEC.json OUT.json   # load every key of SPEC

SPEC is JSON: ``{"global": {key: value}, "users": {uuid: {key: value}},
"duplicates": {uuid: {key: [value, ...]}}}`` (``read`` only uses the keys).
``duplicates`` rows are inserted one by one through the ORM, the way the
Cat's racing saves leave them.  OUT gets, per key, whether the Cat says it
exists and the ``repr`` and type of what it loads, so that 9 and 9.0 differ.
"""

import asyncio
import json
import sys
from uuid import UUID

import cat  # noqa: F401  - the Cat's package: loads its config from the working directory
from cat.db import Store, UserStore
from cat.db.models import UserKeyValueDB, create_tables


def describe(found, value):
    return {"exists": found, "repr": repr(value), "type": type(value).__name__}


async def write(spec):
    for key, value in spec.get("global", {}).items():
        await Store.save(key, value)
    for uid, items in spec.get("users", {}).items():
        for key, value in items.items():
            await UserStore.save(UUID(uid), key, value)
    for uid, items in spec.get("duplicates", {}).items():
        for key, versions in items.items():
            for value in versions:
                await UserKeyValueDB(user_id=UUID(uid), key=key, value=json.dumps(value)).save()
    return await read(spec)


async def read(spec):
    out = {"global": {}, "users": {}}
    for key in spec.get("global", {}):
        out["global"][key] = describe(await Store.exists(key), await Store.load(key))
    for section in ("users", "duplicates"):
        for uid, items in spec.get(section, {}).items():
            for key in items:
                found = await UserStore.exists(UUID(uid), key)
                out["users"].setdefault(uid, {})[key] = describe(found, await UserStore.load(UUID(uid), key))
    # Every row must also parse through the ORM (its UUID columns convert on read).
    rows = await UserKeyValueDB.select().run()
    out["user_rows"] = sorted([str(r["user_id"]), r["key"]] for r in rows)
    return out


def main():
    command, spec_path, out_path = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    create_tables()  # what the Cat does at start-up; a no-op on existing tables
    result = asyncio.run(write(spec) if command == "write" else read(spec))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
