"""One measured task, run as `python -m bench._child <task> <args.json> <out.json>`.

Why a child process: the parent samples this process tree's memory, and the timings cover only the
project call itself (imports and interpreter start-up are excluded, as they are for neither side of a
comparison a user would notice).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def _fetch(args: dict[str, Any]) -> dict[str, Any]:
    from extract.fetch import fetch
    from pipeline import config as cfg

    settings = cfg.from_env()
    t0 = time.perf_counter()
    result = fetch(settings.data_product, settings.landing, settings)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "downloaded": getattr(result, "downloaded", None),
        "skipped": getattr(result, "skipped", None),
        "product_dir": str(getattr(result, "product_dir", "")),
    }


def _load(args: dict[str, Any]) -> dict[str, Any]:
    from extract.load import load_product

    t0 = time.perf_counter()
    res = load_product(Path(args["product"]), Path(args["warehouse"]), load_id=None)
    return {
        "seconds": time.perf_counter() - t0,
        "rows_landed": res.rows_landed,
        "rows_rejected": res.rows_rejected,
        "files": res.files,
    }


def _bare_load(args: dict[str, Any]) -> dict[str, Any]:
    from extract.load import bare_duckdb_load

    t0 = time.perf_counter()
    res = bare_duckdb_load(Path(args["product"]), Path(args["warehouse"]))
    out: dict[str, Any] = {"seconds": time.perf_counter() - t0}
    if isinstance(res, int):
        out["rows_landed"] = res
    elif res is not None and hasattr(res, "rows_landed"):
        out["rows_landed"] = res.rows_landed
    return out


def _build(args: dict[str, Any]) -> dict[str, Any]:
    from pipeline import config as cfg
    from pipeline.build import build

    t0 = time.perf_counter()
    summary = build(cfg.from_env())
    return {
        "seconds": time.perf_counter() - t0,
        "stages": dict(summary.stages),
        "figures": {k: v if isinstance(v, int | float) else str(v) for k, v in summary.figures.items()},
    }


TASKS = {"fetch": _fetch, "load": _load, "bare_load": _bare_load, "build": _build}


def main() -> int:
    task, args_file, out_file = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    args = json.loads(args_file.read_text())
    try:
        out = TASKS[task](args)
        out["ok"] = True
    except Exception as exc:  # the parent reports the failure in the table instead of dying
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    out["maxrss_self_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["maxrss_children_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out_file.write_text(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
