"""Small SQL helpers shared by the suites, and `Models`: where the staging and marts suites read the models.

The suites' own bookkeeping (`raw._loads`, `quality.*`) is always the build's DuckDB copy; the models are
wherever dbt built them: the same DuckDB file (ENGINE=duckdb), PostgreSQL (ENGINE=postgres, the build's
`<schema>__next` schemas, or the live ones outside a build), or the Parquet files Spark wrote (ENGINE=spark,
read by DuckDB). Every dialect difference of the suites' SQL
lives in `Models`: the suites write one query and ask it for the pieces that differ (`examples_sql`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from .model import EXAMPLES


def q(name: str) -> str:
    """A quoted identifier: contract names hold dots and capitals (`name.first`, `_rootId`)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def examples_sql(value: str, order: str, condition: str) -> str:
    """Up to EXAMPLES values of `value` for the rows meeting `condition`, first by `order`, bounded memory
    (DuckDB; `Models.examples_sql` for the engine of the models)."""
    return f"arg_min({value}, {order}, {EXAMPLES}) filter (where {condition})"


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of the warehouse as `schema.name`."""
    return {
        f"{s}.{n}"
        for s, n in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }


class Models:
    """The models of a layer on DuckDB: the validated warehouse itself. Schemas are named as in dbt's
    project (`staging`, `marts`, `quality`); `relation` gives the name to query."""

    dialect = "duckdb"
    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def schema(self, name: str) -> str:
        """The schema dbt built `name` as (PostgreSQL's build: `name__next`)."""
        return name

    def layer_schema(self, built: str) -> str:
        """The project's name of a schema dbt built (the inverse of `schema`)."""
        return built

    def relation(self, schema: str, name: str) -> str:
        return f"{self.schema(schema)}.{q(name)}"

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of `sql`."""
        cur = self.con.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()

    def fetchone(self, sql: str) -> tuple[Any, ...]:
        return self.query(sql)[1][0]

    def examples_sql(self, value: str, order: str, condition: str) -> str:
        return examples_sql(value, order, condition)

    def relations(self, schema: str) -> set[str]:
        """Every table and view of the project's `schema`, as `schema.name`."""
        _, rows = self.query(
            "select table_name from information_schema.tables "
            f"where table_schema = {lit(self.schema(schema))}"
        )
        return {f"{schema}.{n}" for (n,) in rows}

    def columns(self, schema: str) -> dict[str, set[str]]:
        """Each relation of the project's `schema` (by name) and its columns."""
        _, rows = self.query(
            "select table_name, column_name from information_schema.columns "
            f"where table_schema = {lit(self.schema(schema))}"
        )
        out: dict[str, set[str]] = {}
        for table, column in rows:
            out.setdefault(table, set()).add(column)
        return out


class PostgresModels(Models):
    """The models dbt built on PostgreSQL, read through psycopg2 (autocommit: a failing query, e.g. a
    stored failures relation that is not there, does not abort the ones after it). The session reads
    instants in UTC and dates in ISO form, as the DuckDB copy shows them."""

    dialect = "postgres"

    def __init__(self, con: Any, schema_suffix: str, aliases: dict[str, str] | None = None) -> None:
        """`aliases`: model -> the relation dbt built it as, from dbt's manifest (names over PostgreSQL's
        identifier limit are shortened: macros/generate_alias_name.sql)."""
        import psycopg2

        self.con = con
        self.suffix = schema_suffix
        self.errors = (psycopg2.Error,)
        self.aliases = aliases or {}
        self.models = {alias: model for model, alias in self.aliases.items()}

    def schema(self, name: str) -> str:
        return name + self.suffix

    def layer_schema(self, built: str) -> str:
        return built[: -len(self.suffix)] if self.suffix and built.endswith(self.suffix) else built

    def relation(self, schema: str, name: str) -> str:
        return f"{q(self.schema(schema))}.{q(self.aliases.get(name, name))}"

    def relations(self, schema: str) -> set[str]:
        return {
            f"{schema}.{self.models.get(n, n)}"
            for n in {r.split(".", 1)[1] for r in super().relations(schema)}
        }

    def columns(self, schema: str) -> dict[str, set[str]]:
        return {self.models.get(n, n): cols for n, cols in super().columns(schema).items()}

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.con.cursor() as cur:
            cur.execute(sql)  # no parameters: a `%` is sent as it is
            return [d[0] for d in cur.description], cur.fetchall()

    def examples_sql(self, value: str, order: str, condition: str) -> str:
        # no arg_min(v, o, n) here: the ordered aggregate of the failing rows, cut to the first EXAMPLES
        return f"(array_agg({value} order by {order}) filter (where {condition}))[1:{EXAMPLES}]"


class SparkModels(Models):
    """The models dbt built on Spark, read by DuckDB from the Parquet files Spark wrote
    (`<spark dir>/tables/<schema>.db/<model>/`, pipeline/spark.py): a DuckDB session of its own with one view
    per model, named as on DuckDB, so the suites' SQL is DuckDB's. Staging models are tables (on every
    engine: dbt_project.yml), and the `contract_conformance` tests store their failing rows there."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: Path) -> None:
        super().__init__(con)
        for folder in sorted(tables.glob("*.db")):
            schema = folder.name.removesuffix(".db")
            con.execute(f"create schema if not exists {q(schema)}")
            for table in sorted(p for p in folder.iterdir() if p.is_dir() and any(p.glob("*.parquet"))):
                files = lit(f"{table}/*.parquet")
                con.execute(f"create view {q(schema)}.{q(table.name)} as select * from read_parquet({files})")


@contextlib.contextmanager
def models_for(settings: Any, con: duckdb.DuckDBPyConnection) -> Iterator[Models]:
    """The models of the warehouse `settings` describe: `con` itself on DuckDB; on PostgreSQL a session of
    its own, on the build's schemas during a build (`pipeline.engines.builds_beside_live`); on Spark the
    Parquet files of the build's models, read by a DuckDB session of its own in `con`'s time zone."""
    if settings.engine == "spark":
        from pipeline.spark import tables_dir

        (zone,) = con.execute("select current_setting('TimeZone')").fetchone()
        reader = duckdb.connect()
        try:
            reader.execute(f"set TimeZone = {lit(zone)}")
            yield SparkModels(reader, tables_dir(settings))
        finally:
            reader.close()
        return
    if settings.engine != "postgres":
        yield Models(con)
        return
    from pipeline.dbt import manifest_nodes
    from pipeline.engines import BUILD_SCHEMA_SUFFIX, builds_beside_live
    from pipeline.postgres import connect

    suffix = BUILD_SCHEMA_SUFFIX if builds_beside_live(settings) else ""
    nodes = manifest_nodes(settings)
    aliases = {
        n["name"]: n.get("alias") or n["name"] for n in nodes.values() if n.get("resource_type") == "model"
    }
    with connect(settings) as pg:
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("set time zone 'UTC'")
            cur.execute("set datestyle to 'ISO, YMD'")
            cur.execute("set intervalstyle to 'postgres'")
        yield PostgresModels(pg, suffix, aliases)
