"""cat-lsp: the Cheshire Cat plugin author's language server.

It shows what ``cat-lint`` finds while the author types and knows the keys
that really exist in the project's database.  See docs/lsp.md.
"""

from cat_lint import __version__  # one version for the tools: cat-lint, cat-lsp and cat-store ship together

__all__ = ["__version__"]
