"""The per-project cache: exact round trip, invalidation, corruption, and real runs.

End-to-end checks read ``--verbose``'s "N files, M from the cache" line,
which counts what the run really took from the cache.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace

from cat_lint.cache import CACHE_DIR, Cache, content_hash, result_from_json, result_to_json
from cat_lint.findings import Edit, FileResult, Finding, Fix, KeyUse, Span
from cat_lint.settings import Settings

from cli_support import cached_count, make_project, run_cli

RESULT = FileResult(
    path="plugins/a.py",
    findings=[
        Finding("CAT004", "never awaited: ünïcode", "plugins/a.py", Span(3, 4, 3, 20),
                Fix("Add `await`", (Edit(Span(3, 4, 3, 4), "await "),), True),
                (Fix("Did you mean 'x'", (Edit(Span(1, 0, 1, 2), "'x'"),), False),)),
        Finding("CAT000", "syntax", "plugins/a.py", Span(9, 0, 9, 1)),
    ],
    key_uses=[KeyUse("todos", "user", "load", "plugins/a.py", Span(5, 20, 5, 27))],
    noqa={3: frozenset(), 7: frozenset({"CAT001", "CAT004"})},
    file_noqa=True,
)


def test_result_round_trips_exactly():
    assert result_from_json(json.loads(json.dumps(result_to_json(RESULT)))) == RESULT


def test_entries_survive_a_reload_and_miss_on_changed_content_or_settings(tmp_path):
    settings = Settings(project=str(tmp_path))
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "a.py").write_text("x = 1\n")
    cache = Cache(tmp_path, settings)
    cache.put("plugins/a.py", content_hash(b"x = 1\n"), RESULT)
    cache.save()
    again = Cache(tmp_path, settings)
    assert again.get("plugins/a.py", content_hash(b"x = 1\n")) == RESULT
    assert again.get("plugins/a.py", content_hash(b"x = 2\n")) is None
    other = Cache(tmp_path, replace(settings, bootstrap_hooks=settings.bootstrap_hooks + ("warm",)))
    assert other.get("plugins/a.py", content_hash(b"x = 1\n")) is None
    assert (again.hits, again.misses) == (1, 1)
    # The cache folder ignores itself so it is never committed.
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().strip().endswith("*")


def test_corrupt_or_foreign_cache_files_are_ignored(tmp_path):
    settings = Settings(project=str(tmp_path))
    cache = Cache(tmp_path, settings)
    cache.put("a.py", "d", RESULT)
    (tmp_path / "a.py").write_text("")
    cache.save()
    assert cache.file is not None
    for garbage in (b"\x00\xff not json", b'{"format": 1, "entries": {"a.py": 3}}', b"[]",
                    b'{"format": 1, "entries": {"a.py": ["d", {"path": 1}]}}'):
        cache.file.write_bytes(garbage)
        assert Cache(tmp_path, settings).get("a.py", "d") is None


def test_disabled_cache_neither_reads_nor_writes(tmp_path):
    cache = Cache(tmp_path, Settings(project=str(tmp_path)), enabled=False)
    cache.put("a.py", "d", RESULT)
    cache.save()
    assert not (tmp_path / CACHE_DIR).exists()
    assert cache.get("a.py", "d") is None


# --- end to end ---------------------------------------------------------------

UNAWAITED = 'from cat import store\n\n\nasync def f():\n    store.save("k", 1)\n'
CLEAN = 'from cat import store\n\n\nasync def f():\n    await store.save("k", 1)\n'


def test_unchanged_tree_is_served_from_the_cache(tmp_path):
    project = make_project(tmp_path, {f"plugins/p{i}.py": UNAWAITED if i % 2 else CLEAN for i in range(6)})
    cold = run_cli(["-v", "--output-format", "json"], project)
    assert cold.returncode == 1
    assert cached_count(cold) == (6, 0)
    warm = run_cli(["-v", "--output-format", "json"], project)
    assert cached_count(warm) == (6, 6)
    assert json.loads(warm.stdout) == json.loads(cold.stdout)

    # Changing one file re-lints that file only, and its new findings show.
    (project / "plugins" / "p1.py").write_text(CLEAN)
    changed = run_cli(["-v", "--output-format", "json"], project)
    assert cached_count(changed) == (6, 5)
    assert len(json.loads(changed.stdout)) == len(json.loads(cold.stdout)) - 1


def test_settings_change_invalidates_and_no_cache_bypasses(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED, "plugins/b.py": CLEAN})
    assert cached_count(run_cli(["-v"], project)) == (2, 0)
    assert cached_count(run_cli(["-v"], project)) == (2, 2)
    (project / "pyproject.toml").write_text('[tool.cat-lint]\nbootstrap-hooks = ["warm_up"]\n')
    assert cached_count(run_cli(["-v"], project)) == (2, 0)
    assert cached_count(run_cli(["-v", "--no-cache"], project)) == (2, 0)
    assert cached_count(run_cli(["-v"], project)) == (2, 2)


def test_corrupt_cache_on_disk_does_not_break_a_run(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    first = run_cli([], project)
    for cache_file in (project / CACHE_DIR).glob("*.json"):
        cache_file.write_bytes(b"{not json")
    second = run_cli(["-v"], project)
    assert second.returncode == first.returncode == 1
    assert cached_count(second) == (1, 0)
    assert second.stdout == first.stdout


def _rewrite_in_place(path, text: str, mtime_ns: int) -> None:
    """New content of the same size in the same inode, with the modification time put back."""
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _keys_reported(project) -> list[str]:
    proc = run_cli(["--output-format", "json"], project)
    return sorted(re.findall(r'store\.save\(\\"(\w)\\"', proc.stdout))


def test_a_file_whose_size_time_and_inode_are_unchanged_is_not_read_again(tmp_path):
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    path = project / "plugins" / "a.py"
    an_hour_ago = time.time_ns() - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert _keys_reported(project) == ["k"]
    # What Ruff and git take as unchanged too: the warm run serves the old result without reading.
    _rewrite_in_place(path, UNAWAITED.replace('"k"', '"j"'), an_hour_ago)
    assert _keys_reported(project) == ["k"]
    # Any other modification time, and the file is read again.
    os.utime(path, ns=(an_hour_ago + 1, an_hour_ago + 1))
    assert _keys_reported(project) == ["j"]


def test_a_file_modified_just_before_it_was_read_is_read_every_time(tmp_path):
    # Two writes within one tick of the file system's clock leave the same time: git's
    # "racily clean" files.  A file modified less than two seconds before it was read
    # is never trusted by its status alone.
    project = make_project(tmp_path, {"plugins/a.py": UNAWAITED})
    path = project / "plugins" / "a.py"
    recent = path.stat().st_mtime_ns
    assert _keys_reported(project) == ["k"]
    _rewrite_in_place(path, UNAWAITED.replace('"k"', '"j"'), recent)
    assert _keys_reported(project) == ["j"]


def test_a_warm_run_needs_only_the_index_and_a_lost_results_file_costs_a_recheck(tmp_path):
    project = make_project(tmp_path, {f"plugins/p{i}.py": UNAWAITED if i % 2 else CLEAN for i in range(4)})
    cold = run_cli(["-v", "--output-format", "json"], project)
    (results,) = (project / CACHE_DIR).glob("*.results.json")
    results.write_bytes(b"\x00 garbage")
    # Unchanged tree: the index (hashes, statuses, the project pass) answers alone.
    warm = run_cli(["-v", "--output-format", "json"], project)
    assert cached_count(warm) == (4, 4)
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    # One file changed: the per-file results are needed, are unreadable, so every file is checked again.
    (project / "plugins" / "p1.py").write_text(CLEAN)
    changed = run_cli(["-v", "--output-format", "json"], project)
    assert cached_count(changed) == (4, 0)
    assert len(json.loads(changed.stdout)) == len(json.loads(cold.stdout)) - 1
    assert cached_count(run_cli(["-v"], project)) == (4, 4)


def test_the_cache_count_is_of_the_files_linted_not_of_the_rest_of_the_project(tmp_path):
    # A plain Cat project: `cat-lint plugins` also reads config.py and the other plugins for CAT006.
    project = tmp_path / "cat"
    (project / "plugins" / "p").mkdir(parents=True)
    (project / "config.py").write_text("# the Cat's configuration\n")
    (project / "plugins" / "p" / "a.py").write_text(UNAWAITED)
    (project / "plugins" / "q.py").write_text(CLEAN)
    assert cached_count(run_cli(["-v", "plugins/p"], project)) == (1, 0)
    (project / "plugins" / "p" / "a.py").write_text(UNAWAITED.replace("1)", "2)"))
    assert cached_count(run_cli(["-v", "plugins/p"], project)) == (1, 0)
    assert cached_count(run_cli(["-v", "plugins/p"], project)) == (1, 1)
