"""The generic fillers: a value for every contract column the document modules leave unset.

Driven by the contract (type, enumeration, reference, nullability, and the column's name for strings), so a
column the contract adds gets plausible values without a change here; linkage columns must come from the
document modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from extract import contract
from extract.contract import Column, Table

from .core import CRLF_TABLES, Context, F, GenerationError, T
from .vocabulary import MIME


def filler(ctx: Context, table: Table, col: Column) -> Callable[[], Any]:
    f = _base_filler(ctx, table, col)
    if col.nullable and col.name not in ("deletedAt",):

        def nullable() -> Any:  # ctx.rnd, not a bound copy: `stream` swaps it
            return "" if ctx.rnd() < 0.15 else f()

        return nullable
    return f


def _base_filler(ctx: Context, table: Table, col: Column) -> Callable[[], Any]:  # noqa: C901 - one branch per kind
    """The column's filler: by name, then reference, enumeration, type, and a string's name (68 lines: one
    branch per kind of column, in order of precedence, reads best as one list)."""
    name, typ = col.name, col.type
    if name in contract.LINKAGE_COLUMNS:

        def missing() -> Any:
            raise GenerationError(f"{table.name}.{name}: linkage columns must come from the domain logic")

        return missing
    if name == "_id":
        return ctx.oid
    if name == "orgId":
        return lambda: ctx.org_id
    if name == "subOrgId":
        return lambda: ctx.pick(ctx.schools).id
    if name == "deleted":
        return lambda: F
    if name == "deletedAt":
        return lambda: ""
    ref = col.reference
    if ref is not None:
        _ref_pools(ctx, ref)  # fail early on a reference to a table without ids

        def reference() -> Any:
            ids = [p for p in _ref_pools(ctx, ref) if p]
            if not ids:
                if col.nullable:
                    return ""
                raise GenerationError(
                    f"{table.name}.{name} references {ref}, with no rows yet: extend sample_product/"
                )
            pool = ctx.pick(ids)
            return ctx.pick(pool)

        return reference
    enum = col.enum_values
    if enum:
        return lambda: ctx.pick(enum)
    if typ == "objectid":
        return ctx.oid
    if typ == "boolean":
        return lambda: T if ctx.rnd() < 0.5 else F
    if typ == "integer":
        if name == "schoolYear":
            return lambda: 2025 if ctx.rnd() < 0.6 else 2024
        return lambda: ctx.randint(0, 40)
    if typ == "number":
        return lambda: round(ctx.rnd() * 4, 2)
    if typ == "timestamp":
        return lambda: ctx.ts(ctx.year_time(ctx.pick((2024, 2025))))
    if typ == "date":
        return lambda: ctx.date(ctx.year_time(ctx.pick((2024, 2025))))
    if typ == "text":
        return lambda: ctx.text(1, 4, crlf=table.name in CRLF_TABLES)
    # string: by the column's name where that says what it holds
    low = name.lower()
    if low.endswith("url"):
        return lambda: f"https://files.edreflect.example.com/{ctx.district_slug}/{ctx.oid()}"
    if low.endswith("filename"):
        return lambda: f"{ctx.words(1, 3).replace(' ', '_').lower()}.{ctx.pick(MIME)[0]}"
    if low.endswith("mimetype"):
        return lambda: ctx.pick(MIME)[1]
    if low == "email":
        return lambda: f"user{ctx.randint(1, 99999)}@{ctx.district_slug}.example.org"
    if low == "code":
        return lambda: f"{ctx.randint(1, 4)}{ctx.pick('abcde')}"
    if low == "version":
        return lambda: f"v{ctx.randint(1, 3)}.{ctx.randint(0, 9)}"
    return lambda: ctx.words(1, 4)


def _ref_pools(ctx: Context, ref: str) -> list[list[str]]:
    """The id pools of the referenced tables, looked up at each call (a chunk starts from a copy)."""
    names = (
        [t for t in ctx.tables if t.startswith("rubrics.indicators") and not t.endswith("proficiencyLevels")]
        if ref == "rubrics.indicators*"
        else [ref]
    )
    pools = []
    for n in names:
        out = ctx.outs.get(n)
        if out is None or out.pool is None:
            raise GenerationError(f"reference to {n}._id, which is not a contract table with an _id")
        pools.append(out.pool)
    return pools
