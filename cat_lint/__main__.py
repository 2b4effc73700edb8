"""``python -m cat_lint``: the same command line as the ``cat-lint`` script."""

import sys

from cat_lint.cli import main

if __name__ == "__main__":
    sys.exit(main())
