"""`slos`: an educator's student learning objective, answering each element of its SLO template."""

from __future__ import annotations

from dataclasses import dataclass

from .core import Context, F, SloElement, T, User
from .users import observer_for
from .vocabulary import CONTENT_AREAS, GRADES, HTML


@dataclass
class _Slo:
    """What an SLO's answers read from the document."""

    id: str
    t: float
    status: str
    approver: str
    score: float

    @property
    def scored(self) -> bool:
        return self.status == "scored"


def slo(ctx: Context, u: User) -> None:
    """The SLO document, then one answer per element of its template, with the answer's details."""
    tid, elements = ctx.pick(ctx.slo_templates)
    sid = ctx.oid()
    year = ctx.pick((2024, 2025))
    t = ctx.year_time(year)
    status = "scored" if ctx.first("scored slo") else ctx.pick(("draft", "submitted", "approved", "scored"))
    approver = observer_for(ctx, u).id
    doc = _Slo(sid, t, status, approver, round(ctx.rnd() * 3 + 1, 1))
    scored, score = doc.scored, doc.score
    ctx.emit(
        "slos",
        {
            "_id": sid,
            "sloTemplateId": tid,
            "ownerId": u.id,
            "approverId": approver if status != "draft" else "",
            "title": f"{ctx.pick(CONTENT_AREAS)} growth, {ctx.pick(GRADES)}",
            "status": status,
            "schoolYear": year,
            "approvedAt": ctx.ts(ctx.later(t, 20)) if status in ("approved", "scored") else "",
            "finalScore": score if scored else "",
            "finalRating": ("Not Met", "Partially Met", "Met", "Exceeded")[min(3, int(score) - 1)]
            if scored
            else "",
            **ctx.doc_meta(t),
        },
    )
    for a, el in enumerate(elements):
        aid = ctx.oid()
        ctx.emit(
            "slos.answers",
            {
                **ctx.child(sid, sid, a),
                "_id": aid,
                "sectionId": el.section,
                "elementId": el.id,
                "type": el.type,
                "answeredBy": ctx.maybe(u.id, 0.1),
                "answeredAt": ctx.maybe(ctx.ts(ctx.later(t, 30)), 0.1),
            },
        )
        if el.type == "assessment":
            _assessments(ctx, doc, aid)
        elif el.type == "identifier":
            _identifier(ctx, doc, aid)
        else:
            _details(ctx, doc, aid, el)


def _assessments(ctx: Context, doc: _Slo, aid: str) -> None:
    for k in range(ctx.randint(1, 2)):
        asid = ctx.oid()
        ctx.emit(
            "slos.answers.assessments",
            {
                **ctx.child(doc.id, aid, k),
                "_id": asid,
                "name": ctx.pick(("MAP Growth", "District CFA", "DIBELS 8", "Unit test")),
                "type": ("pre", "post", "interim")[k],
                "administeredOn": ctx.maybe(ctx.date(doc.t), 0.2),
                "maxScore": ctx.maybe(100, 0.3),
                "studentCount": ctx.maybe(ctx.randint(12, 140), 0.2),
            },
        )
        for m in range(ctx.randint(1, 2)):
            _measure(ctx, doc, asid, m)
        if doc.status in ("approved", "scored"):
            ctx.emit(
                "slos.answers.assessments.ratings",
                {
                    **ctx.child(doc.id, asid, 0),
                    "raterId": doc.approver,
                    "rating": "Met" if doc.scored else "Approved",
                    "score": doc.score if doc.scored else "",
                    "comment": ctx.maybe(ctx.text(1, 2), 0.5),
                    "ratedAt": ctx.ts(ctx.later(doc.t, 40)),
                },
            )


def _measure(ctx: Context, doc: _Slo, asid: str, m: int) -> None:
    mid = ctx.oid()
    target = ctx.randint(50, 90)
    actual = ctx.randint(30, 100) if doc.scored else ""
    ctx.emit(
        "slos.answers.assessments.measures",
        {
            **ctx.child(doc.id, asid, m),
            "_id": mid,
            "name": ctx.pick(("Proficiency", "Growth")),
            "unit": ctx.pick(("percent", "points", "count")),
            "target": ctx.maybe(target, 0.1),
            "actual": actual,
            "metTarget": (T if actual >= target else F) if doc.scored else "",
        },
    )
    ctx.values_list(
        "slos.answers.assessments.measures.values",
        doc.id,
        mid,
        [
            f"Tier {v + 1}: {ctx.randint(40, 95)}%"
            for v in range(ctx.randint(1 if ctx.first("measure values") else 0, 3))
        ],
    )


def _identifier(ctx: Context, doc: _Slo, aid: str) -> None:
    iid = ctx.oid()
    several = ctx.rnd() < 0.4 or ctx.first("several identifiers")
    itype = ctx.pick(("course", "section", "studentGroup", "gradeLevel"))
    ctx.emit(
        "slos.answers.identifiers",
        {
            **ctx.child(doc.id, aid, 0),
            "_id": iid,
            "identifierType": itype,
            "identifier": "" if several else f"{itype[:3].upper()}-{ctx.randint(100, 999)}",
            "label": ctx.maybe(ctx.words(1, 3), 0.3),
        },
    )
    if several:
        ctx.values_list(
            "slos.answers.identifiers.values",
            doc.id,
            iid,
            [f"{itype[:3].upper()}-{ctx.randint(100, 999)}" for _ in range(ctx.randint(2, 3))],
        )


def _details(ctx: Context, doc: _Slo, aid: str, el: SloElement) -> None:
    did = ctx.oid()
    is_list = el.type == "multiselect"
    html = not is_list and el.type == "textarea" and ctx.rnd() < 0.3
    content = (
        ""
        if is_list
        else (
            ctx.pick(el.choices)
            if el.choices
            else ctx.pick(HTML)
            if html
            else str(ctx.randint(1, 100))
            if el.type == "number"
            else ctx.date(doc.t)
            if el.type == "date"
            else ctx.text(1, 4, multiline=0.5, crlf=True)
        )
    )
    ctx.emit(
        "slos.answers.details",
        {**ctx.child(doc.id, aid, 0), "_id": did, "format": "html" if html else "text", "content": content},
    )
    if is_list:
        ctx.values_list(
            "slos.answers.details.values",
            doc.id,
            did,
            sorted({ctx.pick(el.choices) for _ in range(ctx.randint(1, 2))}),
        )
