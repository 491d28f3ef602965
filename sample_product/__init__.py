"""Generated sample EdReflect data products, from half a megabyte (5 educators) to several GB.

Why generate instead of shipping files: the pipeline, its tests and its benchmarks need a product that
follows the contract exactly (every group, every table, every reference resolving) at any size, with the
awkward cases a real delivery has (BOM, CRLF, quoted multi-line text, soft deletes, long or padded group
names, odd categories, users without a state staff id, rubrics four levels deep). Nothing here is real data.

How it works:
- The table and column lists come from `extract.contract`, so a contract change flows through: every
  contract column gets a value, from the document modules where realism needs it (ids that resolve, dates
  in order, rubric levels and sub-items that match) and otherwise from a generic generator driven by the
  column's type, enumeration, reference and nullability.
- Output is streamed: every file is open at once and one educator's documents (user, observations, ratings,
  snapshots, evidences, goals, SLOs, ...) are written together, so memory stays flat and the size grows
  linearly with `educators`. Schools, groups and assignments scale with `educators` too; the district's
  configuration (rubrics, observation and SLO templates) is a fixed handful, as in a real district. Shared
  documents are kept in memory (they are small).
- Deterministic: `random.Random(seed)` drives everything (the district configuration draws from named
  streams derived from the seed, so it is the same at every size); no clock, no global random state, so the
  same seed and size give byte-identical files.

Where each document type is written (one module per file group, plus the shared parts):

    users                users.py (with the district's schools and who observes)
    groups               groups.py
    rubrics              rubrics.py
    observationTemplates observation_templates.py
    assignments          assignments.py
    sloTemplates         slo_templates.py
    observations         observations.py (works, steps and evaluations)
    ratings              ratings.py (from an observation's evaluation)
    snapshots            snapshots.py (of an observation)
    evidences            evidences.py
    artifacts            artifacts.py
    goals                goals.py
    slos                 slos.py
    eoy.Classifications  classifications.py

    generator.py   the order of the whole product: shared documents, then educators in chunks (workers)
    core.py        the context every module draws from: random stream, ids, shared records, `emit`
    writer.py      the CSV files (one writer per contract table); fillers.py: the generic column values
    vocabulary.py  names, titles, sentences and rubric words
    __init__.py    the public API: `generate`, `ensure_sample`, `educators_for_size`, the stamp
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from extract import contract
from extract.contract import Table

from .core import Context, GenerationError, SampleError
from .generator import PARTS_DIR, run

__all__ = [
    "BYTES_PER_EDUCATOR",
    "CHUNK_EDUCATORS",
    "FIXED_BYTES",
    "GENERATOR_VERSION",
    "INCOMPLETE_FILE",
    "STAMP_FILE",
    "GenerationError",
    "SampleError",
    "educators_for_size",
    "ensure_sample",
    "generate",
]

# Bump when the generated content changes, so `ensure_sample` rebuilds stale samples.
GENERATOR_VERSION = 1
STAMP_FILE = ".sample.json"
INCOMPLETE_FILE = ".sample.incomplete"  # present while `generate` writes: a killed run may be overwritten

# Measured with the embedded sample's seed: CSV bytes per educator (slope) and the size-independent part
# (negligible at scale). Measured (MB = 10^6 B): 4,782 educators = 249.1 MB, 9,564 = 499.0 MB,
# 19,128 = 998.4 MB; 50,000 educators = about 2.6 GB. 1 GB takes about 47 s of CPU, spread over the cores.
BYTES_PER_EDUCATOR = 52_280
FIXED_BYTES = 0
# Educators are generated in chunks of this size, each with its own random stream and id range (read by
# `generate` at each call: tests set it small to exercise the workers).
CHUNK_EDUCATORS = 2000


def generate(
    out_dir: Path,
    educators: int,
    seed: int,
    *,
    tables: Sequence[Table] | None = None,
    workers: int | None = None,
) -> None:
    """Write a complete sample data product (every group and table of the contract) into `out_dir`.

    The contract's group folders in `out_dir` are replaced and the stamp is written last; other files there
    are left alone. A folder that holds group folders but is not a generated sample (a real delivery, the
    example product) is refused rather than overwritten. `tables` (default: the contract) lets a test show
    that a contract change flows through. `workers` (default: one per CPU) only changes the speed: the
    output is the same for any number of workers.
    """
    if educators < 2:
        raise SampleError(f"educators must be at least 2 (an observer and a learner), got {educators}")
    out_dir = Path(out_dir)
    present = [g for g in contract.FILE_GROUPS if (out_dir / g).exists()]
    ours = (out_dir / STAMP_FILE).exists() or (out_dir / INCOMPLETE_FILE).exists()
    if present and not ours:
        raise SampleError(
            f"{out_dir} holds a data product ({', '.join(present[:3])}, ...) that is not a generated sample: "
            "refusing to overwrite it; choose an empty or new folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INCOMPLETE_FILE).touch()
    (out_dir / STAMP_FILE).unlink(missing_ok=True)
    for group in present:
        shutil.rmtree(out_dir / group)
    if (out_dir / PARTS_DIR).exists():
        shutil.rmtree(out_dir / PARTS_DIR)
    workers = (os.cpu_count() or 1) if workers is None else workers
    tables = contract.tables() if tables is None else tables
    run(Context(out_dir, educators, seed, tables, CHUNK_EDUCATORS), workers)
    (out_dir / STAMP_FILE).write_text(json.dumps(_stamp(educators, seed), indent=2) + "\n", encoding="utf-8")
    (out_dir / INCOMPLETE_FILE).unlink()


def educators_for_size(target_bytes: float) -> int:
    """About how many educators give a product of `target_bytes` of CSV (benchmarks size their input so).

    From measurements of this generator (see BYTES_PER_EDUCATOR); tests keep the estimate honest.
    """
    return max(2, round((target_bytes - FIXED_BYTES) / BYTES_PER_EDUCATOR))


def _stamp(educators: int, seed: int) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "educators": educators,
        "seed": seed,
        "contract_sha256": hashlib.sha256(contract.CONTRACT_CSV.read_bytes()).hexdigest(),
        "sample_py_sha256": _source_sha256(),
    }


def _source_sha256() -> str:
    """The generator's source, every module of the package: a change of any of them rebuilds the sample."""
    h = hashlib.sha256()
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()


def _is_current(dir: Path, wanted: dict[str, Any]) -> bool:  # noqa: A002
    try:
        stamp = json.loads((dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == wanted and all((dir / t.relative_path).is_file() for t in contract.tables())


def ensure_sample(dir: Path, educators: int, seed: int) -> Path:  # noqa: A002 - the interface's name
    """Return `dir` holding the sample for these parameters, generating it only when missing or stale.

    Why a stamp, a rename and a lock: the pipeline calls this on every build, so it must be a no-op when the
    sample is current (same size, seed, contract and generator), and a run killed half-way must never leave a
    half-written product that looks current. The sample is written to a temporary sibling, stamped last, then
    swapped in; a lock file beside it serializes concurrent callers (the second one finds it current).
    """
    dir = Path(dir)  # noqa: A001
    wanted = _stamp(educators, seed)
    if _is_current(dir, wanted):
        return dir
    dir.parent.mkdir(parents=True, exist_ok=True)
    with open(dir.parent / f".{dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(dir, wanted):  # another process built it while we waited
            return dir
        # leftovers of killed runs: nobody else can be writing them while we hold the lock
        for stale in dir.parent.glob(f".{dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in dir.parent.glob(f".{dir.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = dir.parent / f".{dir.name}.tmp-{os.getpid()}"
        old = dir.parent / f".{dir.name}.old-{os.getpid()}"
        try:
            generate(tmp, educators, seed)  # stamps it last
            if dir.exists():
                os.replace(dir, old)
            os.replace(tmp, dir)
        finally:
            for p in (tmp, old):
                if p.exists():
                    shutil.rmtree(p, ignore_errors=True)
    return dir
