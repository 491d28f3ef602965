"""`evidences`: an educator's evidence, sometimes from an observation, aligned to goals and indicators."""

from __future__ import annotations

from .artifacts import artifact
from .core import Context, User
from .vocabulary import WORDS


def evidence(
    ctx: Context, u: User, year: int, goals: list[str], observation: str = "", owner: str = ""
) -> str:
    eid = ctx.oid()
    t = ctx.year_time(year)
    kind = ctx.pick(("file", "link", "note"))
    art = artifact(ctx, u.id, t, "file")[0] if kind == "file" else ""
    ctx.emit(
        "evidences",
        {
            "_id": eid,
            "learnerId": u.id,
            "ownerId": owner or u.id,
            "observationId": observation,
            "artifactId": art,
            "title": ctx.words(2, 5),
            "description": ctx.maybe(ctx.text(1, 4), 0.2),
            "type": kind,
            "url": f"https://docs.example.org/{ctx.pick(WORDS)}" if kind == "link" else "",
            "schoolYear": year,
            **ctx.doc_meta(t),
        },
    )
    if goals and (ctx.rnd() < 0.5 or ctx.first("evidence goal")):
        ctx.values_list("evidences.goals", eid, eid, [ctx.pick(goals)])
    rub = ctx.pick(ctx.rubrics)
    for k in range(ctx.randint(1 if ctx.first("evidence indicator") else 0, 2)):
        ctx.emit(
            "evidences.indicators",
            {
                **ctx.child(eid, eid, k),
                "rubricId": rub.id,
                "indicatorId": ctx.pick(rub.scored),
                "alignedBy": ctx.maybe(owner or u.id, 0.2),
                "alignedAt": ctx.maybe(ctx.ts(ctx.later(t)), 0.2),
            },
        )
    return eid
