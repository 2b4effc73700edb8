"""cat-lsp: the Cheshire Cat plugin author's language server.

It shows what ``cat-lint`` finds while the author types and knows the keys
that really exist in the project's database.  See docs/lsp.md.
"""

__version__ = "0.1.0"
