"""`rubrics`: the district's rubrics (proficiency levels, standards, indicators up to four levels deep).

A fixed handful at every size, each from a random stream of its own: the rubric an observation is scored
on then weighs the same at any size.
"""

from __future__ import annotations

from .core import Context, F, Rubric, T
from .vocabulary import COMPONENTS, DOMAINS, LEVEL_SETS, LOOKFORS, SENTENCES

RUBRICS = 3


# District configuration (rubrics, templates, SLO templates) is a fixed handful at every size, as in a
# real district: an educator's documents then weigh the same at any size and bytes grow linearly.
def make_rubrics(ctx: Context) -> None:
    for r in range(RUBRICS):
        with ctx.stream(f"rubric:{r}"):
            rubric(ctx, r)


_INDICATOR_TABLES = (
    "rubrics.indicators",
    "rubrics.indicators.indicators",
    "rubrics.indicators.indicators.indicators",
    "rubrics.indicators.indicators.indicators.indicators",
)
_NAMES = (
    "Framework for Teaching (district edition)",
    "Nebraska Teacher Performance Framework",
    "Specialist Rubric",
)


def rubric(ctx: Context, r: int) -> None:
    """Rubric `r`: the document, levels, standards, indicators (domains first), the standards' levels."""
    rid = ctx.oid()
    year = 2025 if r % 3 != 2 else 2024
    created = ctx.year_time(year - 1)
    ctx.emit(
        "rubrics",
        {
            "_id": rid,
            "name": _NAMES[r % 3] + (f" {r // 3 + 1}" if r >= 3 else ""),
            "version": f"{year - 1}-{year % 100:02d}",
            "audience": ("teacher", "teacher", "specialist")[r % 3],
            "schoolYear": year,
            "isActive": T if r % 5 != 4 else F,
            **ctx.doc_meta(created, p_deleted=0.0),
        },
    )
    levels = _levels(ctx, rid, LEVEL_SETS[r % len(LEVEL_SETS)])
    standards = _standards(ctx, rid)
    rub = Rubric(id=rid, levels=levels, scored=[], lines={}, all_indicators=[])
    for d in range(ctx.randint(3, 4)):
        did = ctx.oid()
        ctx.emit(
            "rubrics.indicators",
            {
                **ctx.child(rid, rid, d),
                "_id": did,
                "code": str(d + 1),
                "name": DOMAINS[(d + r) % len(DOMAINS)],
                "weight": "",
                "isScored": F,
                "standardId": "",
            },
        )
        rub.all_indicators.append(did)
        _indicators(ctx, r, rub, standards, 2, did, str(d + 1), ctx.randint(3, 4))
    _standard_levels(ctx, rub, standards)
    ctx.rubrics.append(rub)


def _levels(ctx: Context, rid: str, level_set: tuple[tuple[str, str], ...]) -> list[tuple[str, str, float]]:
    levels: list[tuple[str, str, float]] = []
    for i, (lname, short) in enumerate(level_set):
        lid = ctx.oid()
        levels.append((lid, lname, float(i + 1)))
        ctx.emit(
            "rubrics.proficiencyLevels",
            {
                **ctx.child(rid, rid, i),
                "_id": lid,
                "name": lname,
                "shortName": ctx.maybe(short, 0.2),
                "score": i + 1,
            },
        )
    return levels


def _standards(ctx: Context, rid: str) -> list[str]:
    standards = []
    for i in range(ctx.randint(3, 5)):
        sid = ctx.oid()
        standards.append(sid)
        ctx.emit(
            "rubrics.standards",
            {
                **ctx.child(rid, rid, i),
                "_id": sid,
                "code": f"InTASC {i + 1}",
                "name": ctx.pick(COMPONENTS),
                "source": ctx.pick(("InTASC", "Nebraska Teaching Standards", "")),
            },
        )
    return standards


def _indicators(
    ctx: Context, r: int, rub: Rubric, standards: list[str], level: int, parent: str, code: str, count: int
) -> None:
    """`count` indicators at `level` (2 to 4) under `parent`, each with its descriptors and sub-indicators."""
    rid = rub.id
    for i in range(count):
        iid = ctx.oid()
        icode = (
            f"{code}{i + 1}"
            if level == 1
            else (f"{code}{'abcdefgh'[i]}" if level == 2 else f"{code}.{i + 1}")
        )
        scored = level > 1 and not (level == 2 and r % 2 == 0 and i == 0)
        table = _INDICATOR_TABLES[level - 1]
        ctx.emit(
            table,
            {
                **ctx.child(rid, parent, i),
                "_id": iid,
                "code": icode,
                "name": ctx.pick(DOMAINS if level == 1 else COMPONENTS),
                "weight": ctx.maybe(round(1 / count, 2), 0.5) if level > 1 else "",
                "isScored": T if scored else F,
                "standardId": ctx.maybe(ctx.pick(standards), 0.4),
            },
        )
        rub.all_indicators.append(iid)
        if level > 1:
            descriptors(ctx, f"{table}.proficiencyLevels", rid, iid, rub)
        if scored:
            rub.scored.append(iid)
        # depth: every rubric nests a little; the first rubric always reaches level 4
        if level == 2 and (i == 0 or ctx.rnd() < 0.15):
            _indicators(ctx, r, rub, standards, 3, iid, icode, ctx.randint(2, 3))
        elif level == 3 and i == 0 and (r == 0 or ctx.rnd() < 0.3):
            _indicators(ctx, r, rub, standards, 4, iid, icode, 2)


def _standard_levels(ctx: Context, rub: Rubric, standards: list[str]) -> None:
    for sid in standards:
        for k in range(ctx.randint(1, 2)):
            ind = ctx.pick(rub.scored)
            for li, (lid, _, _) in enumerate(rub.levels):
                ctx.emit(
                    "rubrics.standards.indicators.proficiencyLevels",
                    {
                        **ctx.child(rub.id, sid, li),
                        "indicatorIndex": k,
                        "indicatorId": ind,
                        "proficiencyLevelId": lid,
                        "subitems": lookfors(ctx, ctx.randint(1, 4)) if ctx.rnd() < 0.95 else "",
                    },
                )


def lookfors(ctx: Context, k: int) -> str:
    return "\n".join(ctx.pick(LOOKFORS) for _ in range(k))


def descriptors(ctx: Context, table: str, rid: str, iid: str, rub: Rubric) -> None:
    for li, (lid, lname, _) in enumerate(rub.levels):
        k = ctx.randint(1, 5) if ctx.rnd() < 0.95 else 0
        rub.lines[(iid, li)] = k
        ctx.emit(
            table,
            {
                **ctx.child(rid, iid, li),
                "proficiencyLevelId": lid,
                "description": ctx.maybe(f"{lname}: {ctx.pick(SENTENCES)}", 0.1),
                "subitems": lookfors(ctx, k) if k else "",
            },
        )


def subitems(ctx: Context, rub: Rubric, ind: str, lvl: int) -> list[int]:
    n = rub.lines.get((ind, lvl), 0)
    return sorted({int(ctx.rnd() * n) for _ in range(ctx.randint(0, min(3, n)))}) if n else []
