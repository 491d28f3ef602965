"""`make bench`: download, load, build and growth benchmarks on generated products of growing size, and
`make build` on the embedded sample.

Environment:
- BENCH_SIZES_MB (default `250,500,1000`): target product sizes in MB (10^6 bytes);
- BENCH_PARTS (default `download,load,build,sample`): which measurements to run; `sample` runs once, not
  per size;
- BENCH_TIMEOUT (default 3600): seconds before one measured child process is killed;
- BENCH_REPEAT (default 3): runs of each download and load measurement (alternating which side goes
  first; the median is reported, every sample is kept in the JSON). The build runs once per size.
- BENCH_ENGINES (default `duckdb,postgres,spark`): the engines of the `engines` part (not in the default
  parts: `BENCH_PARTS=engines`), which builds each size on each and reports the ratio to DuckDB's build
  in the same run (`bench/engines.py`).

Aims (the project brief and issue 13, as ratios measured in the same run): download >= 0.7 x OpenSSH
`sftp`, raw load <= 1.3 x a bare DuckDB `read_csv`, the whole build of the 1 GB product <= 5 x the bare
DuckDB `read_csv` of the same files, `make build` on the embedded sample <= 20 s (its first build and the
next), peak memory < 4 GB, and time growing no faster than size^1.1.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from . import engines
from .measure import PROJECT_ROOT, Measured, run_child, run_measured, tests_module
from .products import Product, ensure_product, tree_size

RESULTS = PROJECT_ROOT / "bench" / "results"
MB = 1e6
AIM_DOWNLOAD_RATIO = 0.7
AIM_LOAD_RATIO = 1.3
AIM_BUILD_RATIO = 5.0  # whole build / bare DuckDB read_csv of the same files; set for the 1 GB product
AIM_SAMPLE_SECONDS = 20.0  # `make build` on the embedded sample, venv ready
AIM_PEAK_BYTES = 4 * 2**30
AIM_EXPONENT = 1.1

console = Console(width=200)  # the table is wide; logs are not terminals


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFTP_", "EDFI_"))}
    for k in ("DATA_PRODUCT", "WAREHOUSE", "LANDING_DIR"):
        env.pop(k, None)
    # dbt's target and log folders follow the warehouse (`<warehouse>.dbt/`, pipeline/dbt.py), so a bench
    # warehouse never shares them with the tests or a developer; dbt's own variables would be overridden.
    for k in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PARSE_CACHE_DIR", "LOG_FILE", "GX_DIR"):
        env.pop(k, None)
    for k in ("ENGINE", "SPARK_MASTER"):
        env.pop(k, None)
    for k in [k for k in env if k.startswith("PG")]:  # the engines part sets its own server's
        env.pop(k, None)
    env["DBT_PROFILES_DIR"] = str(PROJECT_ROOT)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


_DBT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d(?:\.\d+)?)")  # the first time of a line
_DBT_FULL = re.compile(r"Unable to do partial parsing because (.+?)(?:\. Starting full parse)?\.? *$")


def _dbt_parse(warehouse: Path) -> dict[str, Any]:
    """How the last node-running dbt command on `warehouse` (the build's `dbt build`) parsed the project,
    from dbt's log (`<warehouse>.dbt/logs`): `partial` or `full` (with dbt's reason), and the seconds from
    dbt's start to the end of parsing ("Found N models")."""
    logs = warehouse.with_name(warehouse.name + ".dbt") / "logs"
    lines: list[str] = []
    for name in ("dbt.log.1", "dbt.log"):  # dbt rotates its log: a run may start in the previous file
        if (logs / name).exists():
            lines += (logs / name).read_text(errors="replace").splitlines()
    # each dbt invocation opens with a `===== hh:mm:ss.ffffff | <uuid> =====` line; `Concurrency:` is
    # logged by the commands that run nodes (build, run, test, seed), not by ls or parse
    heads = [i for i, line in enumerate(lines) if line.startswith("=====") and " | " in line]
    blocks = [lines[a:b] for a, b in zip(heads, [*heads[1:], len(lines)], strict=True)]
    runs = [i for i, b in enumerate(blocks) if any("Concurrency:" in line for line in b)]
    if not runs:
        return {"mode": None, "seconds": None}
    # the pipeline parses first, in a `parse` of its own, then hands the manifest to the command: the
    # parse's block (no `Concurrency:`, right before) holds the reason for a full parse, and its start is
    # dbt's start
    last = runs[-1]
    first = last - 1 if last > 0 and (last - 1) not in runs else last
    block = [line for b in blocks[first : last + 1] for line in b]
    out: dict[str, Any] = {"mode": "partial", "seconds": None}
    t0 = _DBT_TIME.search(block[0])
    t1 = None
    for line in block:
        if full := _DBT_FULL.search(line):
            out |= {"mode": "full", "reason": full.group(1)}
        if " Found " in line and " models" in line:
            t1 = _DBT_TIME.search(line)
            break
    if first != last:
        # the parse's own block ends when the parse does; the build's "Found" comes when raw has passed,
        # which at 1 GB is long after
        t1 = next((m for line in reversed(blocks[first]) if (m := _DBT_TIME.search(line))), t1)
    if t0 and t1:
        secs = [int(t.group(1)) * 3600 + int(t.group(2)) * 60 + float(t.group(3)) for t in (t0, t1)]
        out["seconds"] = (secs[1] - secs[0]) % 86400
    return out


def _warm(root: Path) -> None:
    """Read the tree once so both sides of a comparison start from the page cache."""
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------- download
def bench_download(product: Product, work: Path, timeout: float, repeat: int) -> dict[str, Any]:
    """Both clients `repeat` times, alternating which goes first; the median run of each is reported."""
    sshd = tests_module("_sshd")  # the tests' real OpenSSH sshd
    samples: dict[str, list[dict[str, Any]]] = {"openssh": [], "extractor": []}
    with sshd.running_sshd() as server:
        remote = server.root / "product"
        try:  # hard links: no second copy of a 1 GB tree (same file system)
            subprocess.run(["cp", "-al", str(product.path), str(remote)], check=True, capture_output=True)
        except subprocess.CalledProcessError:
            shutil.copytree(product.path, remote)
        (remote / ".bench-product.json").unlink(missing_ok=True)
        known_hosts = server.write_known_hosts(work / "known_hosts")
        _warm(remote)

        def openssh() -> dict[str, Any]:
            """OpenSSH's own client, batch mode, recursive get of the same tree."""
            dest = _fresh(work / "openssh") / "product"
            batch = work / "sftp.batch"
            batch.write_text(f'get -R "{remote}" "{dest}"\n')
            cmd = ["sftp", "-q", "-b", str(batch), "-P", str(server.port), "-i", str(server.plain_key),
                   "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
                   "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                   f"{server.user}@127.0.0.1"]  # fmt: skip
            m = run_measured(cmd, _base_env(), timeout)
            got, _ = tree_size(dest) if dest.exists() else (0, 0)
            shutil.rmtree(work / "openssh", ignore_errors=True)
            return _dl_row(m, got, product.bytes)

        def extractor() -> dict[str, Any]:
            """The project's extractor, from an empty landing folder (nothing to skip)."""
            landing = _fresh(work / "landing")
            env = _base_env() | {
                "DATA_PRODUCT": server.url(remote),
                "LANDING_DIR": str(landing),
                "SFTP_KEY_FILE": str(server.plain_key),
                "SFTP_KNOWN_HOSTS": str(known_hosts),
            }
            m = run_child("fetch", {}, env, work, timeout)
            got, _ = tree_size(landing)
            shutil.rmtree(landing, ignore_errors=True)
            return _dl_row(m, got, product.bytes)

        for i in range(repeat):
            order = (("openssh", openssh), ("extractor", extractor))
            for name, fn in order if i % 2 == 0 else order[::-1]:
                samples[name].append(fn())
    out: dict[str, Any] = {name: _median(rows) for name, rows in samples.items()}
    if out["openssh"]["ok"] and out["extractor"]["ok"]:
        out["ratio"] = out["extractor"]["mb_s"] / out["openssh"]["mb_s"]
    return out


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run by time (a failed run counts as failed), with every sample's seconds attached."""
    failed = [r for r in rows if not r["ok"]]
    pick = failed[0] if failed else sorted(rows, key=lambda r: r["seconds"])[len(rows) // 2]
    return pick | {"samples_seconds": [round(r["seconds"], 3) for r in rows]}


def _dl_row(m: Measured, got: int, expected: int) -> dict[str, Any]:
    ok = m.ok and got >= expected
    row: dict[str, Any] = {
        "ok": ok,
        "seconds": m.seconds,
        "wall_seconds": m.wall_seconds,
        "bytes": got,
        "mb_s": expected / MB / m.seconds if ok and m.seconds > 0 else None,
        "peak_bytes": m.peak_bytes,
    }
    if not ok:
        row["error"] = m.child.get("error") or (
            f"exit {m.returncode}, {got} of {expected} bytes: " + m.stderr_tail[-400:]
        )
    return row


# ---------------------------------------------------------------- load
def _measured_load(task: str, product: Product, work: Path, timeout: float) -> dict[str, Any]:
    """One run of `task` (`load` or `bare_load`) of the product's files into a new warehouse."""
    wh_dir = _fresh(work / f"wh-{task}")
    args = {"product": str(product.path), "warehouse": str(wh_dir / "w.duckdb")}
    m = run_child(task, args, _base_env(), work, timeout)
    row: dict[str, Any] = {"ok": m.ok, "seconds": m.seconds, "peak_bytes": m.peak_bytes}
    row.update({k: m.child[k] for k in ("rows_landed", "rows_rejected", "files") if k in m.child})
    if not m.ok:
        row["error"] = m.child.get("error", m.stderr_tail[-400:])
    shutil.rmtree(wh_dir, ignore_errors=True)
    return row


def bench_load(product: Product, work: Path, timeout: float, repeat: int) -> dict[str, Any]:
    """Bare DuckDB and the raw layer `repeat` times each, alternating; the median run of each."""
    samples: dict[str, list[dict[str, Any]]] = {"bare_load": [], "load": []}
    _warm(product.path)
    for i in range(repeat):
        tasks = ("bare_load", "load") if i % 2 == 0 else ("load", "bare_load")
        for task in tasks:
            samples[task].append(_measured_load(task, product, work, timeout))
    out: dict[str, Any] = {task: _median(rows) for task, rows in samples.items()}
    if out["load"]["ok"] and out["bare_load"]["ok"]:
        out["ratio"] = out["load"]["seconds"] / out["bare_load"]["seconds"]
    return out


# ---------------------------------------------------------------- build
# The build's warehouse keeps one path across sizes and runs, and its dbt folder (`<warehouse>.dbt/`) is kept:
# a district's nightly build finds dbt's partial parse of the previous one, so only the first build ever
# parses the whole project (each row says which it was; the `sample` part measures both).
BUILD_WAREHOUSE = RESULTS / "build-warehouse" / "edreflect.duckdb"


def _clear_build_warehouse() -> None:
    """Everything beside the build's warehouse goes (warehouse, copies, lock), except dbt's folder."""
    folder = BUILD_WAREHOUSE.parent
    folder.mkdir(parents=True, exist_ok=True)
    keep = BUILD_WAREHOUSE.name + ".dbt"
    for p in folder.iterdir():
        if p.name != keep:
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def bench_build(
    product: Product,
    work: Path,
    timeout: float,
    engine_env: dict[str, str] | None = None,
    again: bool = False,
    reference: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One whole build of `product` (`engine_env`: ENGINE and its connection; DuckDB by default) on a new
    warehouse; with `again`, the next build of the same delivery on that warehouse too (`row["again"]`:
    what a district's every later build costs, dbt's parse of the project reused). `reference` is run just
    before and just after each build (`row["bare_beside"]`): the build's ratio is then to a reference
    measured on the machine as it was during that build (`add_build_ratio`)."""
    from pipeline import config as cfg

    run_dir = _fresh(work / "build")
    _clear_build_warehouse()
    env = (
        _base_env()
        | (engine_env or {})
        | {
            "DATA_PRODUCT": str(product.path),
            "WAREHOUSE": str(BUILD_WAREHOUSE),
            "EDFI_OUTPUT": str(run_dir / "output"),
            "LANDING_DIR": str(run_dir / "landing"),
            "GX_DIR": str(run_dir / "gx"),
            "LOG_FILE": str(run_dir / "edreflect-edfi.log"),
            "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
            "EDFI_SCHOOL_YEARS": ",".join(str(y) for y in cfg.SAMPLE_SCHOOL_YEARS),
        }
    )

    def measured_build() -> dict[str, Any]:
        m = run_child("build", {}, env, work, timeout)
        out: dict[str, Any] = {
            "ok": m.ok,
            "seconds": m.seconds,
            "wall_seconds": m.wall_seconds,
            "peak_bytes": m.peak_bytes,
            "dbt_parse": _dbt_parse(BUILD_WAREHOUSE),
            "stages": m.child.get("stages", {}),
            "figures": m.child.get("figures", {}),
        }
        if not m.ok:
            out["error"] = m.child.get("error", m.stderr_tail[-400:])
        out["warehouse_bytes"] = BUILD_WAREHOUSE.stat().st_size if BUILD_WAREHOUSE.exists() else None
        return out

    beside = [reference()] if reference else []
    row = measured_build()
    beside += [reference()] if reference else []
    if again and row["ok"]:
        row["again"] = measured_build()
        beside += [reference()] if reference else []
    if reference:
        row["bare_beside"] = beside
    _clear_build_warehouse()
    shutil.rmtree(run_dir, ignore_errors=True)
    return row


def bare_reference(product: Product, work: Path, timeout: float) -> dict[str, Any]:
    """One bare DuckDB `read_csv` of the product's files on a new warehouse: the build ratio's reference."""
    _warm(product.path)
    row = _measured_load("bare_load", product, work, timeout)
    return row if row["ok"] else row | {"seconds": None}


def add_build_ratio(r: dict[str, Any], product: Product, work: Path, timeout: float) -> None:
    """Each build against a bare DuckDB `read_csv` of the same files. The machine's speed moves within
    minutes (a bare load took 8.5 to 18.6 s within an hour), so the reference is the mean of the bare loads
    run just before and just after that build when `bench_build` ran them (`bare_beside`); else the `load`
    part's median when it ran for this size; else one bare load now."""
    b = r["build"]
    beside = [x["seconds"] for x in b.get("bare_beside", [])]
    runs = [(b, beside[0:2])] + ([(b["again"], beside[1:3])] if "again" in b else [])
    bare = r.get("load", {}).get("bare_load", {})
    for row, pair in runs:
        if len(pair) == 2 and None not in pair:
            row["bare_load"] = {
                "seconds": sum(pair) / 2,
                "samples_seconds": pair,
                "from": "mean of the bare loads just before and just after this build",
            }
        elif bare.get("ok"):
            n = len(bare["samples_seconds"])
            row["bare_load"] = {"seconds": bare["seconds"], "from": f"load part, median of {n}"}
        else:
            one = bare_reference(product, work, timeout)
            row["bare_load"] = {"seconds": one["seconds"], "from": "one run"}
            if not one["ok"]:
                row["bare_load"]["error"] = one["error"]
        if row.get("ok") and row["bare_load"]["seconds"]:
            row["ratio"] = row["seconds"] / row["bare_load"]["seconds"]


# ---------------------------------------------------------------- sample
_STAGE_DONE = re.compile(r"pipeline\.progress: stage (.+?): done in ([0-9.]+) s$")


def _stages_from_log(log: Path) -> dict[str, float]:
    """The stage times a `python -m pipeline build` wrote to its log file (LOG_FILE), in order."""
    if not log.exists():
        return {}
    found = (_STAGE_DONE.search(line) for line in log.read_text(errors="replace").splitlines())
    return {m.group(1): float(m.group(2)) for m in found if m}


def bench_sample(work: Path, timeout: float) -> dict[str, Any]:
    """`make build` on the embedded sample, as a user runs it (`python -m pipeline build`, interpreter start
    and imports included), twice on the same warehouse: the first build of a fresh clone (no dbt target
    folder: dbt parses the whole project), then the next one (dbt's partial parse)."""
    from pipeline import config as cfg
    from sample_product import ensure_sample

    # The shared embedded sample is generated before the timed runs (a fresh clone's first build would
    # generate it in its `fetch` stage); its generation is timed on its own, into the work folder.
    t0 = time.perf_counter()
    ensure_sample(work / "sample-product", educators=cfg.SAMPLE_EDUCATORS, seed=cfg.SAMPLE_SEED)
    out: dict[str, Any] = {"generate_seconds": time.perf_counter() - t0}
    ensure_sample(cfg.SAMPLE_DIR, educators=cfg.SAMPLE_EDUCATORS, seed=cfg.SAMPLE_SEED)
    warehouse = work / "warehouse" / "edreflect.duckdb"
    runs = []
    for i, name in enumerate(("first", "next")):
        log = work / f"edreflect-edfi.{name}.log"
        env = _base_env() | {
            "WAREHOUSE": str(warehouse),
            "EDFI_OUTPUT": str(work / "output"),
            "LANDING_DIR": str(work / "landing"),
            "GX_DIR": str(work / "gx"),
            "LOG_FILE": str(log),
            "DBT_PARSE_CACHE_DIR": str(work / "parse-cache"),  # empty: a fresh clone's
        }
        m = run_measured([sys.executable, "-m", "pipeline", "build"], env, timeout)
        run: dict[str, Any] = {
            "run": name,
            "ok": m.returncode == 0,
            "seconds": m.wall_seconds,
            "peak_bytes": m.peak_bytes,
            "dbt_parse": _dbt_parse(warehouse),
            "stages": _stages_from_log(log),
        }
        if not run["ok"]:
            run["error"] = f"exit {m.returncode}: " + m.stderr_tail[-400:]
        runs.append(run)
        if i == 0 and not run["ok"]:
            break
    out["runs"] = runs
    return out


# ---------------------------------------------------------------- growth and report
def loglog_exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x): y ~ x^slope."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0]
    if len(pts) < 2 or len({p[0] for p in pts}) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sum((p[0] - mx) ** 2 for p in pts)


def _stage(stages: dict[str, float], *prefixes: str) -> float | None:
    vals = [v for k, v in stages.items() if k.startswith(prefixes)]
    return sum(vals) if vals else None


def _f(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _parse_cell(parse: dict[str, Any] | None) -> str:
    """`full 19.9` / `partial 2.1`: how dbt parsed the project and in how many seconds (its log's times)."""
    if not parse or not parse.get("mode"):
        return "—"
    return f"{parse['mode']} {_f(parse.get('seconds'))}"


def failures(r: dict[str, Any]) -> list[str]:
    """`part/side: error` for every measurement of one size that did not succeed."""
    out = [f"build: {r['build'].get('error')}" for _ in [0] if r.get("build") and not r["build"].get("ok")]
    if r.get("build", {}).get("bare_load", {}).get("error"):
        out.append(f"build/bare_load: {r['build']['bare_load']['error']}")
    if r.get("build", {}).get("again", {}).get("error"):
        out.append(f"build/again: {r['build']['again']['error']}")
    for part in ("download", "load", "engines"):
        for side, v in r.get(part, {}).items():
            if isinstance(v, dict) and not v.get("ok"):
                out.append(f"{part}/{side}: {v.get('error')}")
    return out


def rows_for_table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = [
        "size (MB)",
        "files",
        "dl ours MB/s",
        "dl OpenSSH MB/s",
        "dl ratio",
        "load s",
        "bare DuckDB s",
        "load ratio",
        "fetch s",
        "load raw s",
        "validate s",
        "dbt build s",
        "Ed-Fi export s",
        "dbt parse s",
        "build s",
        "build / bare",
        "build peak MB",
        "status",
    ]
    body = []
    for r in results:
        dl, ld, b = r.get("download", {}), r.get("load", {}), r.get("build", {})
        st = b.get("stages", {})
        bare = ld.get("bare_load", {}).get("seconds") if ld.get("bare_load", {}).get("ok") else None
        if bare is None:  # no load part: the build's own bare load
            bare = b.get("bare_load", {}).get("seconds")
        errors = failures(r)
        body.append(
            [
                _f(r["bytes"] / MB),
                str(r["files"]),
                _f(dl.get("extractor", {}).get("mb_s")),
                _f(dl.get("openssh", {}).get("mb_s")),
                _f(dl.get("ratio"), "{:.2f}"),
                _f(ld.get("load", {}).get("seconds") if ld.get("load", {}).get("ok") else None, "{:.2f}"),
                _f(bare, "{:.2f}"),
                _f(ld.get("ratio"), "{:.2f}"),
                _f(_stage(st, "fetch")),
                _f(_stage(st, "load raw")),
                _f(_stage(st, "validate")),
                _f(_stage(st, "dbt build")),
                _f(_stage(st, "render Ed-Fi", "publish Ed-Fi")),
                _parse_cell(b.get("dbt_parse")),
                _f(b.get("seconds") if b.get("ok") else None),
                _f(b.get("ratio"), "{:.1f}"),
                _f(b.get("peak_bytes") / MB if b.get("peak_bytes") else None, "{:.0f}"),
                "ok" if not errors else "FAILED: " + "; ".join(e.split(":")[0] for e in errors),
            ]
        )
    return head, body


def growth(results: list[dict[str, Any]]) -> dict[str, float | None]:
    def series(get) -> float | None:
        pairs = [(r["bytes"], get(r)) for r in results]
        pairs = [(x, y) for x, y in pairs if y]
        return loglog_exponent([p[0] for p in pairs], [p[1] for p in pairs]) if len(pairs) >= 2 else None

    def ok_val(part: str, key: str, sub: str | None = None):
        def get(r: dict[str, Any]):
            d = r.get(part, {})
            d = d.get(sub, {}) if sub else d
            return d.get(key) if d.get("ok") else None

        return get

    return {
        "build_time": series(ok_val("build", "seconds")),
        "build_peak_memory": series(ok_val("build", "peak_bytes")),
        "load_time": series(ok_val("load", "seconds", "load")),
        "bare_load_time": series(ok_val("load", "seconds", "bare_load")),
        "download_time": series(ok_val("download", "seconds", "extractor")),
        # per stage of the build: a large fixed cost (dbt's 1700+ nodes) hides the growth of the rest
        **{
            f"build_stage_{name.replace(' ', '_')}": series(
                lambda r, n=name: r.get("build", {}).get("stages", {}).get(n)
            )
            for name in ("load raw", "validate raw", "dbt build", "validate staging", "validate marts")
        },
    }


def sample_verdicts(sample: dict[str, Any] | None) -> list[str]:
    out = []
    for run in (sample or {}).get("runs", []):
        if run["ok"]:
            met = "met" if run["seconds"] <= AIM_SAMPLE_SECONDS else "NOT met"
            out.append(
                f"embedded sample, {run['run']} build (dbt {run['dbt_parse']['mode'] or '?'} parse): "
                f"{run['seconds']:.1f} s (aim <= {AIM_SAMPLE_SECONDS:.0f} s): {met}"
            )
        else:
            out.append(f"embedded sample, {run['run']} build FAILED: {run['error']}")
    return out


def sample_table(sample: dict[str, Any] | None) -> tuple[list[str], list[list[str]]]:
    """One row per run of `make build` on the embedded sample: its seconds and its stages' seconds."""
    runs = (sample or {}).get("runs", [])
    stages: list[str] = []
    for run in runs:
        stages += [s for s in run["stages"] if s not in stages]
    aim = f"aim <= {AIM_SAMPLE_SECONDS:.0f} s"
    head = ["sample build", "dbt parse s", "make build s", *[f"{s} s" for s in stages], "peak MB", aim]
    body = [
        [
            run["run"],
            _parse_cell(run["dbt_parse"]),
            _f(run["seconds"] if run["ok"] else None),
            *[_f(run["stages"].get(s)) for s in stages],
            _f(run["peak_bytes"] / MB if run.get("peak_bytes") else None, "{:.0f}"),
            ("met" if run["seconds"] <= AIM_SAMPLE_SECONDS else "NOT met") if run["ok"] else "FAILED",
        ]
        for run in runs
    ]
    return head, body


def verdicts(results: list[dict[str, Any]], exps: dict[str, float | None]) -> list[str]:
    out = []
    for r in results:
        mb = r["bytes"] / MB
        ratio = r.get("download", {}).get("ratio")
        if ratio is not None:
            out.append(
                f"{mb:.0f} MB download ratio {ratio:.2f} (aim >= {AIM_DOWNLOAD_RATIO}): "
                f"{'met' if ratio >= AIM_DOWNLOAD_RATIO else 'NOT met'}"
            )
        ratio = r.get("load", {}).get("ratio")
        if ratio is not None:
            out.append(
                f"{mb:.0f} MB load ratio {ratio:.2f} (aim <= {AIM_LOAD_RATIO}): "
                f"{'met' if ratio <= AIM_LOAD_RATIO else 'NOT met'}"
            )
        b = r.get("build", {})
        if b.get("ok"):
            peak = b["peak_bytes"]
            out.append(
                f"{mb:.0f} MB build peak memory {peak / 2**30:.2f} GiB (aim < 4 GiB): "
                f"{'met' if peak < AIM_PEAK_BYTES else 'NOT met'}"
            )
        ratio = b.get("ratio")
        if ratio is not None:
            aimed = "" if r["target_mb"] >= 1000 else ", set for the 1 GB product"
            out.append(
                f"{mb:.0f} MB whole build {b['seconds']:.1f} s = {ratio:.1f} x bare DuckDB "
                f"{b['bare_load']['seconds']:.2f} s, dbt {b['dbt_parse']['mode'] or '?'} parse "
                f"(aim <= {AIM_BUILD_RATIO:.0f} x{aimed}): {'met' if ratio <= AIM_BUILD_RATIO else 'NOT met'}"
            )
        again = b.get("again", {})
        if again.get("ratio") is not None:
            out.append(
                f"{mb:.0f} MB the next build of the same warehouse {again['seconds']:.1f} s = "
                f"{again['ratio']:.1f} x bare DuckDB {again['bare_load']['seconds']:.2f} s, dbt "
                f"{again['dbt_parse']['mode'] or '?'} parse "
                f"(aim <= {AIM_BUILD_RATIO:.0f} x{aimed}): "
                f"{'met' if again['ratio'] <= AIM_BUILD_RATIO else 'NOT met'}"
            )
    e = exps.get("build_time")
    if e is not None:
        out.append(
            f"build time ~ size^{e:.2f} (aim < {AIM_EXPONENT}): {'met' if e < AIM_EXPONENT else 'NOT met'}"
        )
    return out


def machine() -> dict[str, Any]:
    import psutil

    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1m_at_start": round(load1, 2),
        "loadavg_5m_at_start": round(load5, 2),
    }


def _print_table(title: str, head: list[str], body: list[list[str]], left: set[str]) -> None:
    table = Table(title=title)
    for h in head:
        table.add_column(h, justify="left" if h in left else "right")
    for row in body:
        table.add_row(*row)
    console.print(table)


def _md_table(head: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in body]


def write_report(
    results: list[dict[str, Any]], meta: dict[str, Any], sample: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Print the tables and aims, and write them as Markdown and JSON under bench/results/."""
    exps = growth(results)
    head, body = rows_for_table(results)
    s_head, s_body = sample_table(sample)
    verdict_lines = sample_verdicts(sample) + verdicts(results, exps)
    _print_report(results, sample, exps, verdict_lines, (head, body), (s_head, s_body))
    stamp = meta["started"].replace(":", "").replace("-", "")[:15]
    md = _markdown(results, meta, sample, exps, verdict_lines, (head, body), (s_head, s_body))
    RESULTS.mkdir(parents=True, exist_ok=True)
    md_text = "\n".join(md) + "\n"
    payload = {
        "meta": meta,
        "results": results,
        "sample": sample,
        "growth_exponents": exps,
        "aims": verdict_lines,
    }
    md_path, json_path = RESULTS / f"bench-{stamp}.md", RESULTS / f"bench-{stamp}.json"
    md_path.write_text(md_text)
    json_path.write_text(json.dumps(payload, indent=2, default=str))
    (RESULTS / "latest.md").write_text(md_text)
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2, default=str))
    return md_path, json_path


_Table = tuple[list[str], list[list[str]]]


def _print_report(
    results: list[dict[str, Any]],
    sample: dict[str, Any] | None,
    exps: dict[str, Any],
    verdict_lines: list[str],
    table: _Table,
    sample_tab: _Table,
) -> None:
    (head, body), (s_head, s_body) = table, sample_tab
    if body:
        _print_table("edreflect-edfi benchmark", head, body, {"status", "dbt parse s"})
    if s_body:
        _print_table("make build on the embedded sample", s_head, s_body, {"sample build", "dbt parse s"})
    e_head, e_body = engines.table(results)
    if e_body:
        _print_table("the same build on each engine", e_head, e_body, {"engine", "status", "stages (s)"})
    for k, v in exps.items():
        console.print(f"growth exponent {k}: {_f(v, '{:.2f}')}")
    for line in verdict_lines:
        console.print(f"- {line}")
    for r in results:
        for e in failures(r):
            console.print(f"[red]{r['bytes'] / MB:.0f} MB {e}")
    for run in (sample or {}).get("runs", []):
        if not run["ok"]:
            console.print(f"[red]sample {run['run']} build: {run['error']}")


def _markdown(
    results: list[dict[str, Any]],
    meta: dict[str, Any],
    sample: dict[str, Any] | None,
    exps: dict[str, Any],
    verdict_lines: list[str],
    table: _Table,
    sample_tab: _Table,
) -> list[str]:
    (head, body), (s_head, s_body) = table, sample_tab
    md = [
        "# edreflect-edfi benchmark",
        "",
        f"started {meta['started']}, finished {meta['finished']}",
        f"machine: {json.dumps(meta['machine'])}, load average at the end: {meta.get('loadavg_1m_at_end')}",
        f"download and load: median of {meta.get('repeat', 1)} runs each (every sample is in the JSON); "
        "build: one run per size on a new warehouse (seconds of the `build()` call), then the next build "
        "of the same delivery on it (in the aims and the JSON, `again`); build / bare: the whole build "
        "against a bare DuckDB `read_csv` of the same files (the mean of the bare loads run just before "
        "and just after that build, each build's own in the JSON); "
        "dbt parse s: `full` (the whole project) or `partial` (dbt's partial parse of the previous "
        "build) and its seconds, from dbt's log",
        "",
    ]
    if body:
        md += _md_table(head, body) + [""]
    if s_body:
        md += [
            "`make build` on the embedded sample (`python -m pipeline build`, interpreter start included), "
            "twice on one warehouse: the first build of a fresh clone, then the next one; the sample's "
            f"generation (not in the runs) takes {sample['generate_seconds']:.1f} s once:",
            "",
            *_md_table(s_head, s_body),
            "",
        ]
    e_head, e_body = engines.table(results)
    if e_body:
        md += [
            "The same build on each engine (`BENCH_PARTS=engines`), one run each, in this order; "
            "x DuckDB: against the DuckDB build of the same run:",
            "",
            *_md_table(e_head, e_body),
            "",
        ]
    md += ["Growth exponents (log-log least squares of the value against product bytes):", ""]
    md += [f"- {k}: {_f(v, '{:.2f}')}" for k, v in exps.items()]
    md += ["", "Aims:", ""] + [f"- {line}" for line in verdict_lines]
    md += ["", "Failures:", ""]
    fails = [f"- {r['bytes'] / MB:.0f} MB {e}" for r in results for e in failures(r)]
    sample_runs = (sample or {}).get("runs", [])
    fails += [f"- sample {run['run']} build: {run['error']}" for run in sample_runs if not run["ok"]]
    md += fails or ["- none"]
    md += ["", "Stage times of each build (s):", ""]
    for r in results:
        st = r.get("build", {}).get("stages", {})
        if st:
            md.append(f"- {r['bytes'] / MB:.0f} MB: " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
        st = r.get("build", {}).get("again", {}).get("stages", {})
        if st:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in st.items())
            md.append(f"- {r['bytes'] / MB:.0f} MB, the next build: {stages}")
    for run in sample_runs:
        if run["stages"]:
            md.append(
                f"- sample, {run['run']} build: "
                + ", ".join(f"{k} {v:.1f}" for k, v in run["stages"].items())
            )
    return md


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES_MB", "250,500,1000").split(",") if s.strip()]
    parts = {
        p.strip() for p in os.environ.get("BENCH_PARTS", "download,load,build,sample").split(",") if p.strip()
    }
    timeout = float(os.environ.get("BENCH_TIMEOUT", "3600"))
    repeat = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
    meta: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "sizes_mb": sizes,
        "repeat": repeat,
        "parts": sorted(parts),
        "machine": machine(),
    }
    results: list[dict[str, Any]] = []
    work = RESULTS / "work"
    sample = None
    if "sample" in parts:
        sample = bench_sample(_fresh(work), timeout)
        console.print(f"sample: {json.dumps(sample, default=str)}")
    engine_names = engines.chosen(os.environ.get("BENCH_ENGINES", ",".join(engines.ENGINES)))
    for size in sizes if parts & {"download", "load", "build", "engines"} else []:
        product = ensure_product(RESULTS / "products", size, log=console.print)
        console.rule(
            f"[bold]{size} MB target: {product.bytes / MB:.1f} MB, {product.files} files, "
            f"{product.educators} educators"
        )
        r: dict[str, Any] = {
            "target_mb": size,
            "bytes": product.bytes,
            "files": product.files,
            "educators": product.educators,
        }
        if "download" in parts:
            r["download"] = bench_download(product, _fresh(work), timeout, repeat)
            console.print(f"download: {json.dumps(r['download'], default=str)}")
        if "load" in parts:
            r["load"] = bench_load(product, _fresh(work), timeout, repeat)
            console.print(f"load: {json.dumps(r['load'], default=str)}")
        if "build" in parts:
            reference = functools.partial(bare_reference, product, work, timeout)
            r["build"] = bench_build(product, _fresh(work), timeout, again=True, reference=reference)
            add_build_ratio(r, product, _fresh(work), timeout)
            console.print(f"build: {json.dumps({k: v for k, v in r['build'].items() if k != 'figures'})}")
        if "engines" in parts:
            r["engines"] = engines.bench_engines(product, _fresh(work), timeout, engine_names, bench_build)
            if "build" not in parts:  # DuckDB's build is the build part's too: its row and bare-load ratio
                r["build"] = r["engines"]["duckdb"]
                add_build_ratio(r, product, _fresh(work), timeout)
            for name, row in r["engines"].items():
                shown = {k: v for k, v in row.items() if k not in ("figures", "stages")}
                console.print(f"engine {name}: {json.dumps(shown, default=str)}")
        results.append(r)
    shutil.rmtree(work, ignore_errors=True)
    meta["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    meta["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    md_path, json_path = write_report(results, meta, sample)
    console.print(f"results: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
