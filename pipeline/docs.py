"""One documentation site: the dbt docs (models, columns, lineage) and the GX Data Docs (validations).

`make docs` builds both under one folder (`target/site/`: `dbt/`, `data_docs/`, an index page linking
them) and serves it on 127.0.0.1. The dbt site is a single-page app that fetches manifest.json and
catalog.json, so it must be served over http, not opened as a file.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import shutil
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

from extract.contract import PROJECT_ROOT
from extract.warehouse import open_warehouse

from .config import Settings

DEFAULT_SITE = PROJECT_ROOT / "target" / "site"
DBT_FILES = ("index.html", "manifest.json", "catalog.json")


class DocsError(RuntimeError):
    pass


def _latest_runs(warehouse: Path) -> list[tuple]:
    """The latest validation of each layer, from quality.validation_runs (empty when never validated)."""
    if not warehouse.is_file():
        return []
    try:
        con = open_warehouse(warehouse)
    except duckdb.Error:
        return []
    try:
        return con.execute(
            """select layer, run_at, success, errors, warnings, total from quality.validation_runs
            qualify row_number() over (partition by layer order by run_at desc) = 1
            order by list_position(['raw', 'staging', 'marts', 'export'], layer)"""
        ).fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()


LAYERS = ("raw", "staging", "marts", "export")


def latest_validation_pages(data_docs: Path) -> dict[str, str]:
    """Per layer, the Data Docs page of its newest validation (path relative to the Data Docs folder).

    Pages live at `validations/<suite>/<run name>/<run time>/<batch>.html`; the suite is the layer.
    """
    out: dict[str, str] = {}
    for layer in LAYERS:
        pages = sorted(
            (data_docs / "validations" / layer).glob("*/*/*.html"), key=lambda p: (p.parent.name, p.name)
        )
        if pages:
            out[layer] = pages[-1].relative_to(data_docs).as_posix()
    return out


def _index_page(runs: list[tuple], pages: dict[str, str]) -> str:
    by_layer = {r[0]: r for r in runs}
    rows = []
    for layer in LAYERS:
        page = pages.get(layer)
        link = f'<a href="data_docs/{html.escape(page)}">{layer}: latest validation</a>' if page else layer
        if layer in by_layer:
            _, run_at, ok, errors, warnings, total = by_layer[layer]
            cells = f"<td>{run_at:%Y-%m-%d %H:%M:%S} UTC</td><td>{'passed' if ok else 'FAILED'}</td>"
            cells += f"<td>{errors}</td><td>{warnings}</td><td>{total}</td>"
        else:
            cells = "<td colspan=5>not validated yet</td>"
        rows.append(f"<tr><td>{link}</td>{cells}</tr>")
    table = (
        "<table><tr><th>layer</th><th>run at</th><th>status</th><th>errors</th><th>warnings</th>"
        "<th>checks</th></tr>\n" + "\n".join(rows) + "</table>"
        if runs or pages
        else "<p>No validation has run yet: run <code>make build</code>.</p>"
    )
    built = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edreflect-edfi documentation</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
td,th{{padding:.2em .8em;text-align:left}}</style>
</head><body>
<h1>edreflect-edfi documentation</h1>
<ul>
<li><a href="dbt/index.html">dbt docs</a>: every model (staging, intermediate, marts, Ed-Fi), its columns,
tests and lineage.</li>
<li><a href="data_docs/index.html">Data Docs</a>: the Great Expectations suites and every kept validation
of each layer (raw, staging, marts, export); the table below opens each layer's latest one.</li>
</ul>
<h2>Latest validation per layer</h2>
{table}
<p><small>Built {built}.</small></p>
</body></html>
"""


def build_docs(
    settings: Settings,
    *,
    site_dir: Path | None = None,
    gx_dir: Path | None = None,
    target_path: Path | None = None,
) -> Path:
    """Generate the dbt docs and the Data Docs and put them under one site folder; returns the folder."""
    from expectations.datadocs_assets import localize_data_docs
    from expectations.runner import data_docs_dir, get_context, gx_dir_default

    from .dbt import run_dbt, target_dir

    site = Path(site_dir or DEFAULT_SITE).resolve()
    # the warehouse's own dbt folder by default: its manifest is the one that built it, and its partial
    # parse is reused
    target = Path(target_path or target_dir(settings)).resolve()
    gx_root = Path(gx_dir or gx_dir_default()).resolve()
    if not Path(settings.warehouse).is_file():
        raise DocsError(f"the warehouse {settings.warehouse} does not exist: run `make build` first")
    # `docs generate` compiles every node unless told not to (minutes here); without compiling it writes no
    # manifest.json, so `parse` (the same settings: the partial parse is reused) writes it first.
    run_dbt(["parse", "--target-path", str(target)], settings, quiet=True)
    run_dbt(["docs", "generate", "--no-compile", "--target-path", str(target)], settings, quiet=True)
    missing = [f for f in DBT_FILES if not (target / f).is_file()]
    if missing:
        raise DocsError(f"dbt docs generate wrote no {', '.join(missing)} under {target}")
    get_context(gx_root).build_data_docs()  # re-render from the stored suites and validation results
    localize_data_docs(data_docs_dir(gx_root))  # styled with no network: the CDN files ship with us

    if site.exists():
        shutil.rmtree(site)
    (site / "dbt").mkdir(parents=True)
    for name in DBT_FILES:
        shutil.copy2(target / name, site / "dbt" / name)
    shutil.copytree(data_docs_dir(gx_root), site / "data_docs")
    pages = latest_validation_pages(site / "data_docs")
    (site / "index.html").write_text(
        _index_page(_latest_runs(Path(settings.warehouse)), pages), encoding="utf-8"
    )
    return site


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def make_server(site: Path, port: int = 0) -> ThreadingHTTPServer:
    """An http server for `site` on 127.0.0.1 (port 0 = any free port; see `server.server_address`)."""
    if not (Path(site) / "index.html").is_file():
        raise DocsError(f"{site} holds no index.html: build the docs first (`make docs`)")
    handler = functools.partial(_QuietHandler, directory=str(site))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve_docs(site: Path, port: int = 8080) -> None:
    """Serve the site on http://127.0.0.1:<port>/ until Ctrl-C."""
    server = make_server(site, port)
    host, real_port = server.server_address[:2]
    print(f"serving {site} on http://{host}:{real_port}/ (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
