"""Generated data products of a target size, cached under `bench/results/products/<size>MB`.

The generator is driven by a number of educators, not bytes, so the bench first generates two small
calibration products, fits bytes = fixed + per-educator x educators, and solves for the target. Sizes
are only approximately the target; the bench always reports the actual bytes. A product is regenerated
when the generator's source changes (its hash is kept beside the product), so a cached product never
measures an old generator.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from .measure import PROJECT_ROOT

SEED = 20250701
CALIBRATION_EDUCATORS = (40, 400)
MARKER = ".bench-product.json"


@dataclass
class Product:
    path: Path
    target_mb: int
    educators: int
    bytes: int
    files: int


def tree_size(root: Path) -> tuple[int, int]:
    """(bytes, files) of the regular files under `root`, markers excluded."""
    total = files = 0
    for p in root.rglob("*"):
        if p.is_file() and not p.name.startswith(".bench"):
            total += p.stat().st_size
            files += 1
    return total, files


def _generator_hash() -> str:
    """The sample generator's source (every module of the package): a new generator makes new products."""
    h = hashlib.sha256()
    for src in sorted((PROJECT_ROOT / "sample_product").glob("*.py")):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:16]


def _generate(out: Path, educators: int) -> None:
    from sample_product import generate

    if out.exists():
        shutil.rmtree(out)
    generate(out, educators=educators, seed=SEED)


def _calibration(cache: Path, gen_hash: str) -> tuple[float, float]:
    """(fixed bytes, bytes per educator) from two small products: rubrics and templates do not grow."""
    calib_file = cache / "calibration.json"
    if calib_file.exists():
        calib = json.loads(calib_file.read_text())
        if calib.get("generator") == gen_hash:
            return float(calib["fixed_bytes"]), float(calib["bytes_per_educator"])
    sizes = []
    for educators in CALIBRATION_EDUCATORS:
        tmp = cache / "_calibration"
        _generate(tmp, educators)
        sizes.append(tree_size(tmp)[0])
        shutil.rmtree(tmp)
    (e0, e1), (s0, s1) = CALIBRATION_EDUCATORS, sizes
    per = (s1 - s0) / (e1 - e0)
    fixed = max(0.0, s0 - per * e0)
    calib_file.write_text(
        json.dumps({"generator": gen_hash, "fixed_bytes": fixed, "bytes_per_educator": per, "points": sizes})
    )
    return fixed, per


def ensure_product(cache: Path, target_mb: int, log=print) -> Product:
    """The cached product of about `target_mb` MB (10^6 bytes), generating it if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    gen_hash = _generator_hash()
    out = cache / f"{target_mb}MB"
    marker = out / MARKER
    if marker.exists():
        meta = json.loads(marker.read_text())
        if meta.get("generator") == gen_hash:
            return Product(out, target_mb, meta["educators"], meta["bytes"], meta["files"])
    fixed, per = _calibration(cache, gen_hash)
    educators = max(1, math.ceil((target_mb * 1e6 - fixed) / per))
    log(f"generating the ~{target_mb} MB product ({educators} educators) into {out} ...")
    _generate(out, educators)
    size, files = tree_size(out)
    marker.write_text(
        json.dumps(
            {"generator": gen_hash, "educators": educators, "bytes": size, "files": files, "seed": SEED}
        )
    )
    return Product(out, target_mb, educators, size, files)
