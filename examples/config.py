"""The example project's configuration, read by the Cat (and by cat-devtools without running it).

SQL names the database that holds the `store` and `user` key-value stores.
This is the default value, spelled out: a SQLite file under this folder's
data/, which `make demo` creates.
"""

SQL = "sqlite:///data/core/core.db"
