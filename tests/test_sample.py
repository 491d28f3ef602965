"""The generated sample data product follows the contract: files, headers, formats, references, dialect.

Every check is driven by `extract.contract`, so a contract change is checked without editing this file.
The products are small (a dozen educators) so the module runs in a few seconds.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import sample_product as sample
from extract import contract
from extract.contract import Column

SEED = 424242
EDUCATORS = 12
CHUNK = 5  # the module's product is written in 3 chunks by 2 workers, like a GB-sized one

FORMATS = {
    "objectid": r"[0-9a-f]{24}",
    "integer": r"-?[0-9]+",
    "number": r"-?[0-9]+(\.[0-9]+)?",
    "boolean": r"true|false",
    "timestamp": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z",
    "date": r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
}
INDICATOR_TABLES = [
    "rubrics.indicators",
    "rubrics.indicators.indicators",
    "rubrics.indicators.indicators.indicators",
    "rubrics.indicators.indicators.indicators.indicators",
]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.csv"))


def _generate(out: Path, educators: int = EDUCATORS, seed: int = SEED) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sample, "CHUNK_EDUCATORS", CHUNK)
        sample.generate(out, educators=educators, seed=seed, workers=2)


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    _generate(out)
    return out


@pytest.fixture(scope="module")
def db(product: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Every table loaded as all-VARCHAR with an explicit dialect, the way the loader reads them."""
    con = duckdb.connect()
    for t in contract.tables():
        path = product / t.relative_path
        newline = "\\r\\n" if path.read_bytes().split(b"\n", 1)[0].endswith(b"\r") else "\\n"
        columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in t.column_names)
        con.execute(
            f"create table {_q(t.name)} as select * from read_csv('{path}', header=true, all_varchar=true, "
            f"delim=',', quote='\"', escape='\"', new_line='{newline}', auto_detect=false, "
            f"columns={{{columns}}})"
        )
    yield con
    con.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


# --------------------------------------------------------------------------------------------- files
def test_same_seed_and_size_give_byte_identical_files(product: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    _generate(again)
    assert _files(again) == _files(product)
    other = tmp_path / "other"
    _generate(other, seed=SEED + 1)
    assert _files(other) != _files(product)


def test_output_does_not_depend_on_the_number_of_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample, "CHUNK_EDUCATORS", 8)  # 3 chunks: forked workers, parts, concatenation
    sample.generate(tmp_path / "one", educators=20, seed=SEED, workers=1)
    sample.generate(tmp_path / "three", educators=20, seed=SEED, workers=3)
    assert _files(tmp_path / "three") == _files(tmp_path / "one")
    assert not (tmp_path / "three" / ".parts").exists()
    users = (tmp_path / "three/users/users.csv").read_bytes()
    assert users.startswith(b"\xef\xbb\xbf_id,") and users.count(b"\xef\xbb\xbf") == 1
    assert users.count(b"\n") == 21


def test_every_contract_table_is_a_file_with_exactly_the_contract_header(product: Path) -> None:
    written = {str(p.relative_to(product)) for p in product.rglob("*.csv")}
    assert written == {t.relative_path for t in contract.tables()}
    assert len(written) == 87
    for t in contract.tables():
        with open(product / t.relative_path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
            assert tuple(header) == t.column_names, t.name
            assert next(csv.reader(fh), None) is not None, f"{t.name} has no rows"


def test_dialect_cases_exist(product: Path) -> None:
    assert (product / "users/users.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    crlf = [
        t
        for t in contract.tables()
        if (product / t.relative_path).read_bytes().split(b"\n")[0].endswith(b"\r")
    ]
    assert crlf and len(crlf) < len(contract.tables())
    for t in crlf:  # every record of a CRLF file ends with CRLF
        raw = (product / t.relative_path).read_bytes()
        assert raw.endswith(b"\r\n"), t.name
    notes = (product / "observations/observations.activityMeetingNotes.content.csv").read_bytes()
    assert notes.split(b"\n", 1)[0].endswith(b"\r")
    # a quoted field holding a comma, a doubled quote and a line break, somewhere in the product
    tricky = [
        t
        for t in contract.tables()
        if re.search(rb'"[^"]*,[^"]*""[^"]*""[^"]*\n', (product / t.relative_path).read_bytes())
    ]
    assert tricky


def test_loads_into_duckdb_with_every_row(db: duckdb.DuckDBPyConnection, product: Path) -> None:
    for t in contract.tables():
        with open(product / t.relative_path, encoding="utf-8-sig", newline="") as fh:
            records = sum(1 for _ in csv.reader(fh)) - 1
        assert _scalar(db, f"select count(*) from {_q(t.name)}") == records, t.name


# --------------------------------------------------------------------------------------------- values
def test_values_have_their_type_format_and_required_values_are_present(db: duckdb.DuckDBPyConnection) -> None:
    for t in contract.tables():
        # one query per table: per column, the first offending value (or null when the column is clean)
        checks: list[tuple[str, str]] = []
        for c in t.columns:
            col = _q(c.name)
            if not c.nullable:
                checks.append((f"{c.name} is empty", f"min(case when {col} is null then '<empty>' end)"))
            pattern = FORMATS.get(c.type)
            if pattern:
                checks.append(
                    (
                        f"{c.name} is not a {c.type}",
                        f"min(case when not regexp_full_match({col}, {_lit(pattern)}) then {col} end)",
                    )
                )
            if c.type in ("date", "timestamp"):  # a real calendar value, in the years a product can hold
                sql_type = "date" if c.type == "date" else "timestamp"
                checks.append(
                    (
                        f"{c.name} is not a plausible {c.type}",
                        f"min(case when try_cast(replace({col}, 'Z', '') as {sql_type}) is null "
                        f"or left({col}, 4) not between '1990' and '2026' then {col} end)",
                    )
                )
            if c.enum_values:
                allowed = ", ".join(_lit(v) for v in c.enum_values)
                checks.append(
                    (
                        f"{c.name} is outside {c.enum_values}",
                        f"min(case when {col} not in ({allowed}) then {col} end)",
                    )
                )
        row = db.execute(f"select {', '.join(sql for _, sql in checks)} from {_q(t.name)}").fetchone()
        assert row is not None
        failures = [
            f"{t.name}.{what}: {value!r}" for (what, _), value in zip(checks, row, strict=True) if value
        ]
        assert not failures, failures


def test_top_level_documents_have_ordered_times_and_consistent_soft_deletes(
    db: duckdb.DuckDBPyConnection,
) -> None:
    for t in contract.tables():
        if not t.is_top_level:
            continue
        name = _q(t.name)
        assert _scalar(db, f"select count(*) from {name} where createdAt > updatedAt") == 0, t.name
        assert (
            _scalar(db, f"select count(*) from {name} where (deleted = 'true') <> (deletedAt is not null)")
            == 0
        ), t.name
        assert _scalar(db, f"select count(*) from {name} where deletedAt < createdAt") == 0, t.name


def test_nullable_columns_are_sometimes_empty_and_text_is_awkward(db: duckdb.DuckDBPyConnection) -> None:
    nullable = [(t, c) for t in contract.tables() for c in t.columns if c.nullable]
    with_nulls = sum(
        1 for t, c in nullable if _scalar(db, f"select count(*) from {_q(t.name)} where {_q(c.name)} is null")
    )
    assert with_nulls > 0.75 * len(nullable)  # a small sample cannot hit every case
    texts = " ".join(
        f"select {_q(c.name)} as v from {_q(t.name)} union all"
        for t in contract.tables()
        for c in t.columns
        if c.type == "text"
    ).removesuffix(" union all")
    assert _scalar(db, f"select count(*) from ({texts}) where v like '%,%'")
    assert _scalar(db, f"select count(*) from ({texts}) where v like '%\"%'")
    assert _scalar(db, f"select count(*) from ({texts}) where v like '%' || chr(10) || '%'")


def test_ids_are_unique_across_the_product_and_org_id_is_one_value(db: duckdb.DuckDBPyConnection) -> None:
    ids = " union all ".join(f"select _id from {_q(t.name)}" for t in contract.tables() if t.has_own_id)
    assert _scalar(db, f"select count(*) - count(distinct _id) from ({ids})") == 0
    orgs = " union ".join(
        f"select orgId from {_q(t.name)}" for t in contract.tables() if "orgId" in t.column_names
    )
    assert _scalar(db, f"select count(*) from ({orgs})") == 1


def test_every_reference_resolves(db: duckdb.DuckDBPyConnection) -> None:
    checked = 0
    for t in contract.tables():
        for c in t.columns:
            ref = c.reference
            if ref is None:
                continue
            targets = INDICATOR_TABLES if ref == "rubrics.indicators*" else [ref]
            ids = " union all ".join(f"select _id from {_q(x)}" for x in targets)
            missing = db.execute(
                f"select {_q(c.name)} from {_q(t.name)} where {_q(c.name)} is not null "
                f"and {_q(c.name)} not in ({ids}) limit 1"
            ).fetchall()
            assert not missing, f"{t.name}.{c.name} = {missing[0][0]} is not an _id of {ref}"
            checked += _scalar(db, f"select count({_q(c.name)}) from {_q(t.name)}")
        for c in ("subOrgId",):
            if c in t.column_names and t.name != "users.subOrgs":
                assert not db.execute(
                    f"select subOrgId from {_q(t.name)} where subOrgId is not null "
                    f'and subOrgId not in (select subOrgId from "users.subOrgs")'
                ).fetchall(), t.name
    assert checked > 1000


def test_linkage_columns_are_consistent(db: duckdb.DuckDBPyConnection) -> None:
    for t in contract.tables():
        if t.is_top_level:
            continue
        name, parent = _q(t.name), t.parent_name
        assert parent is not None
        root = _q(t.file_group)
        assert (
            _scalar(db, f"select count(*) from {name} where _rootId not in (select _id from {root})") == 0
        ), t.name
        if parent == t.file_group:
            assert _scalar(db, f"select count(*) from {name} where _parentId <> _rootId") == 0, t.name
        else:  # the parent item exists and belongs to the same document
            assert (
                _scalar(
                    db,
                    f"select count(*) from {name} c left join {_q(parent)} p on p._id = c._parentId "
                    f"where p._id is null or p._rootId <> c._rootId",
                )
                == 0
            ), t.name
        # (_parentId, _index) is the key, and indexes are 0..n-1 within each array
        group = "_parentId, indicatorIndex" if "indicatorIndex" in t.column_names else "_parentId"
        bad = db.execute(
            f"select {group} from {name} group by {group} "
            f"having count(*) <> count(distinct _index::int) or max(_index::int) + 1 <> count(*) limit 1"
        ).fetchall()
        assert not bad, f"{t.name}: _index is not 0..n-1 under {bad[0]}"


# --------------------------------------------------------------------------------------------- rubrics
def test_rubrics_reach_level_four_with_multi_line_descriptors(db: duckdb.DuckDBPyConnection) -> None:
    for level, table in enumerate(INDICATOR_TABLES, start=1):
        assert _scalar(db, f"select count(*) from {_q(table)}") > 0, f"no indicators at level {level}"
        if level > 1:
            descriptors = _q(f"{table}.proficiencyLevels")
            assert _scalar(
                db, f"select count(*) from {descriptors} where subitems like '%' || chr(10) || '%'"
            )
            # every descriptor's level belongs to the indicator's rubric
            assert (
                _scalar(
                    db,
                    f'select count(*) from {descriptors} d left join "rubrics.proficiencyLevels" p '
                    f"on p._id = d.proficiencyLevelId and p._rootId = d._rootId where p._id is null",
                )
                == 0
            )
    assert _scalar(db, "select count(*) from \"rubrics.indicators\" where isScored = 'true'") == 0


def test_checked_subitems_index_lines_of_the_chosen_level(db: duckdb.DuckDBPyConnection) -> None:
    descriptors = " union all ".join(
        f"select _parentId as indicator, proficiencyLevelId as level, "
        f"len(string_split(subitems, chr(10))) as lines from {_q(t + '.proficiencyLevels')}"
        for t in INDICATOR_TABLES[1:]
    )
    for table, parent in (
        (
            "observations.work.evaluations.indicators.proficiencyLevelSubitemIndex",
            "observations.work.evaluations.indicators",
        ),
        ("ratings.rubricRatings.indicators.proficiencyLevelSubitemIndex", "ratings.rubricRatings.indicators"),
    ):
        assert _scalar(db, f"select count(*) from {_q(table)}") > 0, table
        bad = _scalar(
            db,
            f"select count(*) from {_q(table)} s join {_q(parent)} i on i._id = s._parentId "
            f"left join ({descriptors}) d on d.indicator = i.indicatorId and d.level = i.proficiencyLevelId "
            f"where d.lines is null or s.value::int >= d.lines",
        )
        assert bad == 0, table


# --------------------------------------------------------------------------------------------- cohorts
def test_groups_and_users_carry_the_cases_the_ed_fi_export_handles(db: duckdb.DuckDBPyConnection) -> None:
    def count(where: str, table: str = "groups") -> object:
        return _scalar(db, f"select count(*) from {_q(table)} where {where}")

    assert count("deleted = 'true' and deletedAt is not null")
    assert count("deleted = 'true' and deletedAt is not null", "users")
    assert count("deleted = 'false' and deletedAt is null", "users")
    assert count("length(trim(name)) > 20")
    assert count("name <> trim(name)")
    assert count("description is null")
    for category in ("school", " District ", "PLC"):
        assert count(f"category = '{category}'"), category
    assert count("category is null")
    assert {r[0] for r in db.execute("select distinct type from groups").fetchall()} == {
        "learner",
        "observer",
        "report",
    }
    years = dict(db.execute("select schoolYear, count(*) from groups group by 1").fetchall())
    assert set(years) == {"2023", "2024", "2025"}
    assert years["2023"] < years["2025"]
    assert count("stateStaffId is null", "users")
    assert count("addedAt is null", "users.groups")
    assert count("role = 'observer'", "users.groups") and count("role = 'learner'", "users.groups")
    # names are unique per school year once trimmed, so Ed-Fi cohort identifiers do not collide by accident
    assert _scalar(db, "select count(*) - count(distinct (schoolYear, lower(trim(name)))) from groups") == 0


def test_optional_groups_and_level_files_are_all_present(product: Path) -> None:
    for group in contract.OPTIONAL_GROUPS:
        assert (product / group).is_dir()
    for name in contract.OPTIONAL_TABLES:
        assert (product / contract.table(name).relative_path).stat().st_size > 200


# --------------------------------------------------------------------------------------------- scale
def test_size_grows_about_linearly_with_educators(tmp_path: Path) -> None:
    sizes = {}
    for n in (20, 40, 80):
        sample.generate(tmp_path / str(n), educators=n, seed=SEED)
        sizes[n] = _size(tmp_path / str(n))
    first, second = sizes[40] - sizes[20], sizes[80] - sizes[40]
    assert first > 0
    assert 1.6 < second / first < 2.4, sizes


def test_educators_for_size_estimates_the_product_size(tmp_path: Path) -> None:
    """The benchmarks size their products with this estimate: it must follow the generator."""
    target = 4_000_000
    n = sample.educators_for_size(target)
    sample.generate(tmp_path, educators=n, seed=SEED)
    assert 0.85 * target < _size(tmp_path) < 1.15 * target, (n, _size(tmp_path))


def test_ensure_sample_generates_once_and_regenerates_when_parameters_change(tmp_path: Path) -> None:
    target = tmp_path / "data" / "sample"
    assert sample.ensure_sample(target, educators=5, seed=1) == target
    stamp = json.loads((target / sample.STAMP_FILE).read_text())
    assert stamp["educators"] == 5 and stamp["seed"] == 1
    users = target / "users/users.csv"
    before = users.stat().st_mtime_ns
    sample.ensure_sample(target, educators=5, seed=1)
    assert users.stat().st_mtime_ns == before  # current: nothing rewritten
    sample.ensure_sample(target, educators=6, seed=1)
    assert json.loads((target / sample.STAMP_FILE).read_text())["educators"] == 6
    assert users.read_bytes().count(b"\n") == 7  # header + 6 users
    # a product that lost a file is regenerated; no temporary sibling is left behind
    (target / "goals/goals.users.csv").unlink()
    sample.ensure_sample(target, educators=6, seed=1)
    assert (target / "goals/goals.users.csv").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == [".sample.lock", "sample"]


def test_ensure_sample_replaces_a_half_written_product_and_cleans_killed_runs(tmp_path: Path) -> None:
    target = tmp_path / "sample"
    sample.ensure_sample(target, educators=5, seed=1)
    stamp = target / sample.STAMP_FILE
    stamp.write_text(stamp.read_text().replace('"seed": 1', '"seed": 2'))  # as if another run stopped midway
    killed = tmp_path / ".sample.tmp-999999"  # what a killed run leaves behind
    (killed / "users").mkdir(parents=True)
    sample.ensure_sample(target, educators=5, seed=1)
    assert json.loads(stamp.read_text())["seed"] == 1
    assert not killed.exists()


def test_generate_rejects_a_size_below_two(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="educators"):
        sample.generate(tmp_path, educators=1, seed=1)


def test_generate_never_overwrites_a_product_it_did_not_generate(tmp_path: Path) -> None:
    real = tmp_path / "delivery"
    (real / "users").mkdir(parents=True)
    (real / "users/users.csv").write_text("_id\n")
    with pytest.raises(ValueError, match="not a generated sample"):
        sample.generate(real, educators=5, seed=1)
    assert (real / "users/users.csv").read_text() == "_id\n"
    # a generated sample (stamped) is regenerated in place, and other files beside it are kept
    mine = tmp_path / "mine"
    sample.generate(mine, educators=5, seed=1)
    (mine / "notes.txt").write_text("kept")
    sample.generate(mine, educators=6, seed=1)
    assert json.loads((mine / sample.STAMP_FILE).read_text())["educators"] == 6
    assert (mine / "notes.txt").read_text() == "kept"
    assert not (mine / sample.INCOMPLETE_FILE).exists()


def test_snapshot_indexes_point_at_the_captured_work(db: duckdb.DuckDBPyConnection) -> None:
    """`snapshots.indexes` is parallel to `snapshots.activityWorks`: the position of each captured work."""
    assert _scalar(db, 'select count(*) from "snapshots.indexes"') == _scalar(
        db, 'select count(*) from "snapshots.activityWorks"'
    )
    bad = _scalar(
        db,
        'select count(*) from "snapshots.indexes" i '
        'join "snapshots.activityWorks" a on a._parentId = i._parentId and a._index = i._index '
        'left join "observations.work" w on w._id = a.workId '
        "where w._id is null or w._index <> i.value",
    )
    assert bad == 0


def test_a_contract_change_flows_through(tmp_path: Path) -> None:
    """New columns get values from their type, enumeration and reference; dropped columns disappear."""
    added = (
        Column("badgeCode", "string", False, "badge shown on the profile"),
        Column("tier", "string", True, "gold | silver | bronze"),
        Column("mentorId", "objectid", False, "references users._id (the assigned mentor)"),
        Column("alignedIndicatorId", "objectid", True, "references a rubric indicator _id at any level"),
        Column("certifiedOn", "date", True, "certification date"),
    )
    changed = []
    for t in contract.tables():
        if t.name == "users.groups":
            t = dataclasses.replace(t, columns=(*t.columns[:-1], *added, t.columns[-1]))
        if t.name == "groups":
            t = dataclasses.replace(t, columns=tuple(c for c in t.columns if c.name != "category"))
        changed.append(t)
    sample.generate(tmp_path, educators=6, seed=SEED, tables=changed)
    with open(tmp_path / "groups/groups.csv", encoding="utf-8", newline="") as fh:
        assert "category" not in next(csv.reader(fh))
    with open(tmp_path / "users/users.groups.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-6:] == [c.name for c in added] + ["addedAt"]
    with open(tmp_path / "users/users.csv", encoding="utf-8-sig", newline="") as fh:
        users = {r["_id"] for r in csv.DictReader(fh)}
    indicators = set()
    for level in INDICATOR_TABLES:
        with open(tmp_path / contract.table(level).relative_path, encoding="utf-8", newline="") as fh:
            indicators |= {r["_id"] for r in csv.DictReader(fh)}
    assert all(r["badgeCode"] for r in rows)
    assert {r["tier"] for r in rows} <= {"gold", "silver", "bronze", ""}
    assert {r["mentorId"] for r in rows} <= users
    assert {r["alignedIndicatorId"] for r in rows} - {""} <= indicators
    assert all(re.fullmatch(FORMATS["date"], r["certifiedOn"]) for r in rows if r["certifiedOn"])


def test_concurrent_callers_build_the_sample_once(tmp_path: Path) -> None:
    target = tmp_path / "sample"
    errors: list[BaseException] = []

    def call() -> None:
        try:
            sample.ensure_sample(target, educators=5, seed=3)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert json.loads((target / sample.STAMP_FILE).read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sample.lock", "sample"]
