"""ENGINE=postgres: the raw layer goes to PostgreSQL, the rendered `edfi` models come back.

The one loader still parses the delivery into the build's DuckDB copy (same parsing, manifest and
rejects); `land_raw` then copies every table of its `raw` schema, bookkeeping included (`raw._loads`,
`raw._rejects`, ...), into PostgreSQL with COPY, so dbt reads there exactly what DuckDB holds. DuckDB writes
each table as CSV and psycopg2 (dbt-postgres's driver) feeds it to `copy ... from stdin`; CSV keeps NULL
(unquoted empty) apart from the empty string (`""`).

All or nothing, as on DuckDB: a build writes only beside the live schemas, in `<schema>__next` (`raw__next`
here, the models through dbt's `generate_schema_name`), and `publish_schemas` swaps every one of them in
within one transaction (PostgreSQL's DDL is transactional: a reader sees the old warehouse or the new one,
whole); `discard_schemas` drops them when the build fails, leaving the live schemas as they were. Objects
of other schemas that depend on the live ones (a consumer's own views) are dropped with them at the swap,
as dbt's own rebuild of a table drops them: define such views in dbt, or recreate them after a build.

After `dbt build`, `read_edfi` copies the `edfi` models back into the DuckDB copy's `edfi` schema, typed as
dbt-duckdb would have built them, so the Ed-Fi render, its state (`edfi_state`), its checks and the
published file stay in one place whatever the engine.

The Ed-Fi delivery state (`edfi_state`: desired, accepted, pending payloads, builds, sends) is written in
the DuckDB file, and that copy is the authoritative one: the render, `make send` and `make resync` read and
write it under the run lock, in the same transaction as the output folder they publish with it, and it is
the copy they plan the next send from. SQL consumers of PostgreSQL find a copy of it beside the models,
schema `edfi_state`, replaced whole at each change of the DuckDB copy: by a build in the transaction that
publishes its models (`edfi_state__next` is swapped in with them, so the state always describes the
published models), and by each send or resync in one transaction of its own at its end, right after the
DuckDB file is published (`copy_state`). PostgreSQL's copy is never read back: if copying it fails after a
send, the DuckDB file still holds what the API accepted, and the next build, send or resync copies it again.

The connection comes from libpq's variables (`Settings.postgres`; PGPASSWORD from the environment).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from extract.warehouse import open_warehouse, transaction

from .config import Settings

if TYPE_CHECKING:
    import psycopg2.extensions

RAW_SCHEMA = "raw"
IDENTIFIER_LIMIT = 63  # bytes: PostgreSQL's NAMEDATALEN - 1
MODELS_SCHEMA = "edfi"
# DuckDB type of a raw column -> PostgreSQL type. Contract columns are all text; the lineage and
# bookkeeping columns keep their types (a line number sorts as a number on both engines).
_TO_POSTGRES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "json",  # edfi_state's payloads and summaries, kept as the text DuckDB holds
}
STATE_SCHEMA = "edfi_state"
# PostgreSQL type of an edfi model column -> the DuckDB type dbt-duckdb gives the same SQL.
_TO_DUCKDB = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
}


# PostgreSQL has no try_cast: staging's `safe_cast_or_null` (macros/staging/safe_cast_or_null.sql) calls
# these.
# Each returns null where DuckDB's try_cast does: PostgreSQL's own input functions accept more than DuckDB's
# (`yesterday`, `now` and `Jan 5 2024` as dates, `on` and `tr` as booleans, hex floats), so a guard keeps
# to what DuckDB reads; an integer written as a decimal is rounded, as DuckDB does. Known differences left:
# DuckDB reads `1_000` and `0x1F` as integers and `1e400` as infinity, and truncates a seventh fractional
# second digit where PostgreSQL rounds it. Created with raw, in its transaction, so dbt always finds them.
UTIL_SCHEMA = "edreflect_util"
_ISO_DATE = r"^\s*[0-9]+-[0-9]{1,2}-[0-9]{1,2}"
_SPECIAL = r"^\s*(-?infinity|epoch)\s*$"
_SAFE_CASTS = {
    "bigint": (
        "bigint",
        r"""if value ~ '^\s*[+-]?[0-9]+\s*$' then return value::bigint; end if;
            if value ~ '^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$' then
                return round(value::numeric)::bigint;
            end if;""",
    ),
    "double": ("double precision", "if value !~* 'x' then return value::double precision; end if;"),
    "boolean": (
        "boolean",
        "if lower(value) in ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', '1', '0') then "
        "return value::boolean; end if;",
    ),
    "date": (
        "date",
        f"""if value ~* '{_SPECIAL}'
               or value ~ '{_ISO_DATE}([ T][0-9:.]*(Z|[+-][0-9:]+)?)?\\s*$' then
                return value::date;
            end if;""",
    ),
    "timestamptz": (
        "timestamptz",
        f"""if value ~* '{_SPECIAL}' or (value ~ '{_ISO_DATE}' and value !~* 'BC\\s*$'
                                       and value !~ '[0-9]z\\s*$') then
                return value::timestamptz;
            end if;""",
    ),
}
# PARALLEL UNSAFE: an EXCEPTION block opens a subtransaction, which PostgreSQL refuses inside a parallel
# worker ("cannot start subtransactions during a parallel operation": seen on the 1 GB product, where the
# planner goes parallel); unsafe keeps the queries that call these functions in one process.
SAFE_CAST_FUNCTIONS = [f"create schema if not exists {UTIL_SCHEMA}"] + [
    f"""create or replace function {UTIL_SCHEMA}.try_cast_{name}(value text) returns {typ}
        language plpgsql stable parallel unsafe as $$
        begin
            {guarded}
            return null;
        exception when others then
            return null;
        end $$"""
    for name, (typ, guarded) in _SAFE_CASTS.items()
]


class PostgresError(RuntimeError):
    """The PostgreSQL side of a build failed; the message names the server, the table and the fix."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(settings: Settings) -> str:
    pg = settings.postgres
    return "PostgreSQL" if pg is None else f"PostgreSQL {pg.user}@{pg.host}:{pg.port}/{pg.dbname}"


@contextlib.contextmanager
def connect(settings: Settings) -> Iterator[psycopg2.extensions.connection]:
    """A connection from the PG* settings; libpq reads PGPASSWORD (or ~/.pgpass) itself."""
    import psycopg2

    pg = settings.postgres
    if pg is None:
        raise PostgresError("ENGINE=postgres needs PGUSER and PGDATABASE (and PGHOST, PGPORT) to be set")
    try:
        con = psycopg2.connect(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            dbname=pg.dbname,
            connect_timeout=15,
            application_name="edreflect-edfi",
        )
    except psycopg2.OperationalError as exc:
        raise PostgresError(
            f"cannot connect to {_where(settings)}: {str(exc).strip()}; check PGHOST, PGPORT, PGUSER, "
            "PGDATABASE and PGPASSWORD, and that the server is running"
        ) from None
    try:
        yield con
    finally:
        con.close()


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        """select column_name, data_type from duckdb_columns()
           where database_name = current_database() and schema_name = ? and table_name = ?
           order by column_index""",
        [schema, table],
    ).fetchall()


def land_raw(settings: Settings, schema_suffix: str) -> dict[str, int]:
    """Copy the DuckDB copy's `raw` tables into a new `raw<schema_suffix>` schema; rows per table.

    What a killed build left beside the live schemas is dropped first, so nothing stale is published.
    One transaction: a failure leaves no half-filled schema behind.
    """
    discard_schemas(settings, schema_suffix)

    def failure(table: str, exc: Exception) -> str:
        what = f"raw.{table}: " if table else ""
        return (
            f"{what}landing raw in {_where(settings)} failed and was rolled back (the live schemas are "
            f"untouched): {str(exc).strip()}"
        )

    return _copy_schema(
        settings, RAW_SCHEMA, RAW_SCHEMA + schema_suffix, before=SAFE_CAST_FUNCTIONS, failure=failure
    )


def _copy_schema(
    settings: Settings,
    source: str,
    target: str,
    *,
    failure: Callable[[str, Exception], str],
    before: Sequence[str] = (),
    after: Callable[[Any, list[str]], None] | None = None,
) -> dict[str, int]:
    """Copy the tables of the DuckDB copy's `source` schema into PostgreSQL's `target`, made anew, in one
    transaction: `before` runs first, `after(cursor, tables)` last; rows per table. A failure rolls it all
    back and raises PostgresError(`failure(table being copied or "", error)`)."""
    duck = duckdb.connect(str(settings.warehouse), read_only=True)
    copied: dict[str, int] = {}
    try:
        tables = _duck_tables(duck, source)
        with (
            connect(settings) as pg,
            pg.cursor() as cur,
            tempfile.TemporaryDirectory(prefix="edreflect-pg-") as tmp,
        ):
            table = ""
            try:
                cur.execute(f"drop schema if exists {_q(target)} cascade")
                cur.execute(f"create schema {_q(target)}")
                for statement in before:
                    cur.execute(statement)
                for table in tables:
                    copied[table] = _copy_table(
                        duck, cur, table, target, Path(tmp) / "table.csv", source=source
                    )
                table = ""
                if after is not None:
                    after(cur, tables)
                pg.commit()
            except Exception as exc:
                pg.rollback()
                raise PostgresError(failure(table, exc)) from exc
    finally:
        duck.close()
    return copied


def _built_schemas(cur, schema_suffix: str) -> list[str]:
    cur.execute(
        "select nspname from pg_namespace where right(nspname, %s) = %s order by 1",
        [len(schema_suffix), schema_suffix],
    )
    return [name for (name,) in cur.fetchall()]


def publish_schemas(settings: Settings, schema_suffix: str) -> list[str]:
    """Swap every `<schema><suffix>` in for `<schema>` in one transaction; the schemas swapped."""
    with connect(settings) as pg, pg.cursor() as cur:
        try:
            built = _built_schemas(cur, schema_suffix)
            live = [name[: -len(schema_suffix)] for name in built]
            if live:
                cur.execute(f"drop schema if exists {', '.join(_q(s) for s in live)} cascade")
            for old, new in zip(built, live, strict=True):
                cur.execute(f"alter schema {_q(old)} rename to {_q(new)}")
            pg.commit()
        except Exception as exc:
            pg.rollback()
            raise PostgresError(
                f"publishing the build's schemas in {_where(settings)} failed and was rolled back (the live "
                f"schemas are untouched): {str(exc).strip()}"
            ) from exc
    return live


def discard_schemas(settings: Settings, schema_suffix: str) -> None:
    """Drop every `<schema><suffix>` a build made (a failed or killed build); the live schemas stay."""
    with connect(settings) as pg, pg.cursor() as cur:
        built = _built_schemas(cur, schema_suffix)
        if built:
            cur.execute(f"drop schema {', '.join(_q(s) for s in built)} cascade")
        pg.commit()


def _copy_table(
    duck: duckdb.DuckDBPyConnection, cur, table: str, schema: str, csv_path: Path, source: str
) -> int:
    columns = _columns(duck, source, table)
    wanted = [(name, _TO_POSTGRES.get(typ, "text")) for name, typ in columns]
    # PostgreSQL cuts identifiers to 63 bytes, here and in dbt's source() alike (no two contract tables
    # share their first 63 characters; tests/test_engine_postgres.py checks it)
    relation = f"{_q(schema)}.{_q(table)}"
    cur.execute(f"create table {relation} ({', '.join(f'{_q(n)} {t}' for n, t in wanted)})")
    # Timestamps as ISO text in UTC-free form (raw's are naive UTC); DuckDB quotes the empty string.
    duck.execute(
        f"copy (select * from {_q(source)}.{_q(table)}) to '{_sql_path(csv_path)}' "
        "(format csv, header false, quote '\"', escape '\"', nullstr '')"
    )
    with open(csv_path, "rb") as fh:
        cur.copy_expert(f"copy {relation} from stdin (format csv, header false, null '')", fh, size=1 << 20)
    rows = cur.rowcount
    csv_path.unlink()
    return int(rows)


def land_state(settings: Settings, schema_suffix: str) -> dict[str, int]:
    """A build: copy the DuckDB copy's `edfi_state` into `edfi_state<schema_suffix>`, which
    `publish_schemas` swaps in with the models; rows per table."""
    return _copy_state(settings, STATE_SCHEMA + schema_suffix, replace=False)


def _duck_tables(duck: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """The tables of one schema of the DuckDB copy, by name."""
    return [
        t
        for (t,) in duck.execute(
            """select table_name from duckdb_tables()
               where database_name = current_database() and schema_name = ? order by 1""",
            [schema],
        ).fetchall()
    ]


def copy_state(settings: Settings) -> dict[str, int]:
    """A send or resync, after it published the DuckDB file: replace PostgreSQL's `edfi_state` with the
    file's, in one transaction (readers see the state before or after the send, whole); rows per table."""
    return _copy_state(settings, STATE_SCHEMA, replace=True)


def _copy_state(settings: Settings, target: str, *, replace: bool) -> dict[str, int]:
    from edfi.plan import state_views

    def views(cur, tables: list[str]) -> None:
        if {"accepted", "desired"} <= set(tables):
            for view, query in state_views(_q(target)).items():
                cur.execute(f"create view {_q(target)}.{_q(view)} as {query}")

    def failure(table: str, exc: Exception) -> str:
        kept = "its previous copy is" if replace else "the live schemas are"
        return (
            f"copying the Ed-Fi state ({settings.warehouse}, schema {STATE_SCHEMA}) to "
            f"{_where(settings)} failed and was rolled back ({kept} untouched; the DuckDB file holds "
            f"the state, and the next build, send or resync copies it again): {str(exc).strip()}"
        )

    return _copy_schema(settings, STATE_SCHEMA, target, after=views, failure=failure)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def read_edfi(settings: Settings, schema_suffix: str) -> dict[str, int]:
    """Copy the `edfi` models this build made in PostgreSQL (`edfi<schema_suffix>`) into the DuckDB copy's
    `edfi` schema; rows per table.

    Columns keep their names and order and get the DuckDB type of their PostgreSQL type, so the render
    reads the same values it would read from dbt-duckdb's tables.
    """
    copied: dict[str, int] = {}
    duck = open_warehouse(settings.warehouse)
    try:
        with (
            connect(settings) as pg,
            pg.cursor() as cur,
            tempfile.TemporaryDirectory(prefix="edreflect-pg-") as tmp,
        ):
            cur.execute("set time zone 'UTC'")  # timestamptz as `...+00`, which DuckDB reads back exactly
            cur.execute(
                """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p') order by 1""",
                [MODELS_SCHEMA + schema_suffix],
            )
            tables = [t for (t,) in cur.fetchall()]
            with transaction(duck):
                duck.execute(f"drop schema if exists {MODELS_SCHEMA} cascade")
                duck.execute(f"create schema {MODELS_SCHEMA}")
                for table in tables:
                    csv_path = Path(tmp) / "table.csv"
                    copied[table] = _read_table(cur, duck, table, schema_suffix, csv_path, settings)
    finally:
        duck.close()
    return copied


def _read_table(
    cur, duck: duckdb.DuckDBPyConnection, table: str, schema_suffix: str, csv_path: Path, settings: Settings
) -> int:
    source = MODELS_SCHEMA + schema_suffix
    cur.execute(
        """select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns
           where table_schema = %s and table_name = %s order by ordinal_position""",
        [source, table],
    )
    columns = []
    for name, typ, precision, scale in cur.fetchall():
        if typ == "numeric":
            duck_type = f"DECIMAL({precision}, {scale})" if precision and precision <= 38 else "DOUBLE"
        elif typ in _TO_DUCKDB:
            duck_type = _TO_DUCKDB[typ]
        else:
            raise PostgresError(
                f"{MODELS_SCHEMA}.{table} column {name} has PostgreSQL type {typ}, which the Ed-Fi render "
                f"cannot read back from {_where(settings)}: cast it in the model"
            )
        columns.append((name, duck_type))
    with open(csv_path, "wb") as fh:
        cur.copy_expert(
            f"copy (select * from {_q(source)}.{_q(table)}) to stdout (format csv, header false, null '')",
            fh,
        )
    relation = f"{MODELS_SCHEMA}.{_q(table)}"
    duck.execute(f"create table {relation} ({', '.join(f'{_q(n)} {t}' for n, t in columns)})")
    if os.path.getsize(csv_path):
        spec = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': '{t}'" for n, t in columns) + "}"
        duck.execute(
            f"insert into {relation} select * from read_csv('{_sql_path(csv_path)}', header = false, "
            f"delim = ',', quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false, "
            f"auto_detect = false, strict_mode = true, columns = {spec})"
        )
    csv_path.unlink()
    return int(duck.execute(f"select count(*) from {relation}").fetchone()[0])
