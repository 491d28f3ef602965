"""The district's schools and educators, and each educator's `users` document.

`make_schools` and `make_users` lay out the district before any file is written (how many schools, who
observes); the `users` document and its arrays (schools, roles, content areas, grades, group memberships,
files, bloom list) are written with the rest of the educator's documents.
"""

from __future__ import annotations

from .artifacts import artifact
from .core import Context, F, School, T, User, epoch, school_year_span
from .vocabulary import (
    CONTENT_AREAS,
    FIRST,
    FIRST_ASCII,
    GRADES,
    LAST,
    LAST_ASCII,
    OBSERVER_TITLES,
    SCHOOL_KINDS,
    SCHOOL_WORDS,
    TEACHER_TITLES,
)


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


def user(ctx: Context, u: User) -> None:
    """The `users` document and its arrays, in the order of their random draws."""
    school = ctx.schools[u.school]
    _user_row(ctx, u)
    _sub_orgs(ctx, u, school)
    _roles_and_subjects(ctx, u)
    memberships(ctx, u, school)
    _files(ctx, u)
    _bloom_list(ctx, u)


def _user_row(ctx: Context, u: User) -> None:
    i = u.index
    fi, li = ctx.randint(0, len(FIRST) - 1), ctx.randint(0, len(LAST) - 1)
    hired = epoch(2000, 8, 1) + ctx.rnd() * 24 * 365 * 86400
    created = max(hired, epoch(2018, 7, 1)) + ctx.rnd() * 30 * 86400
    deleted = i == 3 or (i > 10 and ctx.rnd() < 0.01)
    ctx.emit(
        "users",
        {
            "_id": u.id,
            "email": f"{FIRST_ASCII[fi]}.{LAST_ASCII[li]}{i}@{ctx.district_slug}.example.org",
            "name.first": FIRST[fi],
            "name.last": LAST[li],
            "employeeId": ctx.maybe(f"E{10000 + i}", 0.05),
            "stateStaffId": "" if i == 2 or ctx.rnd() < 0.04 else f"31{i + 10000:08d}",
            "title": ctx.maybe(
                (
                    "Principal"
                    if i < len(ctx.schools)
                    else ctx.pick(OBSERVER_TITLES if u.observer else TEACHER_TITLES)
                ),
                0.05,
            ),
            "hireDate": ctx.maybe(ctx.date(hired), 0.1),
            "active": F if deleted else T,
            "lastLoginAt": ctx.maybe(ctx.ts(ctx.year_time(2025)), 0.1),
            **ctx.doc_meta(created, deleted=deleted),
        },
    )


def _sub_orgs(ctx: Context, u: User, school: School) -> None:
    uid = u.id
    # schools: the primary one, sometimes a second
    subs = [school] + ([ctx.pick(ctx.schools)] if ctx.rnd() < 0.15 else [])
    if len(subs) == 2 and subs[1] is school:
        subs.pop()
    for k, s in enumerate(subs):
        ctx.emit(
            "users.subOrgs",
            {
                **ctx.child(uid, uid, k),
                "subOrgId": s.id,
                "name": s.name,
                "stateSchoolId": ctx.maybe(s.state_id, 0.05),
                "isPrimary": T if k == 0 else F,
            },
        )


def _roles_and_subjects(ctx: Context, u: User) -> None:
    i, uid = u.index, u.id
    roles = (
        ["Teacher"] if not u.observer else (["Principal"] if i < len(ctx.schools) else ["Coach", "Teacher"])
    )
    if i == 0:
        roles.append("District Admin")
    ctx.values_list("users.roles", uid, uid, roles)
    ctx.values_list(
        "users.contentAreas",
        uid,
        uid,
        sorted({ctx.pick(CONTENT_AREAS) for _ in range(ctx.randint(1, 2))}),
    )
    ctx.values_list("users.grades", uid, uid, sorted({ctx.pick(GRADES) for _ in range(ctx.randint(1, 3))}))


def _files(ctx: Context, u: User) -> None:
    uid = u.id
    for k in range(ctx.randint(1 if ctx.first("user file") else 0, 2)):
        art = artifact(ctx, uid, ctx.year_time(2025), kind="file")
        ctx.emit(
            "users.files",
            {
                **ctx.child(uid, uid, k),
                "artifactId": art[0],
                "fileName": art[1],
                "category": ctx.pick(("certification", "resume", "portfolio", "other")),
                "uploadedAt": ctx.ts(ctx.year_time(2025)),
            },
        )


def _bloom_list(ctx: Context, u: User) -> None:
    uid = u.id
    items = []
    for k in range(ctx.randint(1 if ctx.first("bloom item") else 0, 3)):
        iid = ctx.oid()
        items.append(iid)
        t0 = ctx.year_time(2025)
        done = ctx.rnd() < 0.4
        ctx.emit(
            "users.bloomList.items",
            {
                **ctx.child(uid, uid, k),
                "_id": iid,
                "title": ctx.words(2, 5),
                "status": "done" if done else "open",
                "dueDate": ctx.maybe(ctx.date(ctx.later(t0, 45)), 0.4),
                "completedAt": ctx.ts(ctx.later(t0)) if done else "",
                "createdAt": ctx.ts(t0),
            },
        )
    for k in range(ctx.randint(1 if ctx.first("bloom reflection") else 0, 2) if items else 0):
        ctx.emit(
            "users.bloomList.reflections",
            {
                **ctx.child(uid, uid, k),
                "_id": ctx.oid(),
                "itemId": ctx.maybe(ctx.pick(items), 0.2),
                "body": ctx.text(1, 3),
                "createdAt": ctx.ts(ctx.year_time(2025)),
            },
        )


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
        if ctx.report_group is not None and ctx.rnd() < 0.5:
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
