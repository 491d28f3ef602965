"""`snapshots`: the versions of an observation taken when it is submitted, signed or reopened.

Written last for an observation: a snapshot captures every work with its status and ratings.
"""

from __future__ import annotations

import json

from .core import Context, Rubric, Work


def snapshots(
    ctx: Context,
    snap_ids: list[str],
    obs_id: str,
    uid: str,
    oid_: str,
    rubric: Rubric,
    works: list[Work],
    t: float,
) -> None:
    """The observation's snapshots (ids drawn before its works: the signature steps list them)."""
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
        for j, work in enumerate(works):
            data = _work_data(ctx, work, oid_, rubric)
            ctx.emit(
                "snapshots.activityWorks",
                {
                    **ctx.child(sid, sid, j),
                    "workId": work.id,
                    "activityId": work.activity.id,
                    "observerId": ctx.maybe(oid_, 0.05),
                    "status": work.status,
                    "completedAt": ctx.ts(taken) if work.status == "complete" else "",
                    "data": data if work.status != "notStarted" else "",
                },
            )
            ctx.emit("snapshots.indexes", {**ctx.child(sid, sid, j), "value": work.index})


def _work_data(ctx: Context, work: Work, oid_: str, rubric: Rubric) -> str:
    """The captured work, as the JSON the snapshot's `data` column holds."""
    levels = rubric.levels
    return json.dumps(
        {
            "_id": work.id,
            "activityId": work.activity.id,
            "status": work.status,
            "observerId": oid_,
            "notes": ctx.text(1, 2),
            "steps": [{"stepId": st.id, "type": st.type} for st in work.activity.steps],
            "ratings": [
                {
                    "indicatorId": ind,
                    "proficiencyLevelId": levels[lvl][0],
                    "score": levels[lvl][2],
                    "evidence": narrative,
                }
                for ind, lvl, narrative in work.scores
            ],
        },
        separators=(",", ":"),
    )
