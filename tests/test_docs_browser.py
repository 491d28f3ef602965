"""Both documentation sites, opened in a real headless Chromium over http on 127.0.0.1.

What a person would see: the dbt site shows each mart with the columns its YAML documents; the site's
index links the latest validation of each layer, and each of those Data Docs pages shows that layer's
suite, its status and its expectations, styled, with no request leaving 127.0.0.1 (GX's CDN files are
vendored: expectations/static/); GX's own index table (built by JavaScript) lists every validation.
Screenshots are kept in `results/docs_browser/` (git-ignored).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import Browser, Page
from _example_build import built_example

from expectations import validate_layer
from expectations.datadocs_assets import localize_data_docs
from extract.contract import PROJECT_ROOT
from pipeline.docs import build_docs, make_server

pytestmark = pytest.mark.slow

LAYERS = ("raw", "staging", "marts", "export")
MARTS_SHOWN = ("dim_rubric_indicators", "fct_observations", "dim_users")
Site = tuple[str, dict[str, str], Path, Path]  # base url, run id per layer, screenshots, site folder
# kept after the run (git-ignored), for a person to look at what the browser saw
SCREENSHOTS = PROJECT_ROOT / "results" / "docs_browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = built_example(tmp_path_factory, "docs")
    root = tmp_path_factory.mktemp("docs")
    gx_dir = root / "gx"
    run_ids = {}
    for layer in LAYERS:
        validate_layer(layer, settings, gx_dir=gx_dir)  # an older run: the index must not link it
        report = validate_layer(layer, settings, gx_dir=gx_dir)
        assert report.errors == 0, report.text()
        run_ids[layer] = report.run_id
    folder = build_docs(settings, site_dir=root / "site", gx_dir=gx_dir)  # dbt: the warehouse's target
    server = make_server(folder)
    thread = threading.Thread(target=server.serve_forever, name="docs-http", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        yield f"http://127.0.0.1:{port}", run_ids, SCREENSHOTS, folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_dbt_site_shows_marts_and_their_columns(site: Site, browser: Browser) -> None:
    base, _, shots, _ = site
    documented = _documented_marts()
    for name in MARTS_SHOWN:
        page = browser.open(f"{base}/dbt/index.html#!/model/model.edreflect_edfi.{name}")
        _offline(base, page)
        page.wait_for(
            f"document.body.innerText.includes('{name}') && document.body.innerText.includes('Columns')"
        )
        text = " ".join(page.evaluate("document.body.innerText").split())
        assert f"{name} table" in text, f"{name}: the model page did not render"
        columns = _yaml_columns(documented[name], name)
        shown = [c for c in columns if re.search(rf"\b{re.escape(c)}\b", text)]
        assert shown == columns, f"{name}: columns missing from the page: {sorted(set(columns) - set(shown))}"
        if name == MARTS_SHOWN[0]:
            png = page.screenshot(shots / "dbt.png")
            assert png.stat().st_size > 20_000  # a rendered page, not a blank one


def _documented_marts() -> dict[str, str]:
    """Each mart and the YAML file that documents it."""
    import yaml

    found = {}
    for path in sorted((PROJECT_ROOT / "models" / "marts").glob("*/_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            found[model["name"]] = str(path.relative_to(PROJECT_ROOT))
    return found


def _yaml_columns(yaml_file: str, model: str) -> list[str]:
    import yaml

    doc = yaml.safe_load((PROJECT_ROOT / yaml_file).read_text(encoding="utf-8"))
    [entry] = [m for m in doc["models"] if m["name"] == model]
    return [c["name"] for c in entry["columns"]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def _offline(base: str, page: Page) -> None:
    """Every request of the page went to the docs server on 127.0.0.1 (or is inline data)."""
    outside = [u for u in page.requests if not (u.startswith(base + "/") or u.startswith("data:"))]
    assert not outside, f"{page.url} requested, beside 127.0.0.1: {outside}"


def _styled(page: Page) -> None:
    """Bootstrap's stylesheet applies (navbar and table rules) and font-awesome's solid font loaded."""
    styles = page.evaluate(
        """({navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
            table: getComputedStyle(document.querySelector('table.table') || document.body).borderCollapse,
            icons: document.fonts.check('900 16px "Font Awesome 6 Free"')})"""
    )
    assert styles == {"navbar": "flex", "table": "collapse", "icons": True}, (page.url, styles)


def test_data_docs_show_latest_validation_of_each_layer(site: Site, browser: Browser) -> None:
    """The site's index links each layer's latest validation; each page is styled with no network."""
    base, run_ids, shots, _ = site
    index = browser.open(f"{base}/index.html")
    found = re.findall(
        r'<a href="(data_docs/validations/([a-z]+)/[^"]+)"', index.evaluate("document.body.innerHTML")
    )
    links = {layer: href for href, layer in found}
    assert sorted(links) == sorted(LAYERS), links
    text = index.evaluate("document.body.innerText")
    assert "FAILED" not in text and text.count("passed") == 4
    texts = {}
    for layer in LAYERS:
        href = links[layer]
        assert f"/{run_ids[layer]}/" in href, (
            f"{layer}: the index links {href}, not the latest run {run_ids[layer]}"
        )
        page = browser.open(f"{base}/{href.replace(' ', '%20')}")
        _offline(base, page)
        _styled(page)
        texts[layer] = text = " ".join(page.evaluate("document.body.innerText").split())
        assert "Expectation Validation Result" in text
        assert f"Expectation Suite: {layer}" in text
        assert "Status: Succeeded" in text, text[:500]
        assert run_ids[layer] in text  # the run name shown on the page
        if layer == "raw":
            png = page.screenshot(shots / "data_docs_raw.png")
            assert png.stat().st_size > 20_000
    for description in ("`_id` identifies one row", "row count agrees with raw._loads"):
        assert description in texts["raw"]
    assert "cohortIdentifier is 1-20 characters" in texts["export"]
    index.screenshot(shots / "index.png")


def test_data_docs_index_table_lists_every_validation_offline(site: Site, browser: Browser) -> None:
    """GX's own index builds its table with bootstrap-table (JavaScript): offline it lists every run."""
    base, run_ids, shots, _ = site
    page = browser.open(f"{base}/data_docs/index.html")
    _offline(base, page)
    _styled(page)
    rows = page.evaluate(
        """[...document.querySelectorAll('#section-1-content-block-2-1-body-table tbody tr')]
            .map(tr => tr.getAttribute('data-href') + ' ' + tr.innerText)"""
    )
    assert len(rows) == 2 * len(LAYERS), rows  # two validations of each layer, newest first
    for layer in LAYERS:
        assert any(f"validations/{layer}/{run_ids[layer]}/" in r for r in rows), (layer, rows)
    suites = page.evaluate(  # the suites tab is hidden until clicked: textContent, not innerText
        """[...document.querySelectorAll('#section-1-content-block-2-2-body-table tbody tr')]
            .map(tr => tr.textContent)"""
    )
    assert sorted(s.strip() for s in suites) == sorted(LAYERS), suites
    suite_page = browser.open(f"{base}/data_docs/expectations/raw.html")
    _offline(base, suite_page)
    _styled(suite_page)
    png = page.screenshot(shots / "data_docs_index.png")
    assert png.stat().st_size > 20_000


def test_data_docs_name_no_cdn_and_localizing_again_changes_nothing(site: Site) -> None:
    """No page loads anything by an absolute address (links to GX's site stay links), and a second
    `localize_data_docs` (the runner calls it after every validation) leaves the pages as they are."""
    folder = site[3] / "data_docs"
    pages = {p: p.read_text(encoding="utf-8") for p in folder.rglob("*.html") if "static" not in p.parts}
    assert len(pages) >= 2 * len(LAYERS) + len(LAYERS) + 1  # validations, suites, index
    loads = re.compile(
        r"""<(?:script|img|link)\b[^>]*\b(?:src|href)="(https?:[^"]*)"|url\(['"]?(https?:[^)'"]*)"""
    )
    for page, text in pages.items():
        assert not loads.findall(text), (page, loads.findall(text)[:3])
    localize_data_docs(folder)
    assert {p: p.read_text(encoding="utf-8") for p in pages} == pages
