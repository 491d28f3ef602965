"""`observationTemplates`: the observation templates (activities, steps, forms, choices).

A fixed handful at every size, each from a random stream of its own; the observations follow their
activities and steps.
"""

from __future__ import annotations

from .core import Activity, Context, Element, F, Rubric, Step, T, Template
from .vocabulary import FORM_QUESTIONS, SENTENCES

TEMPLATES = 7


def make_templates(ctx: Context) -> None:
    kinds = ("formal", "informal", "walkthrough", "summative", "selfAssessment")
    for t in range(TEMPLATES):
        with ctx.stream(f"template:{t}"):
            template(ctx, kinds[t % len(kinds)], t)


ACTIVITY_PLAN: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "formal": (
        ("preConference", ("form", "meetingNotes")),
        ("observation", ("evidence", "rating", "signature")),
        ("postConference", ("form", "meetingNotes", "signature")),
    ),
    "informal": (("observation", ("rating", "form", "signature")),),
    "walkthrough": (("walkthrough", ("form", "rating")),),
    "summative": (("summative", ("evidence", "rating", "signature")),),
    "selfAssessment": (("selfReflection", ("form", "rating")),),
}


def template(ctx: Context, kind: str, t: int) -> None:
    """Template `t` of `kind`: the document, its activities (steps, forms), its group limits."""
    tid = ctx.oid()
    rubric = ctx.rubrics[t % len(ctx.rubrics)]
    year = 2025 if t % 4 != 3 else 2024
    ctx.emit(
        "observationTemplates",
        {
            "_id": tid,
            "name": f"{kind[0].upper()}{kind[1:]} Observation {year - 1}-{year % 100:02d}",
            "type": kind,
            "rubricId": rubric.id,
            "schoolYear": year,
            "isActive": T if year == 2025 else F,
            **ctx.doc_meta(ctx.year_time(year - 1), p_deleted=0.0),
        },
    )
    acts = [
        _activity(ctx, tid, rubric, a, atype, step_types)
        for a, (atype, step_types) in enumerate(ACTIVITY_PLAN[kind])
    ]
    learner_groups = [g for s in ctx.schools for g in s.learner_groups]
    observer_groups = [g for s in ctx.schools for g in s.observer_groups]
    if t % 3 == 1 and learner_groups:
        ctx.values_list(
            "observationTemplates.learnerGroupLimits",
            tid,
            tid,
            sorted({ctx.pick(learner_groups) for _ in range(ctx.randint(1, 2))}),
        )
    if t % 4 == 1 and observer_groups:
        ctx.values_list("observationTemplates.observerGroupLimits", tid, tid, [ctx.pick(observer_groups)])
    ctx.templates.append(Template(tid, kind, rubric.id, year, acts))


def _activity(
    ctx: Context, tid: str, rubric: Rubric, a: int, atype: str, step_types: tuple[str, ...]
) -> Activity:
    aid = ctx.oid()
    a_rubric = rubric.id if "rating" in step_types else None
    own_rubric = ctx.pick(ctx.rubrics).id if a_rubric and ctx.rnd() < 0.2 else ""
    ctx.emit(
        "observationTemplates.activities",
        {
            **ctx.child(tid, tid, a),
            "_id": aid,
            "name": atype[0].upper() + atype[1:].replace("C", " C"),
            "type": atype,
            "rubricId": own_rubric,
            "required": T if a == 0 or ctx.rnd() < 0.7 else F,
            "visibleToLearner": T if atype != "summative" else F,
        },
    )
    rub = next(r for r in ctx.rubrics if r.id == (own_rubric or rubric.id))
    for k in range(ctx.randint(0, 2)):
        ctx.emit(
            "observationTemplates.activities.alignedIndicators",
            {**ctx.child(tid, aid, k), "rubricId": rub.id, "indicatorId": ctx.pick(rub.scored)},
        )
    steps = [_step(ctx, tid, aid, atype, rub, s, stype) for s, stype in enumerate(step_types)]
    return Activity(aid, atype, own_rubric or a_rubric, steps)


def _step(ctx: Context, tid: str, aid: str, atype: str, rub: Rubric, s: int, stype: str) -> Step:
    sid = ctx.oid()
    assignee = {  # the form's pick is drawn for every step type
        "form": ctx.pick(("learner", "observer", "both")),
        "signature": "both",
        "meetingNotes": "observer",
        "evidence": "learner",
        "rating": "observer",
    }[stype]
    if atype == "selfReflection":
        assignee = "learner"
    ctx.emit(
        "observationTemplates.activities.steps",
        {
            **ctx.child(tid, aid, s),
            "_id": sid,
            "name": stype[0].upper() + stype[1:],
            "type": stype,
            "assignee": assignee,
            "required": T if stype != "evidence" else F,
            "dueDays": ctx.maybe(ctx.randint(2, 14), 0.3),
        },
    )
    elements = _form(ctx, tid, sid, atype, rub) if stype == "form" else []
    return Step(sid, stype, assignee, elements)


def _form(ctx: Context, tid: str, sid: str, atype: str, rub: Rubric) -> list[Element]:
    fid = ctx.oid()
    ctx.emit(
        "observationTemplates.activities.steps.forms",
        {
            **ctx.child(tid, sid, 0),
            "_id": fid,
            "title": f"{atype} questions",
            "instructions": ctx.maybe(ctx.text(1, 2), 0.3),
        },
    )
    elements: list[Element] = []
    for e in range(ctx.randint(3, 5)):
        eid = ctx.oid()
        label, etype = ctx.pick(FORM_QUESTIONS)
        ctx.emit(
            "observationTemplates.activities.steps.forms.elements",
            {
                **ctx.child(tid, fid, e),
                "_id": eid,
                "label": label,
                "type": etype,
                "required": T if ctx.rnd() < 0.6 else F,
                "helpText": ctx.maybe(ctx.pick(SENTENCES), 0.6),
                "indicatorId": ctx.maybe(ctx.pick(rub.scored), 0.5),
            },
        )
        choices = _choices(ctx, tid, eid) if etype in ("select", "multiselect", "checkbox") else []
        elements.append(Element(eid, etype, choices))
    return elements


def _choices(ctx: Context, tid: str, eid: str) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    for c, label in enumerate(("Not yet", "Sometimes", "Often", "Always")):
        cid = ctx.oid()
        value = label.lower().replace(" ", "_")
        choices.append((cid, value))
        ctx.emit(
            "observationTemplates.activities.steps.forms.elements.choices",
            {
                **ctx.child(tid, eid, c),
                "_id": cid,
                "label": label,
                "value": value,
                "score": ctx.maybe(c, 0.3),
            },
        )
    return choices
