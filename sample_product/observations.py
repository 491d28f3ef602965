"""`observations`: one observation document, its works and steps, and the works' evaluations.

An observation follows its template's activities: each activity is a work, each template step a work step
(answers, artifacts, evidences, status messages); a rating step's work is evaluated on the rubric, which
may write a `ratings` document; the snapshots taken of the observation come last (`snapshots.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .artifacts import artifact
from .core import Activity, Context, F, Rubric, Step, T, Template, User, Work
from .evidences import evidence
from .ratings import rating
from .rubrics import subitems
from .snapshots import snapshots
from .users import observer_for
from .vocabulary import HTML

# template and status go round-robin rather than at random: every educator then weighs about the same, so
# the product's size is close to linear in the number of educators even for small samples
_STATUSES = ("complete", "inProgress", "complete", "scheduled", "complete", "cancelled", "complete")


@dataclass
class _Observation:
    """What an observation's works and steps share."""

    id: str
    learner: User
    observer: User
    year: int
    rubric: Rubric
    snap_ids: list[str]
    notes: int = 0  # meeting notes written so far (their index in the observation)
    works: list[Work] = field(default_factory=list)


def observation(ctx: Context, u: User) -> None:
    """One observation of educator `u`: the document, a work per template activity, then its snapshots."""
    obs_id = ctx.oid()
    r = ctx.rnd()
    year = 2025 if r < 0.6 else (2024 if r < 0.96 else 2023)
    k = ctx.obs_count
    ctx.obs_count = k + 1
    tmpl = ctx.templates[k % len(ctx.templates)]
    forced = ctx.first("formal observation")  # the richest template, complete, in every sample
    if forced:
        tmpl = ctx.templates[0]
    rubric = next(rb for rb in ctx.rubrics if rb.id == tmpl.rubric)
    observer = observer_for(ctx, u)
    status = "complete" if forced else _STATUSES[(k // len(ctx.templates)) % 7]
    created = ctx.year_time(year)
    observed = ctx.later(created, 21)
    completed = ctx.later(observed, 30) if status == "complete" else None
    _observation_row(ctx, obs_id, u, observer, tmpl, rubric, year, status, created, observed, completed)
    if status == "complete":
        ctx.user_obs[year] = obs_id
    if ctx.rnd() < 0.25 or ctx.first("read-only observer"):
        ctx.values_list(
            "observations.readOnlyObservers", obs_id, obs_id, [ctx.users[ctx.pick(ctx.observers)].id]
        )
    # snapshots are decided first: the signature steps list them
    n_snaps = (1 + (ctx.rnd() < 0.3)) if status == "complete" else int(status == "inProgress")
    snap_ids = [ctx.oid() for _ in range(n_snaps)]
    obs = _Observation(obs_id, u, observer, year, rubric, snap_ids)
    t = observed
    for w, act in enumerate(tmpl.activities):
        t = _work(ctx, obs, w, act, status, t)
    snapshots(ctx, snap_ids, obs_id, u.id, observer.id, rubric, obs.works, t)


def _observation_row(
    ctx: Context,
    obs_id: str,
    u: User,
    observer: User,
    tmpl: Template,
    rubric: Rubric,
    year: int,
    status: str,
    created: float,
    observed: float,
    completed: float | None,
) -> None:
    assignments = ctx.assignments.get(year, [])
    ctx.emit(
        "observations",
        {
            "_id": obs_id,
            "subOrgId": ctx.schools[u.school].id if ctx.rnd() < 0.95 else "",
            "observationTemplateId": tmpl.id,
            "assignmentId": ctx.pick(assignments) if assignments and ctx.rnd() < 0.8 else "",
            "learnerId": u.id,
            "observerId": observer.id,
            "rubricId": ctx.maybe(rubric.id, 0.03),
            "schoolYear": year,
            "status": status,
            "observedAt": ctx.ts(observed) if status != "scheduled" else "",
            "completedAt": ctx.ts(completed) if completed else "",
            **ctx.doc_meta(created, p_deleted=0.01),
        },
    )


def _work(ctx: Context, obs: _Observation, w: int, act: Activity, status: str, t: float) -> float:
    """The work on activity `act`, its steps, meeting notes and evaluation; returns when it was done."""
    wid = ctx.oid()
    if status == "complete":
        wstatus = "complete"
    elif status == "inProgress":
        wstatus = "complete" if w == 0 else ctx.pick(("inProgress", "notStarted"))
    else:
        wstatus = "notStarted"
    started = ctx.later(t, 5)
    done = ctx.later(started, 3)
    oid_ = obs.observer.id
    ctx.emit(
        "observations.work",
        {
            **ctx.child(obs.id, obs.id, w),
            "_id": wid,
            "activityId": act.id,
            "observerId": oid_,
            "status": wstatus,
            "dueDate": ctx.maybe(ctx.date(ctx.later(started, 10)), 0.3),
            "startedAt": ctx.ts(started) if wstatus != "notStarted" else "",
            "completedAt": ctx.ts(done) if wstatus == "complete" else "",
            "learnerSignedAt": ctx.ts(ctx.later(done, 4))
            if wstatus == "complete" and ctx.rnd() < 0.7
            else "",
            "observerSignedAt": ctx.ts(ctx.later(done, 2))
            if wstatus == "complete" and ctx.rnd() < 0.8
            else "",
        },
    )
    work = Work(w, wid, act, wstatus, [])
    obs.works.append(work)
    for s, step in enumerate(act.steps):
        work_step(ctx, obs, wid, s, step, wstatus, started)
    if any(st.type == "meetingNotes" for st in act.steps) and wstatus != "notStarted":
        _meeting_notes(ctx, obs, act, started)
    if "rating" in (st.type for st in act.steps) and wstatus != "notStarted":
        rubric = obs.rubric
        rub = (
            rubric
            if act.rubric is None or act.rubric == rubric.id
            else next(rb for rb in ctx.rubrics if rb.id == act.rubric)
        )
        self_eval = act.type == "selfReflection"
        submitted = done if wstatus == "complete" else None
        work.scores = evaluation(
            ctx, obs.id, wid, obs.learner, obs.observer, self_eval, rub, submitted, obs.year
        )
    return done


def _meeting_notes(ctx: Context, obs: _Observation, act: Activity, started: float) -> None:
    nid = ctx.oid()
    ctx.emit(
        "observations.activityMeetingNotes",
        {
            **ctx.child(obs.id, obs.id, obs.notes),
            "_id": nid,
            "activityId": act.id,
            "authorId": obs.observer.id,
            "title": ctx.maybe(f"{act.type} notes", 0.2),
            "meetingAt": ctx.maybe(ctx.ts(started), 0.1),
            "createdAt": ctx.ts(ctx.later(started, 1)),
        },
    )
    obs.notes += 1
    for c in range(ctx.randint(1, 3)):
        html = ctx.rnd() < 0.2
        ctx.emit(
            "observations.activityMeetingNotes.content",
            {
                **ctx.child(obs.id, nid, c),
                "heading": ctx.maybe(
                    ctx.pick(("Lesson focus", "Glows and grows", "Next steps", "Agreements")),
                    0.3,
                ),
                "format": "html" if html else "text",
                "body": ctx.pick(HTML) if html else ctx.text(1, 4, multiline=0.6, crlf=True),
            },
        )


def work_step(
    ctx: Context, obs: _Observation, wid: str, s: int, step: Step, wstatus: str, started: float
) -> None:
    """One step of a work: its row, then the answers, attachments and status messages it has."""
    sid = ctx.oid()
    status = wstatus if wstatus != "inProgress" else ctx.pick(("complete", "inProgress", "notStarted"))
    by = obs.learner.id if step.assignee == "learner" else obs.observer.id
    done = ctx.later(started, 3)
    ctx.emit(
        "observations.work.steps",
        {
            **ctx.child(obs.id, wid, s),
            "_id": sid,
            "stepId": step.id,
            "status": status,
            "startedAt": ctx.ts(started) if status != "notStarted" else "",
            "completedAt": ctx.ts(done) if status == "complete" else "",
            "completedBy": by if status == "complete" else "",
        },
    )
    if status == "notStarted":
        return
    _form_answers(ctx, obs.id, sid, step, by, started, done)
    if step.type == "evidence":
        arts = [
            artifact(ctx, obs.learner.id, started)[0]
            for _ in range(ctx.randint(1 if ctx.first("step artifact") else 0, 2))
        ]
        ctx.values_list("observations.work.steps.artifacts", obs.id, sid, arts)
        if ctx.rnd() < 0.5 or ctx.first("step evidence"):
            ev = evidence(ctx, obs.learner, obs.year, goals=[], observation=obs.id, owner=obs.observer.id)
            ctx.values_list("observations.work.steps.evidences", obs.id, sid, [ev])
    if step.type == "signature" and obs.snap_ids:
        ctx.values_list("observations.work.steps.snapshots", obs.id, sid, obs.snap_ids[-1:])
    msgs = ctx.randint(0, 2) if status == "complete" else 0
    for m in range(msgs):
        ctx.emit(
            "observations.work.steps.statusMessages",
            {
                **ctx.child(obs.id, sid, m),
                "status": ("inProgress", "complete")[m] if m < 1 or ctx.rnd() < 0.8 else "returned",
                "message": ctx.maybe(ctx.text(1, 1), 0.4),
                "createdBy": by,
                "createdAt": ctx.ts(ctx.later(started, 2)),
            },
        )


def _form_answers(
    ctx: Context, obs_id: str, sid: str, step: Step, by: str, started: float, done: float
) -> None:
    """The step's answers to its form's elements (an unanswered optional question is not in the array)."""
    e = 0
    for el in step.elements:
        if ctx.rnd() < 0.1:
            continue  # unanswered optional question: not in the array
        choice = ctx.pick(el.choices) if el.choices else None
        if choice:
            answer = choice[1]
        elif el.type == "number":
            answer = str(ctx.randint(5, 60))
        elif el.type == "date":
            answer = ctx.date(ctx.later(started, 20))
        elif ctx.rnd() < 0.05:
            answer = ""  # saved without an answer
        else:
            answer = ctx.text(1, 4 if el.type == "textarea" else 1, multiline=0.5)
        ctx.emit(
            "observations.work.steps.formElements",
            {
                **ctx.child(obs_id, sid, e),
                "elementId": el.id,
                "answer": answer,
                "choiceId": choice[0] if choice else "",
                "answeredBy": ctx.maybe(by, 0.05),
                "answeredAt": ctx.maybe(ctx.ts(done), 0.05),
            },
        )
        e += 1


def pick_level(ctx: Context, rub: Rubric) -> int:
    r = ctx.rnd()
    n = len(rub.levels)
    return n - 1 if r < 0.25 else (n - 2 if r < 0.8 else (n - 3 if r < 0.95 else 0))


def evaluation(
    ctx: Context,
    obs_id: str,
    wid: str,
    u: User,
    observer: User,
    self_eval: bool,
    rub: Rubric,
    submitted: float | None,
    year: int,
) -> list[tuple[str, int, str]]:
    """A work's evaluation on rubric `rub`; returns (indicator, level, narrative) of the scored ones."""
    evid = ctx.oid()
    scores: list[tuple[str, int]] = []
    ev_type = "self" if self_eval else ("peer" if ctx.rnd() < 0.03 else "observer")
    evaluator = u.id if self_eval else observer.id
    body_rows = []
    for k, ind in enumerate(rub.scored):
        na = ctx.rnd() < 0.03
        lvl = -1 if na or (submitted is None and ctx.rnd() < 0.4) else pick_level(ctx, rub)
        body_rows.append((k, ind, lvl, na))
        if lvl >= 0:
            scores.append((ind, lvl))
    overall = round(sum(rub.levels[lv][2] for _, lv in scores) / len(scores), 2) if scores else ""
    overall_level = rub.levels[min(len(rub.levels) - 1, max(0, round(overall) - 1))][0] if scores else ""
    ctx.emit(
        "observations.work.evaluations",
        {
            **ctx.child(obs_id, wid, 0),
            "_id": evid,
            "rubricId": rub.id,
            "evaluatorId": evaluator,
            "type": ev_type,
            "overallScore": overall if submitted else "",
            "overallProficiencyLevelId": overall_level if submitted else "",
            "submittedAt": ctx.ts(submitted) if submitted else "",
        },
    )
    narratives = _evaluation_indicators(ctx, obs_id, evid, evaluator, rub, body_rows, submitted, year)
    if submitted and ev_type == "observer" and (ctx.rnd() < 0.5 or ctx.first("rating")):
        rating(ctx, u, observer, obs_id, wid, rub, scores, overall, overall_level, submitted, year)
    return [(ind, lvl, narratives.get(ind, "")) for ind, lvl in scores]


def _evaluation_indicators(
    ctx: Context,
    obs_id: str,
    evid: str,
    evaluator: str,
    rub: Rubric,
    body_rows: list[tuple[int, str, int, bool]],
    submitted: float | None,
    year: int,
) -> dict[str, str]:
    """The evaluation's indicator rows (level -1: not rated); returns each indicator's evidence narrative."""
    narratives: dict[str, str] = {}
    for k, ind, lvl, na in body_rows:
        iid = ctx.oid()
        narrative = narratives[ind] = ctx.text(1, 3, multiline=0.3) if lvl >= 0 and ctx.rnd() < 0.6 else ""
        ctx.emit(
            "observations.work.evaluations.indicators",
            {
                **ctx.child(obs_id, evid, k),
                "_id": iid,
                "indicatorId": ind,
                "proficiencyLevelId": rub.levels[lvl][0] if lvl >= 0 else "",
                "score": rub.levels[lvl][2] if lvl >= 0 else "",
                "notApplicable": T if na else F,
                "evidence": narrative,
            },
        )
        if ctx.rnd() < 0.2:
            ctx.emit(
                "observations.work.evaluations.indicators.comments",
                {
                    **ctx.child(obs_id, iid, 0),
                    "_id": ctx.oid(),
                    "authorId": evaluator,
                    "body": ctx.text(1, 2),
                    "visibleToLearner": T if ctx.rnd() < 0.7 else F,
                    "createdAt": ctx.ts(submitted or ctx.year_time(year)),
                },
            )
        if lvl >= 0:
            ctx.values_list(
                "observations.work.evaluations.indicators.proficiencyLevelSubitemIndex",
                obs_id,
                iid,
                subitems(ctx, rub, ind, lvl),
            )
    return narratives
