"""Both documentation sites, opened in a real headless Chromium over http on 127.0.0.1.

What a person would see: the dbt site shows each mart with the columns its YAML documents; the site's
index links the latest validation of each layer, and each of those Data Docs pages shows that layer's
suite, its status and its expectations. Screenshots are kept in `results/docs_browser/` (git-ignored).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import dump_dom, screenshot
from _gx_warehouse import built_example

from expectations import validate_layer
from expectations.marts import mart_models
from extract.contract import PROJECT_ROOT
from extract.docs import build_docs, make_server

pytestmark = pytest.mark.slow

LAYERS = ("raw", "staging", "marts", "export")
MARTS_SHOWN = ("dim_rubric_indicators", "fct_observations", "dim_users")
# kept after the run (git-ignored), for a person to look at what the browser saw
SCREENSHOTS = PROJECT_ROOT / "results" / "docs_browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    settings = built_example(tmp_path_factory.getbasetemp() / "gx_example")
    root = tmp_path_factory.mktemp("docs")
    gx_dir = root / "gx"
    run_ids = {}
    for layer in LAYERS:
        validate_layer(layer, settings, gx_dir=gx_dir)  # an older run: the index must not link it
        report = validate_layer(layer, settings, gx_dir=gx_dir)
        assert report.errors == 0, report.text()
        run_ids[layer] = report.run_id
    folder = build_docs(settings, site_dir=root / "site", gx_dir=gx_dir, target_path=root / "dbt_target")
    server = make_server(folder)
    thread = threading.Thread(target=server.serve_forever, name="docs-http", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        yield f"http://127.0.0.1:{port}", run_ids, SCREENSHOTS
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _text(dom: str) -> str:
    """The page's text as a person reads it (tags, scripts and styles removed, whitespace collapsed)."""
    body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", dom)
    return " ".join(re.sub(r"(?s)<[^>]+>", " ", body).split())


def test_dbt_site_shows_marts_and_their_columns(site: tuple[str, dict[str, str], Path]) -> None:
    base, _, shots = site
    documented = {m.name: m for m in mart_models()}
    for name in MARTS_SHOWN:
        url = f"{base}/dbt/index.html#!/model/model.edreflect_edfi.{name}"
        text = _text(dump_dom(url, budget_ms=10000))
        assert f"{name} table" in text, f"{name}: the model page did not render"
        assert "Columns" in text
        columns = _yaml_columns(documented[name].yaml_file, name)
        shown = [c for c in columns if re.search(rf"\b{re.escape(c)}\b", text)]
        assert shown == columns, f"{name}: columns missing from the page: {sorted(set(columns) - set(shown))}"
    png = screenshot(
        f"{base}/dbt/index.html#!/model/model.edreflect_edfi.{MARTS_SHOWN[0]}",
        shots / "dbt.png",
        budget_ms=10000,
    )
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one


def _yaml_columns(yaml_file: str, model: str) -> list[str]:
    import yaml

    doc = yaml.safe_load((PROJECT_ROOT / yaml_file).read_text(encoding="utf-8"))
    [entry] = [m for m in doc["models"] if m["name"] == model]
    return [c["name"] for c in entry["columns"]]


def test_data_docs_show_latest_validation_of_each_layer(site: tuple[str, dict[str, str], Path]) -> None:
    base, run_ids, shots = site
    index = dump_dom(f"{base}/index.html", budget_ms=3000)
    found = re.findall(r'<a href="(data_docs/validations/([a-z]+)/[^"]+)"', index)
    links = {layer: href for href, layer in found}
    assert sorted(links) == sorted(LAYERS), links
    assert "FAILED" not in _text(index) and _text(index).count("passed") == 4
    for layer in LAYERS:
        href = links[layer]
        assert f"/{run_ids[layer]}/" in href, (
            f"{layer}: the index links {href}, not the latest run {run_ids[layer]}"
        )
        text = _text(dump_dom(f"{base}/{href.replace(' ', '%20')}", budget_ms=3000))
        assert "Expectation Validation Result" in text
        assert f"Expectation Suite: {layer}" in text
        assert "Status: Succeeded" in text, text[:500]
        assert run_ids[layer] in text  # the run name shown on the page
    raw_text = _text(dump_dom(f"{base}/{links['raw']}", budget_ms=3000))
    for description in ("`_id` is unique in the table", "row count agrees with raw._loads"):
        assert description in raw_text
    export_text = _text(dump_dom(f"{base}/{links['export']}", budget_ms=3000))
    assert "cohortIdentifier is 1-20 characters" in export_text
    png = screenshot(f"{base}/{links['raw']}", shots / "data_docs_raw.png")
    assert png.stat().st_size > 20_000
    screenshot(f"{base}/index.html", shots / "index.png")
