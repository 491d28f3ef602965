"""`goals`: an educator's goals with aligned indicators, comments and replies, posts, questions, members."""

from __future__ import annotations

from .artifacts import artifact
from .core import Context, F, T, User, school_year_span

_QUESTIONS = (
    "What evidence will show progress?",
    "Which resources do you need?",
    "How does this goal connect to student learning?",
)


def educator_goals(ctx: Context, u: User) -> list[str]:
    """The educator's goals (none to two; one at least in every sample); returns their ids."""
    out = []
    for _ in range(ctx.randint(1 if ctx.first("goal") else 0, 2)):
        out.append(_goal(ctx, u))
    return out


def _goal(ctx: Context, u: User) -> str:
    gid = ctx.oid()
    year = ctx.pick((2024, 2025, 2025))
    t = ctx.year_time(year)
    status = ctx.pick(("draft", "active", "active", "complete"))
    rub = ctx.pick(ctx.rubrics)
    ctx.emit(
        "goals",
        {
            "_id": gid,
            "ownerId": u.id,
            "title": ctx.words(3, 6),
            "description": ctx.maybe(ctx.text(1, 3)),
            "type": ctx.pick(("professional", "studentGrowth")),
            "status": status,
            "schoolYear": year,
            "dueDate": ctx.maybe(ctx.date(school_year_span(year)[1]), 0.3),
            "completedAt": ctx.ts(ctx.later(t, 90)) if status == "complete" else "",
            "rubricId": ctx.maybe(rub.id, 0.3),
            **ctx.doc_meta(t),
        },
    )
    for k in range(ctx.randint(1, 2)):
        ctx.emit(
            "goals.alignedIndicators",
            {**ctx.child(gid, gid, k), "rubricId": rub.id, "indicatorId": ctx.pick(rub.scored)},
        )
    observer = ctx.users[ctx.pick(ctx.observers)].id
    _comments(ctx, u, gid, observer, t)
    _posts(ctx, u, gid, t)
    _questions(ctx, gid, t)
    members = [(u.id, "owner")] + (
        [(observer, ctx.pick(("collaborator", "viewer")))] if ctx.rnd() < 0.6 else []
    )
    for k, (mid, role) in enumerate(members):
        ctx.emit(
            "goals.users",
            {**ctx.child(gid, gid, k), "userId": mid, "role": role, "addedAt": ctx.maybe(ctx.ts(t), 0.1)},
        )
    return gid


def _comments(ctx: Context, u: User, gid: str, observer: str, t: float) -> None:
    for k in range(ctx.randint(1 if ctx.first("goal comment") else 0, 2)):
        cid = ctx.oid()
        tc = ctx.later(t, 60)
        ctx.emit(
            "goals.comments",
            {
                **ctx.child(gid, gid, k),
                "_id": cid,
                "authorId": ctx.pick((u.id, observer)),
                "body": ctx.text(1, 3),
                "createdAt": ctx.ts(tc),
                "editedAt": ctx.maybe(ctx.ts(ctx.later(tc)), 0.8),
            },
        )
        for r in range(ctx.randint(1 if ctx.first("goal reply") else 0, 1)):
            tr = ctx.later(tc)
            ctx.emit(
                "goals.comments.replies",
                {
                    **ctx.child(gid, cid, r),
                    "_id": ctx.oid(),
                    "authorId": u.id,
                    "body": ctx.text(1, 2),
                    "createdAt": ctx.ts(tr),
                    "editedAt": "",
                },
            )


def _posts(ctx: Context, u: User, gid: str, t: float) -> None:
    for k in range(ctx.randint(1 if ctx.first("goal post") else 0, 2)):
        pid = ctx.oid()
        tp = ctx.later(t, 90)
        ctx.emit(
            "goals.posts",
            {
                **ctx.child(gid, gid, k),
                "_id": pid,
                "authorId": u.id,
                "title": ctx.maybe(ctx.words(2, 4), 0.3),
                "body": ctx.text(1, 4),
                "visibility": ctx.pick(("private", "shared")),
                "createdAt": ctx.ts(tp),
            },
        )
        for a in range(ctx.randint(1 if ctx.first("post attachment") else 0, 1)):
            art = artifact(ctx, u.id, tp, "file")
            ctx.emit(
                "goals.posts.attachments",
                {
                    **ctx.child(gid, pid, a),
                    "artifactId": art[0],
                    "fileName": art[1],
                    "mimeType": ctx.maybe(art[2], 0.1),
                },
            )


def _questions(ctx: Context, gid: str, t: float) -> None:
    for k in range(ctx.randint(2, 3)):
        answered = ctx.rnd() < 0.7
        ctx.emit(
            "goals.questions",
            {
                **ctx.child(gid, gid, k),
                "_id": ctx.oid(),
                "prompt": _QUESTIONS[k],
                "answer": ctx.text(1, 3) if answered else "",
                "required": T if k == 0 else F,
                "answeredAt": ctx.ts(ctx.later(t, 30)) if answered else "",
            },
        )
