"""The order the product is written in: the shared documents, then the educators in chunks.

Shared documents (schools, users, rubrics, groups, templates, assignments, SLO templates) are written
first; then every educator's documents together, in chunks of a random stream and an id range of their
own, in parallel (forked workers) when there are several.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil

from .artifacts import artifact
from .assignments import make_assignments
from .classifications import eoy_classifications
from .core import CHUNK_IDS, Context, F, T, User, epoch
from .evidences import evidence
from .goals import educator_goals
from .groups import make_groups
from .observation_templates import make_templates
from .observations import observation
from .rubrics import make_rubrics
from .slo_templates import make_slo_templates
from .slos import slo
from .users import make_schools, make_users, memberships
from .vocabulary import (
    CONTENT_AREAS,
    FIRST,
    FIRST_ASCII,
    GRADES,
    LAST,
    LAST_ASCII,
    OBSERVER_TITLES,
    TEACHER_TITLES,
)
from .writer import POOL_CAP, open_files

PARTS_DIR = ".parts"  # the chunks' part files, while workers write them
_ACTIVE: Context | None = None  # the context a forked worker inherits


def _chunk_to_parts(k: int) -> None:
    """In a forked worker: write chunk `k`'s rows (no headers) under `<out>/.parts/<k>/`."""
    ctx = _ACTIVE
    assert ctx is not None
    with open_files(ctx, ctx.out_dir / PARTS_DIR / str(k), header=False):
        chunk(ctx, k)


def run(ctx: Context, workers: int) -> None:
    """Shared documents first, then the educators in fixed chunks, in parallel when there are several.

    Why fixed chunks with their own random stream and id range: a chunk's bytes then do not depend on
    which process writes it or on how many workers there are, so output stays byte-identical while the
    GB-sized products use every core. Parts are concatenated in chunk order.
    """
    with open_files(ctx):
        make_schools(ctx)
        make_users(ctx)
        make_rubrics(ctx)
        make_groups(ctx)
        make_templates(ctx)
        make_assignments(ctx)
        make_slo_templates(ctx)
        ctx.shared_pools = {n: list(o.pool) for n, o in ctx.outs.items() if o.pool is not None}
        chunks = range((ctx.n + ctx.chunk_educators - 1) // ctx.chunk_educators)
        if workers <= 1 or len(chunks) == 1:
            for k in chunks:
                chunk(ctx, k)
            return
    parts = ctx.out_dir / PARTS_DIR
    global _ACTIVE
    _ACTIVE = ctx
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(chunks))) as pool:
            pool.map(_chunk_to_parts, chunks, chunksize=1)
    finally:
        _ACTIVE = None
    for t in ctx.tables.values():
        with open(ctx.out_dir / t.relative_path, "ab") as final:
            for k in chunks:
                part = parts / str(k) / t.relative_path
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, final, 1 << 20)
                part.unlink()
    shutil.rmtree(parts)


def chunk(ctx: Context, k: int) -> None:
    """Educators `k * ctx.chunk_educators ...`: a random stream and an id range of the chunk's own."""
    ctx.rng = random.Random(f"{ctx.seed}:educators:{k}")
    ctx.rnd = ctx.rng.random
    ctx.next_id = (k + 1) * CHUNK_IDS
    ctx.obs_count = 0
    ctx.force_cases = k == 0
    for name, out in ctx.outs.items():
        if out.pool is not None:
            out.pool = list(ctx.shared_pools[name])
            out.pool_open = len(out.pool) < POOL_CAP
    for user in ctx.users[k * ctx.chunk_educators : (k + 1) * ctx.chunk_educators]:
        educator(ctx, user)


# ---------------------------------------------------------------- one educator and everything about them
def educator(ctx: Context, u: User) -> None:
    school = ctx.schools[u.school]
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
    memberships(ctx, u, school)
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
    ctx.user_obs = {}
    goals = educator_goals(ctx, u) if "goals" in ctx.tables else []
    for _ in range(ctx.randint(1, 3)):
        evidence(ctx, u, ctx.pick((2024, 2025, 2025)), goals=goals)
    for _ in range(2 + u.index % 2):
        observation(ctx, u)
    if "slos" in ctx.tables and (
        not u.observer and ctx.rnd() < 0.5 or ((not u.observer or u.index == ctx.n - 1) and ctx.first("slo"))
    ):
        slo(ctx, u)
    if "eoy.Classifications" in ctx.tables:
        eoy_classifications(ctx, u)
