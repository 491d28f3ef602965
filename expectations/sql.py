"""Small SQL helpers shared by the suites (DuckDB dialect: the warehouse is DuckDB)."""

from __future__ import annotations

import duckdb

from .model import EXAMPLES


def q(name: str) -> str:
    """A quoted identifier: contract names hold dots and capitals (`name.first`, `_rootId`)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def examples_sql(value: str, order: str, condition: str) -> str:
    """Up to EXAMPLES values of `value` for the rows meeting `condition`, first by `order`, bounded memory."""
    return f"arg_min({value}, {order}, {EXAMPLES}) filter (where {condition})"


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of the warehouse as `schema.name`."""
    return {
        f"{s}.{n}"
        for s, n in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
