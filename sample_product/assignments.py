"""`assignments`: observation cycles, each on a template, with learners, observers and groups."""

from __future__ import annotations

from .core import Context, school_year_span


def make_assignments(ctx: Context) -> None:
    learner_groups = [g for s in ctx.schools for g in s.learner_groups]
    observer_groups = [g for s in ctx.schools for g in s.observer_groups]
    for a in range(max(2, ctx.n // 12)):
        aid = ctx.oid()
        tmpl = ctx.templates[a % len(ctx.templates)]
        year = 2025 if a % 3 else 2024
        school = ctx.pick(ctx.schools).id if ctx.rnd() < 0.7 else ""
        lo, hi = school_year_span(year)
        ctx.emit(
            "assignments",
            {
                "_id": aid,
                "subOrgId": school,
                "name": f"{tmpl.type.title()} cycle {year - 1}-{year % 100:02d} #{a + 1}",
                "observationTemplateId": tmpl.id,
                "schoolYear": year,
                "status": "active" if year == 2025 else ctx.pick(("closed", "archived")),
                "startDate": ctx.maybe(ctx.date(lo + 20 * 86400), 0.1),
                "endDate": ctx.maybe(ctx.date(hi - 10 * 86400), 0.2),
                "createdBy": ctx.users[ctx.pick(ctx.observers)].id,
                **ctx.doc_meta(lo + ctx.rnd() * 20 * 86400, p_deleted=0.03),
            },
        )
        least = 1 if a == 0 else 0
        ctx.values_list(
            "assignments.learners",
            aid,
            aid,
            [ctx.pick(ctx.users).id for _ in range(ctx.randint(least, 4))],
        )
        ctx.values_list(
            "assignments.observers",
            aid,
            aid,
            [ctx.users[ctx.pick(ctx.observers)].id for _ in range(ctx.randint(least, 2))],
        )
        if learner_groups:
            ctx.values_list(
                "assignments.learnerGroups",
                aid,
                aid,
                [ctx.pick(learner_groups) for _ in range(ctx.randint(least, 2))],
            )
        if observer_groups:
            ctx.values_list(
                "assignments.observerGroups",
                aid,
                aid,
                [ctx.pick(observer_groups) for _ in range(ctx.randint(least, 1))],
            )
        ctx.assignments.setdefault(year, []).append(aid)
