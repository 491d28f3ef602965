"""Great Expectations' Data Docs, styled with no network: the CDN files they load, shipped with the project.

GX 1.24's page templates load bootstrap, jQuery, popper, bootstrap-table (its index table is built by
JavaScript), bootstrap-datepicker, font-awesome and a dark theme from public CDNs, and its logo from a
public bucket; offline the pages render unstyled and the index table stays empty. The same files (same
versions; the two that GX pins with a sha384 match it byte for byte) are vendored in `expectations/static/`
(see its README), and `localize_data_docs` points every page at them. Vega (3 scripts, ~1 MB) is only
used by charts that none of our expectations draws, so its script tags are removed from pages without a
chart instead of vendoring it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

STATIC = Path(__file__).parent / "static"
VENDOR = "static/vendor"  # where the assets go inside the Data Docs site

# file under expectations/static/ <- the CDN address GX's templates load it from. The CDN serves the dark
# theme unminified; the package's minified file holds the same rules.
_TABLE = """
bootstrap-4.3.1/bootstrap.min.css                              https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css
bootstrap-4.3.1/bootstrap.min.js                               https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js
jquery-3.7.1/jquery.min.js                                     https://code.jquery.com/jquery-3.7.1.min.js
popper.js-1.12.9/popper.min.js                                 https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js
bootstrap-table-1.19.1/bootstrap-table.min.css                 https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css
bootstrap-table-1.19.1/bootstrap-table.min.js                  https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js
bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js   https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js
bootstrap-table-1.19.0/bootstrap-table-filter-control.css      https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css
bootstrap-table-1.19.0/bootstrap-table-filter-control.min.css  https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css
bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css        https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css
bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js         https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js
fontawesome-free-6.6.0/css/all.min.css                         https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css
bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css            https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css
"""
ASSETS = {url: local for local, url in (line.split() for line in _TABLE.strip().splitlines())}
# GX's logo (and, in the dark theme's inline style, its dark variant): the site ships logo-long.png itself
_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/[\w.-]+\.png(\?[^\"')\s]*)?"
)
# (both patterns start at a line start or with one blank, not `\s+`: a leading `\s+` is retried at every
# blank of a page, 0.6 s for a build's 8 MB of pages)
_VEGA = re.compile(r'(?m)^[ \t]*<script src="https://cdn\.jsdelivr\.net/npm/vega(-lite|-embed)?@\d+"></script>\n?')
# the SRI and CORS attributes GX puts on two CDN scripts: a page opened as a file (origin `null`) would
# refuse a local file requested in CORS mode
_SRI = re.compile(r'\s(integrity="sha384-[^"]*"|crossorigin="anonymous")')
# what only a page not localized yet holds (each substitution below removes its own)
_MARKERS = (
    *ASSETS,
    "great-expectations-web-assets",
    "npm/vega",
    'integrity="sha384-',
    'crossorigin="anonymous"',
)


def localize_page(page: str, to_site: str) -> str:
    """The page with every CDN address replaced by the vendored file (`to_site`: the relative way to the
    site root, "" or "../../"). Running it again changes nothing; a page already localized is returned
    as it is."""
    if not any(marker in page for marker in _MARKERS):
        return page
    for url, local in ASSETS.items():
        page = page.replace(url, f"{to_site}{VENDOR}/{local}")
    page = _LOGO.sub(f"{to_site}static/images/logo-long.png", page)
    if "vegaEmbed(" not in page:
        page = _VEGA.sub("", page)
    return _SRI.sub("", page)


def localize_data_docs(site_dir: Path) -> None:
    """Copy the vendored assets into a Data Docs site and point its pages at them (idempotent)."""
    site_dir = Path(site_dir)
    shutil.copytree(STATIC, site_dir / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    for html in site_dir.rglob("*.html"):
        if VENDOR in html.relative_to(site_dir).as_posix():
            continue
        to_site = os.path.relpath(site_dir, html.parent).replace(os.sep, "/")
        to_site = "" if to_site == "." else to_site + "/"
        text = html.read_text(encoding="utf-8")
        new = localize_page(text, to_site)
        if new != text:
            html.write_text(new, encoding="utf-8")
