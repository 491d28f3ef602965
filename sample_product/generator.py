"""The order the product is written in: the shared documents, then the educators in chunks.

Shared documents (schools, users, rubrics, groups, templates, assignments, SLO templates) are written
first; then every educator's documents together, in chunks of a random stream and an id range of their
own, in parallel (forked workers) when there are several.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil

from .assignments import make_assignments
from .classifications import eoy_classifications
from .core import CHUNK_IDS, Context, User
from .evidences import evidence
from .goals import educator_goals
from .groups import make_groups
from .observation_templates import make_templates
from .observations import observation
from .rubrics import make_rubrics
from .slo_templates import make_slo_templates
from .slos import slo
from .users import make_schools, make_users, user
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
    for u in ctx.users[k * ctx.chunk_educators : (k + 1) * ctx.chunk_educators]:
        educator(ctx, u)


# ---------------------------------------------------------------- one educator and everything about them
def educator(ctx: Context, u: User) -> None:
    """One educator's documents, written together: their user, goals, evidences, observations, SLO, EOY."""
    user(ctx, u)
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
