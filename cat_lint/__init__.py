"""cat-lint: the linter for Cheshire Cat plugins.  See the README and docs/rules.

``__version__`` is the version of the ``cat-devtools`` distribution (the
tools), written here as well as in ``pyproject.toml`` because reading it
from the installed metadata costs a warm run a sixth of its time;
``tests/lint/test_cli_end_to_end.py`` checks that the two agree.
"""

__version__ = "0.2.0"
