"""`make bench`: download, load, build and growth benchmarks on generated products of growing size.

Environment:
- BENCH_SIZES_MB (default `250,500,1000`): target product sizes in MB (10^6 bytes);
- BENCH_PARTS (default `download,load,build`): which measurements to run;
- BENCH_TIMEOUT (default 3600): seconds before one measured child process is killed;
- BENCH_REPEAT (default 3): runs of each download and load measurement (alternating which side goes
  first; the median is reported, every sample is kept in the JSON). The build runs once per size.

Aims (from the project brief): download >= 0.7 x OpenSSH `sftp`, raw load <= 1.3 x a bare DuckDB
`read_csv`, whole build of the 1 GB product < 5 min on 2 cores, peak memory < 4 GB, and time growing no
faster than size^1.1.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .measure import PROJECT_ROOT, Measured, run_child, run_measured
from .products import Product, ensure_product, tree_size

RESULTS = PROJECT_ROOT / "bench" / "results"
MB = 1e6
AIM_DOWNLOAD_RATIO = 0.7
AIM_LOAD_RATIO = 1.3
AIM_BUILD_SECONDS_1GB = 300.0
AIM_PEAK_BYTES = 4 * 2**30
AIM_EXPONENT = 1.1

console = Console(width=200)  # the table is wide; logs are not terminals


def _sshd_module():
    """tests/_sshd.py (the test suite's real-OpenSSH fixture): one sshd starter for tests and bench."""
    spec = importlib.util.spec_from_file_location("_sshd", PROJECT_ROOT / "tests" / "_sshd.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_sshd"] = mod
    spec.loader.exec_module(mod)
    return mod


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SFTP_", "EDFI_"))}
    for k in ("DATA_PRODUCT", "WAREHOUSE", "LANDING_DIR"):
        env.pop(k, None)
    env["DBT_PROFILES_DIR"] = str(PROJECT_ROOT)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    # The bench's own dbt target (partial parse kept between sizes, as in production) and logs, so that it
    # neither disturbs nor is disturbed by dbt runs of the tests or of a developer.
    env["DBT_TARGET_PATH"] = str(RESULTS / "dbt-target")
    env["DBT_LOG_PATH"] = str(RESULTS / "dbt-logs")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


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
    sshd = _sshd_module()
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
def bench_load(product: Product, work: Path, timeout: float, repeat: int) -> dict[str, Any]:
    """Bare DuckDB and the raw layer `repeat` times each, alternating; the median run of each."""
    samples: dict[str, list[dict[str, Any]]] = {"bare_load": [], "load": []}
    _warm(product.path)
    for i in range(repeat):
        tasks = ("bare_load", "load") if i % 2 == 0 else ("load", "bare_load")
        for task in tasks:
            wh_dir = _fresh(work / f"wh-{task}")
            args = {"product": str(product.path), "warehouse": str(wh_dir / "w.duckdb")}
            m = run_child(task, args, _base_env(), work, timeout)
            row: dict[str, Any] = {"ok": m.ok, "seconds": m.seconds, "peak_bytes": m.peak_bytes}
            row.update({k: m.child[k] for k in ("rows_landed", "rows_rejected", "files") if k in m.child})
            if not m.ok:
                row["error"] = m.child.get("error", m.stderr_tail[-400:])
            samples[task].append(row)
            shutil.rmtree(wh_dir, ignore_errors=True)
    out: dict[str, Any] = {task: _median(rows) for task, rows in samples.items()}
    if out["load"]["ok"] and out["bare_load"]["ok"]:
        out["ratio"] = out["load"]["seconds"] / out["bare_load"]["seconds"]
    return out


# ---------------------------------------------------------------- build
def bench_build(product: Product, work: Path, timeout: float) -> dict[str, Any]:
    from extract import config as cfg

    run_dir = _fresh(work / "build")
    env = _base_env() | {
        "DATA_PRODUCT": str(product.path),
        "WAREHOUSE": str(run_dir / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(run_dir / "output"),
        "LANDING_DIR": str(run_dir / "landing"),
        "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
        "EDFI_SCHOOL_YEARS": ",".join(str(y) for y in cfg.SAMPLE_SCHOOL_YEARS),
    }
    m = run_child("build", {}, env, work, timeout)
    row: dict[str, Any] = {
        "ok": m.ok,
        "seconds": m.seconds,
        "wall_seconds": m.wall_seconds,
        "peak_bytes": m.peak_bytes,
        "stages": m.child.get("stages", {}),
        "figures": m.child.get("figures", {}),
    }
    if not m.ok:
        row["error"] = m.child.get("error", m.stderr_tail[-400:])
    wh = run_dir / "warehouse" / "edreflect.duckdb"
    row["warehouse_bytes"] = wh.stat().st_size if wh.exists() else None
    shutil.rmtree(run_dir, ignore_errors=True)
    return row


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


def failures(r: dict[str, Any]) -> list[str]:
    """`part/side: error` for every measurement of one size that did not succeed."""
    out = [f"build: {r['build'].get('error')}" for _ in [0] if r.get("build") and not r["build"].get("ok")]
    for part in ("download", "load"):
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
        "build s",
        "build peak MB",
        "status",
    ]
    body = []
    for r in results:
        dl, ld, b = r.get("download", {}), r.get("load", {}), r.get("build", {})
        st = b.get("stages", {})
        errors = failures(r)
        body.append(
            [
                _f(r["bytes"] / MB),
                str(r["files"]),
                _f(dl.get("extractor", {}).get("mb_s")),
                _f(dl.get("openssh", {}).get("mb_s")),
                _f(dl.get("ratio"), "{:.2f}"),
                _f(ld.get("load", {}).get("seconds") if ld.get("load", {}).get("ok") else None, "{:.2f}"),
                _f(
                    ld.get("bare_load", {}).get("seconds") if ld.get("bare_load", {}).get("ok") else None,
                    "{:.2f}",
                ),
                _f(ld.get("ratio"), "{:.2f}"),
                _f(_stage(st, "fetch")),
                _f(_stage(st, "load raw")),
                _f(_stage(st, "validate")),
                _f(_stage(st, "dbt build")),
                _f(_stage(st, "render Ed-Fi", "publish Ed-Fi")),
                _f(b.get("seconds") if b.get("ok") else None),
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
            if r["target_mb"] >= 1000:
                out.append(
                    f"{mb:.0f} MB whole build {b['seconds']:.0f} s (aim < {AIM_BUILD_SECONDS_1GB:.0f} s): "
                    f"{'met' if b['seconds'] < AIM_BUILD_SECONDS_1GB else 'NOT met'}"
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


def write_report(results: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[Path, Path]:
    exps = growth(results)
    head, body = rows_for_table(results)
    verdict_lines = verdicts(results, exps)
    table = Table(title="edreflect-edfi benchmark")
    for h in head:
        table.add_column(h, justify="right" if h != "status" else "left")
    for row in body:
        table.add_row(*row)
    console.print(table)
    for k, v in exps.items():
        console.print(f"growth exponent {k}: {_f(v, '{:.2f}')}")
    for line in verdict_lines:
        console.print(f"- {line}")
    for r in results:
        for e in failures(r):
            console.print(f"[red]{r['bytes'] / MB:.0f} MB {e}")

    stamp = meta["started"].replace(":", "").replace("-", "")[:15]
    md = [
        "# edreflect-edfi benchmark",
        "",
        f"started {meta['started']}, finished {meta['finished']}",
        f"machine: {json.dumps(meta['machine'])}, load average at the end: {meta.get('loadavg_1m_at_end')}",
        f"download and load: median of {meta.get('repeat', 1)} runs each (every sample is in the JSON); "
        "build: one run per size",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    md += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in body]
    md += ["", "Growth exponents (log-log least squares of the value against product bytes):", ""]
    md += [f"- {k}: {_f(v, '{:.2f}')}" for k, v in exps.items()]
    md += ["", "Aims:", ""] + [f"- {line}" for line in verdict_lines]
    md += ["", "Failures:", ""]
    md += [f"- {r['bytes'] / MB:.0f} MB {e}" for r in results for e in failures(r)] or ["- none"]
    md += ["", "Stage times of each build (s):", ""]
    for r in results:
        st = r.get("build", {}).get("stages", {})
        if st:
            md.append(f"- {r['bytes'] / MB:.0f} MB: " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    md_text = "\n".join(md) + "\n"
    payload = {"meta": meta, "results": results, "growth_exponents": exps, "aims": verdict_lines}
    md_path, json_path = RESULTS / f"bench-{stamp}.md", RESULTS / f"bench-{stamp}.json"
    md_path.write_text(md_text)
    json_path.write_text(json.dumps(payload, indent=2, default=str))
    (RESULTS / "latest.md").write_text(md_text)
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2, default=str))
    return md_path, json_path


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES_MB", "250,500,1000").split(",") if s.strip()]
    parts = {p.strip() for p in os.environ.get("BENCH_PARTS", "download,load,build").split(",") if p.strip()}
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
    for size in sizes:
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
            r["build"] = bench_build(product, _fresh(work), timeout)
            console.print(f"build: {json.dumps({k: v for k, v in r['build'].items() if k != 'figures'})}")
        results.append(r)
    shutil.rmtree(work, ignore_errors=True)
    meta["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    meta["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    md_path, json_path = write_report(results, meta)
    console.print(f"results: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
