"""`ratings`: an observer's rubric rating, written from a submitted evaluation of an observation."""

from __future__ import annotations

from typing import Any

from .core import Context, F, Rubric, T, User
from .rubrics import subitems


def rating(
    ctx: Context,
    u: User,
    observer: User,
    obs_id: str,
    wid: str,
    rub: Rubric,
    scores: list[tuple[str, int]],
    overall: Any,
    overall_level: str,
    t: float,
    year: int,
) -> None:
    """A rating of a submitted evaluation: the document, its rubric rating and indicators (64 lines: one
    document with its two nested arrays)."""
    rid = ctx.oid()
    status = ctx.pick(("draft", "submitted", "finalized", "finalized", "finalized"))
    draft = status == "draft"
    ctx.emit(
        "ratings",
        {
            "_id": rid,
            "learnerId": u.id,
            "observerId": observer.id,
            "type": ctx.pick(("observation", "walkthrough", "summative")),
            "status": status,
            "observationId": obs_id,
            "workId": wid if ctx.rnd() < 0.9 else "",
            "schoolYear": year,
            **ctx.doc_meta(t),
        },
    )
    sid = ctx.oid()
    ctx.emit(
        "ratings.rubricRatings",
        {
            **ctx.child(rid, rid, 0),
            "_id": sid,
            "rubricId": rub.id,
            "overallScore": "" if draft else overall,
            "overallProficiencyLevelId": "" if draft else overall_level,
            "submittedAt": "" if draft else ctx.ts(t),
        },
    )
    for k, (ind, lvl) in enumerate(scores):
        iid = ctx.oid()
        na = ctx.rnd() < 0.03  # marked not applicable in the rating record: no level
        ctx.emit(
            "ratings.rubricRatings.indicators",
            {
                **ctx.child(rid, sid, k),
                "_id": iid,
                "indicatorId": ind,
                "proficiencyLevelId": "" if na else rub.levels[lvl][0],
                "score": "" if na else rub.levels[lvl][2],
                "notApplicable": T if na else F,
                "comment": ctx.text(1, 2) if ctx.rnd() < 0.3 else "",
            },
        )
        if not na:
            ctx.values_list(
                "ratings.rubricRatings.indicators.proficiencyLevelSubitemIndex",
                rid,
                iid,
                subitems(ctx, rub, ind, lvl),
            )
