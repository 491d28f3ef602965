"""`eoy.Classifications`: an educator's end-of-year classification, per school year."""

from __future__ import annotations

from .core import Context, User, school_year_span
from .users import observer_for
from .vocabulary import CLASSIFICATIONS


def eoy_classifications(ctx: Context, u: User) -> None:
    for year in (2024, 2025):
        if ctx.rnd() < 0.15:
            continue
        t = school_year_span(year)[1] - ctx.rnd() * 20 * 86400
        score = round(1 + ctx.rnd() * 3, 2)
        label = next(lbl for bound, lbl in CLASSIFICATIONS if score < bound)
        final = year == 2024 or ctx.rnd() < 0.7
        rub = ctx.rubrics[0]
        ctx.emit(
            "eoy.Classifications",
            {
                "_id": ctx.oid(),
                "schoolYear": year,
                "learnerId": u.id,
                "observerId": observer_for(ctx, u).id,
                "rubricId": ctx.maybe(rub.id, 0.2),
                "observationId": ctx.user_obs.get(year, ""),
                "classification": label,
                "score": ctx.maybe(score, 0.05),
                "finalizedAt": ctx.ts(t) if final else "",
                "notes": ctx.maybe(ctx.text(1, 3), 0.5),
                **ctx.doc_meta(t - 5 * 86400),
            },
        )
