"""`sloTemplates`: the SLO templates (sections, elements, choices) the educators' SLOs answer."""

from __future__ import annotations

from .core import Context, F, SloElement, T

SLO_TEMPLATES = 2


def make_slo_templates(ctx: Context) -> None:
    if "sloTemplates" not in ctx.tables:
        return
    for t in range(SLO_TEMPLATES):
        with ctx.stream(f"sloTemplate:{t}"):
            slo_template(ctx, t)


def slo_template(ctx: Context, t: int) -> None:
    """SLO template `t`: the document, its sections, elements and choices (62 lines: the plan is inline)."""
    tid = ctx.oid()
    year = 2025 if t % 2 == 0 else 2024
    ctx.emit(
        "sloTemplates",
        {
            "_id": tid,
            "name": f"Student Learning Objective {year - 1}-{year % 100:02d}",
            "schoolYear": year,
            "isActive": T,
            "approvalRequired": T if t % 2 == 0 else F,
            **ctx.doc_meta(ctx.year_time(year - 1), p_deleted=0.0),
        },
    )
    elements: list[SloElement] = []
    plan = (
        ("goalSetting", ("identifier", "textarea", "assessment", "select")),
        ("midYear", ("textarea", "multiselect")),
        ("endOfYear", ("assessment", "number", "date")),
    )
    for s, (phase, types) in enumerate(plan):
        sid = ctx.oid()
        ctx.emit(
            "sloTemplates.sections",
            {
                **ctx.child(tid, tid, s),
                "_id": sid,
                "title": phase[0].upper() + phase[1:],
                "phase": phase,
            },
        )
        for e, etype in enumerate(types):
            eid = ctx.oid()
            ctx.emit(
                "sloTemplates.sections.elements",
                {
                    **ctx.child(tid, sid, e),
                    "_id": eid,
                    "type": etype,
                    "label": ctx.pick(
                        (
                            "Student population",
                            "Baseline data",
                            "Learning goal",
                            "Growth target, by tier",
                            "Assessment used",
                            "Mid-year progress",
                        )
                    ),
                },
            )
            values = []
            if etype in ("select", "multiselect"):
                for c, label in enumerate(("Tier 1", "Tier 2", "Tier 3")):
                    value = f"tier{c + 1}"
                    values.append(value)
                    ctx.emit(
                        "sloTemplates.sections.elements.choices",
                        {**ctx.child(tid, eid, c), "_id": ctx.oid(), "label": label, "value": value},
                    )
            elements.append(SloElement(eid, sid, etype, values))
    ctx.slo_templates.append((tid, elements))
