"""Helpers of the Ed-Fi export tests: tiny hand-written products, dbt runs, reading the output.

A test product is the contract's example product with `groups.csv`, `users.csv` and `users.groups.csv`
replaced by the rows a test needs (only those three tables feed the edfi models). Ids are written as short
labels (`g01`, `u1`) and turned into valid ObjectIds here so the staging checks accept them.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from edfi.render import EdfiExport, render
from extract.load import load_product
from pipeline.config import Settings
from pipeline.dbt import run_dbt
from pipeline.warehouse import workspace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PRODUCT = PROJECT_ROOT / "tests" / "fixtures" / "example_product"
SHARED_EDFI = PROJECT_ROOT.parent / "shared" / "edfi"
DISTRICT = 3100042
ORG = "66d0c3a0e1d2f3a4b5000001"
TS = "2024-08-19T14:55:31.004Z"

GROUP_COLUMNS = [
    "_id",
    "orgId",
    "subOrgId",
    "name",
    "description",
    "type",
    "category",
    "schoolYear",
    "createdAt",
    "updatedAt",
    "deleted",
    "deletedAt",
]
USER_COLUMNS = [
    "_id",
    "orgId",
    "email",
    "name.first",
    "name.last",
    "employeeId",
    "stateStaffId",
    "title",
    "hireDate",
    "active",
    "lastLoginAt",
    "createdAt",
    "updatedAt",
    "deleted",
    "deletedAt",
]
MEMBER_COLUMNS = ["_rootId", "_parentId", "_index", "groupId", "role", "addedAt"]


def oid(label: str) -> str:
    """A stable 24-hex ObjectId for a short label (`g01` -> 00000000000000000067303031 style)."""
    return label.encode().hex().rjust(24, "0")[-24:]


def group(
    label: str,
    name: str,
    *,
    description: str | None = "d",
    type: str = "learner",
    category: str | None = "School",
    school_year: int = 2025,
    deleted: bool = False,
) -> dict[str, str]:
    return {
        "_id": oid(label),
        "orgId": ORG,
        "subOrgId": "",
        "name": name,
        "description": description or "",
        "type": type,
        "category": category or "",
        "schoolYear": str(school_year),
        "createdAt": TS,
        "updatedAt": TS,
        "deleted": "true" if deleted else "false",
        "deletedAt": TS if deleted else "",
    }


def user(label: str, staff_id: str | None, *, deleted: bool = False) -> dict[str, str]:
    return {
        "_id": oid(label),
        "orgId": ORG,
        "email": f"{label}@example.org",
        "name.first": label.upper(),
        "name.last": "Test",
        "employeeId": "",
        "stateStaffId": staff_id or "",
        "title": "",
        "hireDate": "",
        "active": "true",
        "lastLoginAt": "",
        "createdAt": TS,
        "updatedAt": TS,
        "deleted": "true" if deleted else "false",
        "deletedAt": TS if deleted else "",
    }


def memberships(rows: list[tuple[str, str, str, str | None]]) -> list[dict[str, str]]:
    """(user label, group label, role, addedAt) -> users.groups rows with per-user array indexes."""
    out, index = [], {}
    for user_label, group_label, role, added_at in rows:
        i = index.get(user_label, 0)
        index[user_label] = i + 1
        out.append(
            {
                "_rootId": oid(user_label),
                "_parentId": oid(user_label),
                "_index": str(i),
                "groupId": oid(group_label),
                "role": role,
                "addedAt": added_at or "",
            }
        )
    return out


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_product(
    dest: Path, groups: list[dict[str, str]], users: list[dict[str, str]], members: list[dict[str, str]]
) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(EXAMPLE_PRODUCT, dest)
    _write_csv(dest / "groups" / "groups.csv", GROUP_COLUMNS, groups)
    _write_csv(dest / "users" / "users.csv", USER_COLUMNS, users)
    _write_csv(dest / "users" / "users.groups.csv", MEMBER_COLUMNS, members)
    return dest


def settings_for(
    tmp: Path, *, years: tuple[int, ...] = (2024, 2025), max_length: int = 20, district: int | None = DISTRICT
) -> Settings:
    return Settings(
        data_product=str(tmp / "product"),
        warehouse=tmp / "warehouse.duckdb",
        edfi_output=tmp / "out" / "edfi",
        landing=tmp / "landing",
        district_id=district,
        school_years=years,
        cohort_identifier_max_length=max_length,
    )


def write_xwalks(
    settings: Settings,
    overrides: list[tuple[str, str, str | None]] = (),
    scopes: list[tuple[str, str]] | None = None,
) -> None:
    """Create the crosswalk seed tables as a district would edit them (the build then excludes the seeds)."""
    types = [("group_type", "learner", "Other"), ("group_type", "observer", "Other")]
    types += [("group_type", "report", None)]
    types += [(kind, oid(v) if kind == "group_id" else v, code) for kind, v, code in overrides]
    if scopes is None:
        with open(PROJECT_ROOT / "seeds" / "xwalk_cohort_scopes.csv", encoding="utf-8") as fh:
            scopes = [(r["category"], r["cohort_scope_code"]) for r in csv.DictReader(fh)]
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema if not exists seeds")
        con.execute(
            "create or replace table seeds.xwalk_cohort_types "
            "(match_type varchar, match_value varchar, cohort_type_code varchar)"
        )
        con.executemany("insert into seeds.xwalk_cohort_types values (?, ?, ?)", types)
        con.execute(
            "create or replace table seeds.xwalk_cohort_scopes (category varchar, cohort_scope_code varchar)"
        )
        con.executemany("insert into seeds.xwalk_cohort_scopes values (?, ?)", scopes)
    finally:
        con.close()


def dbt_args(tmp: Path, command: str, *select: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """dbt arguments with a private target/log folder (other processes may run dbt in the project)."""
    return [
        command,
        "--select",
        *(select or ("+path:models/edfi",)),
        "--indirect-selection",
        "buildable",
        # The staging layer's own checks are its tests' business; here they would only cost time.
        "--exclude",
        "resource_type:test,path:models/staging",
        *exclude,
        "--target-path",
        str(tmp / "dbt_target"),
        "--log-path",
        str(tmp / "dbt_logs"),
    ]


def land_and_build(tmp: Path, settings: Settings, *, custom_xwalks: bool = False) -> None:
    """Load the product into raw and build the edfi models (and what they depend on) with real dbt."""
    load_product(Path(settings.data_product), settings.warehouse)
    exclude = ("xwalk_cohort_types", "xwalk_cohort_scopes") if custom_xwalks else ()
    run_dbt(dbt_args(tmp, "build", exclude=exclude), settings, quiet=True)


def rebuild_models(tmp: Path, settings: Settings) -> None:
    """Rebuild only the edfi models (new vars, same inputs): `dbt run`, the cheapest invocation."""
    run_dbt(dbt_args(tmp, "run", "path:models/edfi"), settings, quiet=True)


def rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(settings.warehouse))
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes (to compare outputs byte for byte)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def state(settings: Settings) -> dict[str, list[tuple]]:
    """The delivery state: what the API accepted and what the last build wants (without timestamps)."""
    con = duckdb.connect(str(settings.warehouse))
    try:
        return {
            "accepted": con.execute(
                "select * exclude (accepted_at) from edfi_state.accepted order by all"
            ).fetchall(),
            "desired": con.execute("select * from edfi_state.desired order by all").fetchall(),
        }
    finally:
        con.close()


def publish_render(settings: Settings, load_id: str) -> EdfiExport:
    """Render the Ed-Fi export in a copy of the warehouse and publish it, as a build's last step does."""
    with workspace(settings.warehouse, copy_all=True, output=settings.edfi_output) as ws:
        export = render(replace(settings, warehouse=ws.work), load_id)
        ws.output_staging = export.staging_dir
        ws.publish()
    return export


def with_years(settings: Settings, years: tuple[int, ...]) -> Settings:
    return replace(settings, school_years=years)


def shared_schema(name: str, max_length: int = 20) -> dict[str, Any] | None:
    """The shared Ed-Fi schema (../shared/edfi), cohortIdentifier limit set to the run's (it says 20)."""
    path = SHARED_EDFI / f"{name}.schema.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    props = schema["properties"]
    if "cohortIdentifier" in props:
        props["cohortIdentifier"]["maxLength"] = max_length
    if "cohortReference" in props:
        props["cohortReference"]["properties"]["cohortIdentifier"]["maxLength"] = max_length
    return schema
