"""sqlfluff's stand-in for dbt's `adapter` (lint only, .sqlfluff `library_path`): a dispatched macro renders
as a call of its name, so the SQL around it is linted; dbt itself renders the real macro."""

from __future__ import annotations

import re


class _Call:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: object, **kwargs: object) -> str:
        return f"{self.name}({', '.join(_sql(a) for a in [*args, *kwargs.values()])})"


def _sql(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_sql(v) for v in value)
    text = str(value)
    if re.fullmatch(r"[a-z]+( [a-z]+)+", text):  # a type name of several words: `timestamp with time zone`
        return f"'{text}'"
    return text


def dispatch(macro_name: str, macro_namespace: str | None = None) -> _Call:
    return _Call(macro_name)


def quote(identifier: str) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'
