"""The district's schools and educators, and each educator's `users` document.

`make_schools` and `make_users` lay out the district before any file is written (how many schools, who
observes); the `users` document and its arrays (schools, roles, content areas, grades, group memberships,
files, bloom list) are written with the rest of the educator's documents.
"""

from __future__ import annotations

from .core import Context, School, User, school_year_span
from .vocabulary import SCHOOL_KINDS, SCHOOL_WORDS


# scale knobs: everything shared grows with the number of educators
def make_schools(ctx: Context) -> None:
    n = max(2, round(ctx.n / 25))
    for i in range(n):
        word = SCHOOL_WORDS[i % len(SCHOOL_WORDS)]
        kind, short_kind = SCHOOL_KINDS[(i // len(SCHOOL_WORDS) + i) % len(SCHOOL_KINDS)]
        suffix = f" {i // len(SCHOOL_WORDS) + 1}" if i >= len(SCHOOL_WORDS) else ""
        ctx.schools.append(
            School(
                id=ctx.oid(),
                name=f"{word}{suffix} {kind}",
                short=f"{word.split()[0]}{suffix} {short_kind}",
                state_id=f"3100-{12 + i * 7:04d}",
            )
        )


def make_users(ctx: Context) -> None:
    n_schools = len(ctx.schools)
    for i in range(ctx.n):
        school = i % n_schools
        observer = i < n_schools or ctx.rnd() < 0.06
        u = User(index=i, id=ctx.oid(), school=school, observer=observer)
        ctx.users.append(u)
        if observer:
            ctx.schools[school].observers.append(i)
    ctx.observers = [u.index for u in ctx.users if u.observer]


def memberships(ctx: Context, u: User, school: School) -> None:
    rows: list[tuple[str, str]] = []
    pool = school.learner_groups or [g for s in ctx.schools for g in s.learner_groups]
    if pool:
        rows.extend((ctx.pick(pool), "learner") for _ in range(ctx.randint(1, 2)))
    if u.observer:
        obs_pool = school.observer_groups or [g for s in ctx.schools for g in s.observer_groups]
        if obs_pool:
            rows.append((ctx.pick(obs_pool), "observer"))
        if u.index < len(ctx.schools):
            rows.append((ctx.all_groups[0], "observer"))  # the district coaching team
        if hasattr(ctx, "report_group") and ctx.rnd() < 0.5:
            rows.append((ctx.report_group, "observer"))
    seen: set[str] = set()
    k = 0
    for gid, role in rows:
        if gid in seen:
            continue
        seen.add(gid)
        start = school_year_span(ctx.group_year[gid])[0]
        added = "" if u.index == 1 or ctx.rnd() < 0.1 else ctx.ts(start + ctx.rnd() * 60 * 86400)
        ctx.emit("users.groups", {**ctx.child(u.id, u.id, k), "groupId": gid, "role": role, "addedAt": added})
        k += 1


def observer_for(ctx: Context, u: User) -> User:
    candidates = [o for o in ctx.schools[u.school].observers if o != u.index] or [
        o for o in ctx.observers if o != u.index
    ]
    return ctx.users[ctx.pick(candidates)]
