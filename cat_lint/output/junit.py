"""``--output-format junit``: JUnit XML, as CI systems (Jenkins, GitLab, Azure) show test results.

One ``<testsuite>`` a file with findings, one ``<testcase>`` a finding
(``name`` the rule code, ``classname`` the path) holding a ``<failure>``
whose text says where.  A clean run is one passing test case, so the
report never reads as "no tests ran".
"""

from __future__ import annotations

import re
from collections import defaultdict
from xml.etree import ElementTree as ET

from cat_lint.output import Report, rule_name


# Characters XML 1.0 cannot hold at all (a key may contain them): shown escaped instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", value)


def render(report: Report) -> str:
    root = ET.Element("testsuites", name="cat-lint", tests=str(max(1, len(report.findings))),
                      failures=str(len(report.findings)), errors="0")
    if not report.findings:
        suite = ET.SubElement(root, "testsuite", name="cat-lint", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="No errors found", classname="cat-lint")
    by_file: dict[str, list] = defaultdict(list)
    for f in report.findings:
        by_file[_text(report.display(f.path))].append(f)
    for path, findings in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(findings)),
                              failures=str(len(findings)), errors="0", skipped="0")
        for f in findings:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} {rule_name(f.code)}", classname=path,
                                 file=path, line=str(f.span.start_line))
            failure = ET.SubElement(case, "failure", message=_text(f.message), type=f.code)
            failure.text = _text(f"{path}:{f.span.start_line}:{f.span.start_col + 1}: {f.code} {f.message}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
