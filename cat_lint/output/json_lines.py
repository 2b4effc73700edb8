"""``--output-format json-lines``: one finding a line, each the object of ``--output-format json``.

For tools that stream (``jq -c``, log collectors): every line parses on its
own, and nothing is printed when there is nothing to report.
"""

from __future__ import annotations

import json

from cat_lint.output import Report
from cat_lint.output.json import finding_to_json


def render(report: Report) -> str:
    return "".join(json.dumps(finding_to_json(f, report), ensure_ascii=False) + "\n" for f in report.findings)
