"""A Cat project on disk, as every tool and the runtime see it.

The one place that decides where a project's database is
(:mod:`~cat_lint.project.location`), what its tables are called and how
their columns read (:mod:`~cat_lint.project.schema`), and how to look inside
without disturbing a running Cat (the readers :mod:`~cat_lint.project.reader`
and :mod:`~cat_lint.project.pg_reader`, which share the protocol of
:mod:`~cat_lint.project.stored_keys`; :mod:`~cat_lint.project.backup`,
:mod:`~cat_lint.project.one_key`), plus the
``cat-store`` command built on them (:mod:`~cat_lint.project.cli`).

Only the standard library is imported here (asyncpg only for a PostgreSQL
database, when asked), so the ``cat`` runtime imports these modules without
loading the linter, and the tools run beside the real Cat without importing
any package named ``cat``.
"""
