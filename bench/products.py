"""Generated data products of a target size, cached under `bench/results/products/<size>MB`.

The generator is driven by a number of educators, not bytes, so the bench first generates a small
calibration product, takes its bytes per educator and scales. Sizes are only approximately the target;
the bench always reports the actual bytes. A product is regenerated when the generator's source changes
(its hash is kept beside the product), so a cached product never measures an old generator.
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
CALIBRATION_EDUCATORS = 40
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
    src = PROJECT_ROOT / "extract" / "sample.py"
    return hashlib.sha256(src.read_bytes()).hexdigest()[:16] if src.exists() else "missing"


def _generate(out: Path, educators: int) -> None:
    from extract.sample import generate

    if out.exists():
        shutil.rmtree(out)
    generate(out, educators=educators, seed=SEED)


def _bytes_per_educator(cache: Path, gen_hash: str) -> float:
    calib_file = cache / "calibration.json"
    if calib_file.exists():
        calib = json.loads(calib_file.read_text())
        if calib.get("generator") == gen_hash:
            return float(calib["bytes_per_educator"])
    tmp = cache / "_calibration"
    _generate(tmp, CALIBRATION_EDUCATORS)
    size, _ = tree_size(tmp)
    shutil.rmtree(tmp)
    bpe = size / CALIBRATION_EDUCATORS
    calib_file.write_text(
        json.dumps({"generator": gen_hash, "educators": CALIBRATION_EDUCATORS, "bytes_per_educator": bpe})
    )
    return bpe


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
    bpe = _bytes_per_educator(cache, gen_hash)
    educators = max(1, math.ceil(target_mb * 1e6 / bpe))
    log(f"generating the ~{target_mb} MB product ({educators} educators) into {out} ...")
    _generate(out, educators)
    size, files = tree_size(out)
    marker.write_text(
        json.dumps(
            {"generator": gen_hash, "educators": educators, "bytes": size, "files": files, "seed": SEED}
        )
    )
    return Product(out, target_mb, educators, size, files)
