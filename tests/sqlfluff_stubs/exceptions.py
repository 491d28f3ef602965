"""sqlfluff's stand-in for dbt's `exceptions` (lint only, .sqlfluff `library_path`): the SQL is linted as
if the check passed; dbt itself raises the error."""


def raise_compiler_error(message: str) -> str:
    return ""


def warn(message: str) -> str:
    return ""
