"""`groups`: learner, observer and report groups, with the cases the Ed-Fi export must handle.

Fixed groups first (padded names, odd categories, an old year, a deleted group), then random ones: about
one group for four educators.
"""

from __future__ import annotations

from typing import Any

from .core import Context
from .vocabulary import CATEGORIES_MAPPED, GRADES

MISSING = object()  # a fixed group without a "description": a random one


def make_groups(ctx: Context) -> None:
    """Groups with the cases the Ed-Fi export must handle (names, categories, years, deletes)."""
    fixed = _fixed_groups(ctx)
    used: set[tuple[int, str]] = set()
    for g in range(max(len(fixed), ctx.n // 4)):
        spec = fixed[g] if g < len(fixed) else random_group(ctx, g)
        _group(ctx, g, spec, used)
    ctx.all_groups = [g for gs in ctx.groups_by_year.values() for g in gs]


def _fixed_groups(ctx: Context) -> list[dict[str, Any]]:
    """The groups every sample has: padded and long names, odd categories, an old year, a deleted group."""
    d0 = ctx.schools[0]
    return [
        dict(
            name="Instructional Coaching Team",
            type="observer",
            category="District",
            year=2025,
            school=None,
        ),
        dict(name=" Math PLC ", type="learner", category="PLC", year=2025, school=1 % len(ctx.schools)),
        dict(name="Evaluation Reports", type="report", category="", year=2025, school=None),
        dict(
            name="Walkthrough Pilot",
            type="learner",
            category=" District ",
            year=2025,
            school=0,
            deleted=True,
        ),
        dict(name="2022-23 New Teachers", type="learner", category="school", year=2023, school=0),
        dict(
            name=f"{d0.short} Grade 3 Team",
            type="learner",
            category="school",
            year=2025,
            school=0,
            description="",
        ),
        dict(name="Probationary Cycle", type="learner", category="Teacher", year=2024, school=None),
        dict(name="Peer Observers", type="observer", category="school", year=2024, school=0),
        dict(name=f"{d0.name} Mentoring Program", type="learner", category="Other", year=2025, school=0),
    ]


def _group(ctx: Context, g: int, spec: dict[str, Any], used: set[tuple[int, str]]) -> None:
    """Group `g` from its spec: the document, its reports, roles and rubrics; the schools it belongs to."""
    gid = ctx.oid()
    year = spec["year"]
    key = (year, spec["name"].strip().lower())
    if key in used:  # the same name twice in a year: districts number them
        spec["name"] = f"{spec['name'].strip()} {g}"
        key = (year, spec["name"].strip().lower())
    used.add(key)
    school = spec["school"]
    created = ctx.year_time(year) - 200 * 86400
    description = spec.get("description", MISSING)
    if description is MISSING:
        description = ctx.maybe(ctx.text(1, 2, multiline=0.2), 0.2)
    ctx.emit(
        "groups",
        {
            "_id": gid,
            "subOrgId": "" if school is None else ctx.schools[school].id,
            "name": spec["name"],
            "description": description,
            "type": spec["type"],
            "category": spec["category"],
            "schoolYear": year,
            **ctx.doc_meta(created, p_deleted=0.0, deleted=spec.get("deleted", False)),
        },
    )
    kind = spec["type"]
    if kind == "report" or ctx.rnd() < 0.2:
        _reports(ctx, gid)
    ctx.values_list("groups.roles", gid, gid, ["Principal", "District Admin"][: ctx.randint(1, 2)])
    if kind != "report":
        ctx.values_list("groups.rubrics", gid, gid, [ctx.pick(ctx.rubrics).id])
    ctx.groups_by_year.setdefault(year, []).append(gid)
    ctx.group_year[gid] = year
    target = ctx.schools[school if school is not None else ctx.randint(0, len(ctx.schools) - 1)]
    if kind == "learner":
        target.learner_groups.append(gid)
    elif kind == "observer":
        target.observer_groups.append(gid)
    else:
        ctx.report_group = gid


def _reports(ctx: Context, gid: str) -> None:
    reports = (
        ("observationSummary", "Observation Summary"),
        ("ratingsExport", "Ratings Export"),
        ("goalProgress", "Goal Progress"),
        ("sloStatus", "SLO Status"),
    )
    for i in range(ctx.randint(1, 3)):
        key_, rname = reports[i]
        ctx.emit(
            "groups.reports",
            {
                **ctx.child(gid, gid, i),
                "reportKey": key_,
                "reportName": rname,
                "access": ctx.pick(("view", "export")),
            },
        )


def random_group(ctx: Context, g: int) -> dict[str, Any]:
    school = ctx.randint(0, len(ctx.schools) - 1) if ctx.rnd() < 0.8 else None
    kind = "learner" if ctx.rnd() < 0.72 else ("observer" if ctx.rnd() < 0.75 else "report")
    year = 2025 if ctx.rnd() < 0.65 else (2024 if ctx.rnd() < 0.9 else 2023)
    if kind == "learner":
        grade = ctx.pick(GRADES)
        short_base, long_base = ctx.pick(
            (
                (f"Gr {grade} Team", f"Grade {grade} Team"),
                ("Math Dept", "Mathematics Department"),
                ("ELA Dept", "English Language Arts Department"),
                ("Science Dept", "Science Department"),
                ("New Teachers", "New Teacher Induction"),
                ("Probationary", "Probationary Teachers"),
                ("Cycle B", "Tenured Teachers Cycle B"),
                ("Reading PLC", "Reading Intervention PLC"),
                ("Tier 2 Team", "Tier 2 Intervention Team"),
            )
        )
    elif kind == "observer":
        short_base, long_base = ctx.pick(
            (
                ("Evaluators", "Evaluators"),
                ("Coaches", "Instructional Coaches"),
                ("Admin Team", "Admin Team"),
            )
        )
    else:
        short_base, long_base = ctx.pick((("Reports", "Report Viewers"), ("Data Team", "Data Team")))
    where = ctx.schools[school] if school is not None else None
    if ctx.rnd() < 0.25:  # about a quarter longer than 20 characters (Ed-Fi 3.x/4.0 reject those)
        name = f"{where.name if where else 'District'} {long_base}"
    else:
        name = f"{where.short if where else 'District'} {short_base}"
        if len(name) > 20:
            name = short_base
    if ctx.rnd() < 0.05:
        name = f" {name} " if ctx.rnd() < 0.5 else f"{name}  "
    category = ctx.pick(CATEGORIES_MAPPED + ("school", " District ", "PLC", "", "TEACHER", "Grade Level"))
    return dict(name=name, type=kind, category=category, year=year, school=school)
