"""Command line: `python -m extract <command>` (the Makefile targets call these)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import config as cfg


def _cmd_build(args: argparse.Namespace) -> None:
    import uuid

    from .pipeline import RunSummary, build

    t0 = time.perf_counter()
    summary = RunSummary(load_id=uuid.uuid4().hex)
    try:
        build(cfg.from_env(), summary)
    finally:
        if summary.stages:  # what ran before a failure is worth showing too
            summary.render()
    print(f"build succeeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def _cmd_extract(args: argparse.Namespace) -> None:
    import uuid

    from .lock import run_lock
    from .pipeline import RunSummary, effective_settings, extract_and_load

    settings = cfg.from_env()
    if settings.uses_sample:
        settings = effective_settings(settings)
    summary = RunSummary(load_id=uuid.uuid4().hex)
    with run_lock(settings.warehouse):
        extract_and_load(settings, summary)
    summary.render()


def _cmd_sample(args: argparse.Namespace) -> None:
    from .sample import generate

    out = Path(args.out) if args.out else cfg.SAMPLE_DIR
    generate(out, educators=args.educators, seed=args.seed)
    print(f"sample data product written to {out}", file=sys.stderr)


def _cmd_dbt(args: argparse.Namespace) -> None:
    from .dbt import run_dbt
    from .pipeline import effective_settings

    settings = cfg.from_env()
    if settings.uses_sample:
        settings = effective_settings(settings)
    run_dbt(args.dbt_args, settings)


def _cmd_docs(args: argparse.Namespace) -> None:
    from .docs import build_docs, serve_docs

    site = build_docs(cfg.from_env())
    print(f"documentation built under {site}", file=sys.stderr)
    if args.serve:
        serve_docs(site, port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edreflect-edfi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="the main job: extract, load, dbt, Ed-Fi export, validation").set_defaults(
        func=_cmd_build
    )
    sub.add_parser("extract", help="download (SFTP or folder) and land in raw").set_defaults(
        func=_cmd_extract
    )
    p = sub.add_parser("sample", help="write a generated sample data product")
    p.add_argument("--out", help="folder to write (default: the embedded sample's folder)")
    p.add_argument("--educators", type=int, default=cfg.SAMPLE_EDUCATORS)
    p.add_argument("--seed", type=int, default=cfg.SAMPLE_SEED)
    p.set_defaults(func=_cmd_sample)
    p = sub.add_parser("dbt", help="run dbt with this project's profile and vars")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_dbt)
    p = sub.add_parser("docs", help="build the dbt docs site and the Data Docs")
    p.add_argument("--serve", action="store_true")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=_cmd_docs)

    args = parser.parse_args(argv)
    from .config import ConfigError

    try:
        args.func(args)
    except (ConfigError, RuntimeError, OSError) as exc:  # every error of ours says what to fix
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
