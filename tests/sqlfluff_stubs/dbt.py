"""sqlfluff's stand-in for dbt's cross-database macros (`dbt.*`; lint only, .sqlfluff `library_path`): each
renders as the plain SQL it stands for on DuckDB, so the SQL around it is linted."""

from __future__ import annotations

from adapter import _Call, _sql

_TYPES = {
    "type_string": "varchar",
    "type_timestamp": "timestamp",
    "type_int": "integer",
    "type_bigint": "bigint",
    "type_float": "double",
    "type_numeric": "numeric",
    "type_boolean": "boolean",
}


def cast(expression: object, data_type: object) -> str:
    return f"cast({_sql(expression)} as {data_type})"


def safe_cast(expression: object, data_type: object) -> str:
    return f"try_cast({_sql(expression)} as {data_type})"


def listagg(
    measure: object, delimiter_text: object = "','", order_by_clause: object = None, limit_num: object = None
) -> str:
    return f"string_agg({_sql(measure)}, {delimiter_text})"


def date_trunc(datepart: object, date: object) -> str:
    return f"date_trunc('{datepart}', {_sql(date)})"


def current_timestamp() -> str:
    return "current_timestamp"


def __getattr__(name: str) -> object:
    if name in _TYPES:
        return lambda *args, **kwargs: _TYPES[name]
    if name.startswith("__"):
        raise AttributeError(name)
    return _Call(name)
