"""`observations`: one observation document, its works and steps, and the works' evaluations.

An observation follows its template's activities: each activity is a work, each template step a work step
(answers, artifacts, evidences, status messages); a rating step's work is evaluated on the rubric, which
may write a `ratings` document; the snapshots taken of the observation come last.
"""

from __future__ import annotations

import json

from .artifacts import artifact
from .core import Activity, Context, F, Rubric, Step, T, User
from .evidences import evidence
from .ratings import rating
from .rubrics import subitems
from .users import observer_for
from .vocabulary import HTML


def observation(ctx: Context, u: User) -> None:  # noqa: C901 - one observation document, all its arrays
    obs_id = ctx.oid()
    uid = u.id
    r = ctx.rnd()
    year = 2025 if r < 0.6 else (2024 if r < 0.96 else 2023)
    # template and status go round-robin rather than at random: every educator then weighs about the
    # same, so the product's size is close to linear in the number of educators even for small samples
    k = ctx.obs_count
    ctx.obs_count = k + 1
    tmpl = ctx.templates[k % len(ctx.templates)]
    forced = ctx.first("formal observation")  # the richest template, complete, in every sample
    if forced:
        tmpl = ctx.templates[0]
    rubric = next(rb for rb in ctx.rubrics if rb.id == tmpl.rubric)
    observer = observer_for(ctx, u)
    oid_ = observer.id
    status = ("complete", "inProgress", "complete", "scheduled", "complete", "cancelled", "complete")[
        (k // len(ctx.templates)) % 7
    ]
    if forced:
        status = "complete"
    created = ctx.year_time(year)
    observed = ctx.later(created, 21)
    completed = ctx.later(observed, 30) if status == "complete" else None
    assignments = ctx.assignments.get(year, [])
    ctx.emit(
        "observations",
        {
            "_id": obs_id,
            "subOrgId": ctx.schools[u.school].id if ctx.rnd() < 0.95 else "",
            "observationTemplateId": tmpl.id,
            "assignmentId": ctx.pick(assignments) if assignments and ctx.rnd() < 0.8 else "",
            "learnerId": uid,
            "observerId": oid_,
            "rubricId": ctx.maybe(rubric.id, 0.03),
            "schoolYear": year,
            "status": status,
            "observedAt": ctx.ts(observed) if status != "scheduled" else "",
            "completedAt": ctx.ts(completed) if completed else "",
            **ctx.doc_meta(created, p_deleted=0.01),
        },
    )
    if status == "complete":
        ctx.user_obs[year] = obs_id
    if ctx.rnd() < 0.25 or ctx.first("read-only observer"):
        ctx.values_list(
            "observations.readOnlyObservers", obs_id, obs_id, [ctx.users[ctx.pick(ctx.observers)].id]
        )
    # snapshots are decided first: the signature steps list them
    n_snaps = (1 + (ctx.rnd() < 0.3)) if status == "complete" else int(status == "inProgress")
    snap_ids = [ctx.oid() for _ in range(n_snaps)]
    works: list[tuple[int, str, Activity, str, str, list[tuple[str, int, str]]]] = []
    notes = 0
    t = observed
    for w, act in enumerate(tmpl.activities):
        wid = ctx.oid()
        if status == "complete":
            wstatus = "complete"
        elif status == "inProgress":
            wstatus = "complete" if w == 0 else ctx.pick(("inProgress", "notStarted"))
        else:
            wstatus = "notStarted"
        self_eval = act.type == "selfReflection"
        worker = uid if self_eval else oid_
        started = ctx.later(t, 5)
        done = ctx.later(started, 3)
        t = done
        ctx.emit(
            "observations.work",
            {
                **ctx.child(obs_id, obs_id, w),
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
        works.append((w, wid, act, worker, wstatus, []))
        for s, step in enumerate(act.steps):
            work_step(ctx, obs_id, wid, s, step, u, observer, wstatus, started, snap_ids, year, rubric, act)
        if any(st.type == "meetingNotes" for st in act.steps) and wstatus != "notStarted":
            nid = ctx.oid()
            ctx.emit(
                "observations.activityMeetingNotes",
                {
                    **ctx.child(obs_id, obs_id, notes),
                    "_id": nid,
                    "activityId": act.id,
                    "authorId": oid_,
                    "title": ctx.maybe(f"{act.type} notes", 0.2),
                    "meetingAt": ctx.maybe(ctx.ts(started), 0.1),
                    "createdAt": ctx.ts(ctx.later(started, 1)),
                },
            )
            notes += 1
            for c in range(ctx.randint(1, 3)):
                html = ctx.rnd() < 0.2
                ctx.emit(
                    "observations.activityMeetingNotes.content",
                    {
                        **ctx.child(obs_id, nid, c),
                        "heading": ctx.maybe(
                            ctx.pick(("Lesson focus", "Glows and grows", "Next steps", "Agreements")),
                            0.3,
                        ),
                        "format": "html" if html else "text",
                        "body": ctx.pick(HTML) if html else ctx.text(1, 4, multiline=0.6, crlf=True),
                    },
                )
        if "rating" in (st.type for st in act.steps) and wstatus != "notStarted":
            rub = (
                rubric
                if act.rubric is None or act.rubric == rubric.id
                else next(rb for rb in ctx.rubrics if rb.id == act.rubric)
            )
            scores = evaluation(
                ctx, obs_id, wid, u, observer, self_eval, rub, done if wstatus == "complete" else None, year
            )
            works[-1] = (w, wid, act, worker, wstatus, scores)
    rubric_levels = rubric.levels
    for k, sid in enumerate(snap_ids):
        taken = ctx.later(t, 2)
        ctx.emit(
            "snapshots",
            {
                "_id": sid,
                "observationId": obs_id,
                "learnerId": uid,
                "takenBy": ctx.pick((uid, oid_)),
                "takenAt": ctx.ts(taken),
                "reason": ("submit", "sign")[k] if k < 2 else "reopen",
                "version": k + 1,
                **ctx.doc_meta(taken, p_deleted=0.0),
            },
        )
        for j, (w, wid, act, _worker, wstatus, scores) in enumerate(works):
            data = json.dumps(
                {
                    "_id": wid,
                    "activityId": act.id,
                    "status": wstatus,
                    "observerId": oid_,
                    "notes": ctx.text(1, 2),
                    "steps": [{"stepId": st.id, "type": st.type} for st in act.steps],
                    "ratings": [
                        {
                            "indicatorId": ind,
                            "proficiencyLevelId": rubric_levels[lvl][0],
                            "score": rubric_levels[lvl][2],
                            "evidence": narrative,
                        }
                        for ind, lvl, narrative in scores
                    ],
                },
                separators=(",", ":"),
            )
            ctx.emit(
                "snapshots.activityWorks",
                {
                    **ctx.child(sid, sid, j),
                    "workId": wid,
                    "activityId": act.id,
                    "observerId": ctx.maybe(oid_, 0.05),
                    "status": wstatus,
                    "completedAt": ctx.ts(taken) if wstatus == "complete" else "",
                    "data": data if wstatus != "notStarted" else "",
                },
            )
            ctx.emit("snapshots.indexes", {**ctx.child(sid, sid, j), "value": w})


def work_step(
    ctx: Context,
    obs_id: str,
    wid: str,
    s: int,
    step: Step,
    u: User,
    observer: User,
    wstatus: str,
    started: float,
    snap_ids: list[str],
    year: int,
    rubric: Rubric,
    act: Activity,
) -> None:
    sid = ctx.oid()
    status = wstatus if wstatus != "inProgress" else ctx.pick(("complete", "inProgress", "notStarted"))
    by = u.id if step.assignee == "learner" else observer.id
    done = ctx.later(started, 3)
    ctx.emit(
        "observations.work.steps",
        {
            **ctx.child(obs_id, wid, s),
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
    if step.type == "evidence":
        arts = [
            artifact(ctx, u.id, started)[0]
            for _ in range(ctx.randint(1 if ctx.first("step artifact") else 0, 2))
        ]
        ctx.values_list("observations.work.steps.artifacts", obs_id, sid, arts)
        if ctx.rnd() < 0.5 or ctx.first("step evidence"):
            ev = evidence(ctx, u, year, goals=[], observation=obs_id, owner=observer.id)
            ctx.values_list("observations.work.steps.evidences", obs_id, sid, [ev])
    if step.type == "signature" and snap_ids:
        ctx.values_list("observations.work.steps.snapshots", obs_id, sid, snap_ids[-1:])
    msgs = ctx.randint(0, 2) if status == "complete" else 0
    for m in range(msgs):
        ctx.emit(
            "observations.work.steps.statusMessages",
            {
                **ctx.child(obs_id, sid, m),
                "status": ("inProgress", "complete")[m] if m < 1 or ctx.rnd() < 0.8 else "returned",
                "message": ctx.maybe(ctx.text(1, 1), 0.4),
                "createdBy": by,
                "createdAt": ctx.ts(ctx.later(started, 2)),
            },
        )


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
    evid = ctx.oid()
    scores: list[tuple[str, int]] = []
    indicators = rub.scored
    ev_type = "self" if self_eval else ("peer" if ctx.rnd() < 0.03 else "observer")
    evaluator = u.id if self_eval else observer.id
    body_rows = []
    for k, ind in enumerate(indicators):
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
    if submitted and ev_type == "observer" and (ctx.rnd() < 0.5 or ctx.first("rating")):
        rating(ctx, u, observer, obs_id, wid, rub, scores, overall, overall_level, submitted, year)
    return [(ind, lvl, narratives.get(ind, "")) for ind, lvl in scores]
