"""The raw layer against real DuckDB: every file lands or is rejected, counts reconcile, lines are physical.

Each test copies the contract's example product to a tmp folder, alters one file the way a vendor might
(or break it), loads it and reads the warehouse back.
"""

from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import io
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from _marts import reading

from extract import contract
from extract.load import LoadError, bare_duckdb_load, load_product
from pipeline.lock import RunLockedError, run_lock

EXAMPLE = Path(__file__).parent / "fixtures" / "example_product"
REPORTS = "groups/groups.reports.csv"  # _rootId,_parentId,_index,reportKey,reportName,access
REPORTS_HEADER = b"_rootId,_parentId,_index,reportKey,reportName,access"
R = "66d0c3a0e1d2f3a4b5000010"


@pytest.fixture
def product(tmp_path: Path) -> Path:
    dst = tmp_path / "product"
    shutil.copytree(EXAMPLE, dst)
    return dst


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "edreflect.duckdb"


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with reading(warehouse) as read:
        return read(sql, params)


def csv_records(path: Path) -> int:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def report_row(i: int, name: str = "Report") -> bytes:
    return f"{R},{R},{i},key{i},{name},view".encode()


def write_reports(product: Path, *records: bytes, eol: bytes = b"\n", header: bytes = REPORTS_HEADER) -> None:
    (product / REPORTS).write_bytes(eol.join((header, *records)) + eol)


# ------------------------------------------------------------------------------------------ happy path


def test_example_product_lands_every_table_with_counts_matching_the_files(product: Path, warehouse: Path):
    res = load_product(product, warehouse, load_id="L1")
    assert res.files == 87 and len(res.tables) == 87 and res.rows_rejected == 0
    with reading(warehouse) as read:
        for t in contract.tables():
            expected = csv_records(product / t.relative_path)
            assert res.tables[t.name] == expected, t.name
            assert read(f"select count(*) from {t.raw_relation}") == [(expected,)], t.name
            cols = [r[0] for r in read(f"describe {t.raw_relation}")]
            assert cols == [*t.column_names, *contract.LINEAGE_COLUMNS], t.name
    assert res.rows_landed == sum(res.tables.values()) > 200
    loads = rows(
        warehouse,
        "select count(*), count(distinct table_name), sum(rows_in_file), sum(rows_landed), "
        "sum(rows_rejected), min(status), max(status), count(sha256), min(bytes) "
        "from raw._loads where load_id = 'L1'",
    )
    assert loads == [(87, 87, res.rows_landed, res.rows_landed, 0, "loaded", "loaded", 87, loads[0][8])]
    assert loads[0][8] > 0
    manifest = rows(
        warehouse, "select source_file, sha256 from raw._loads where table_name = 'users' and load_id = 'L1'"
    )
    assert manifest == [
        ("users/users.csv", hashlib.sha256((product / "users/users.csv").read_bytes()).hexdigest())
    ]


def test_files_land_largest_first_the_largest_second_and_the_manifest_keeps_the_contract_order(
    product: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    write_reports(product, *(report_row(i, "R" * 2000) for i in range(50)))  # the largest file now
    from extract import load

    landed: list[str] = []
    land_file = load._land_file

    def recording(con, table, *args, **kwargs):
        landed.append(table.relative_path)
        return land_file(con, table, *args, **kwargs)

    monkeypatch.setattr(load, "_land_file", recording)
    res = load_product(product, warehouse, load_id="L1")
    sizes = [(product / rel).stat().st_size for rel in landed]
    # the largest second (its scan, the longest, overlaps the first file's landing), then by size
    assert landed[1] == REPORTS and len(landed) == 87
    assert sizes[1] == max(sizes) and sizes[0] >= max(sizes[2:])
    assert sizes[2:] == sorted(sizes[2:], reverse=True)
    order = [t.name for t in contract.tables()]
    assert list(res.tables) == order and res.tables["groups.reports"] == 50
    in_manifest = rows(warehouse, "select table_name from raw._loads where load_id = 'L1' order by rowid")
    assert [r[0] for r in in_manifest] == order


def test_tables_are_written_in_row_groups_of_the_loaders_size_and_dbt_attaches_alike(
    product: Path, warehouse: Path
):
    """A table of more rows than ROW_GROUP_SIZE is written in row groups of that size (compressed as the
    statement writes them, not at the commit's checkpoint: extract/warehouse.py says why); DuckDB's default
    would keep these 70,000 rows in one. dbt's profile attaches the warehouse with the same option."""
    from extract.warehouse import ROW_GROUP_SIZE, open_warehouse

    n = 70_000  # three row groups (a checkpoint merges no fewer), one at DuckDB's default
    assert 2 * ROW_GROUP_SIZE < n < 122_880
    write_reports(product, *(report_row(i) for i in range(n)))
    load_product(product, warehouse, load_id="L1")
    groups = rows(
        warehouse,
        "select row_group_id, max(count) from pragma_storage_info('raw.groups__reports') "
        "where column_name = '_index' group by all order by 1",
    )
    assert [c for _, c in groups] == [ROW_GROUP_SIZE, ROW_GROUP_SIZE, n - 2 * ROW_GROUP_SIZE]
    assert rows(warehouse, "select count(*), count(distinct _source_line) from raw.groups__reports") == [
        (n, n)
    ]
    # a later writer through open_warehouse keeps them; one that opens the file plainly merges every table's
    # row groups at its checkpoint (why every writer of the pipeline uses open_warehouse)
    count_groups = (
        "select count(distinct row_group_id) from pragma_storage_info('raw.groups__reports') "
        "where column_name = '_index'"
    )
    for connect, groups_after in ((open_warehouse, 3), (duckdb.connect, 1)):
        con = connect(str(warehouse))
        con.execute("create or replace table raw.written_after (a int)")
        con.close()
        assert rows(warehouse, count_groups) == [(groups_after,)], connect

    import yaml

    profile = yaml.safe_load((contract.PROJECT_ROOT / "profiles.yml").read_text())
    (attached,) = profile["edreflect_edfi"]["outputs"]["duckdb"]["attach"]
    assert attached["options"] == {"row_group_size": ROW_GROUP_SIZE}


def test_bom_is_not_part_of_the_first_column_and_lines_are_physical(product: Path, warehouse: Path):
    assert (product / "users/users.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    load_product(product, warehouse, load_id="L1")
    got = rows(warehouse, 'select _id, "name.first", _source_file, _source_line, _load_id from raw.users')
    assert [r[3] for r in got] == [2, 3, 4, 5, 6]
    assert all(r[0].startswith("66d0") and r[2] == "users/users.csv" and r[4] == "L1" for r in got)
    assert rows(warehouse, "select typeof(_source_line), typeof(_loaded_at) from raw.users limit 1") == [
        ("BIGINT", "TIMESTAMP")
    ]


def test_crlf_file_with_multiline_quoted_field(product: Path, warehouse: Path):
    load_product(product, warehouse)
    got = rows(
        warehouse,
        "select _source_line, body from raw.observations__activity_meeting_notes__content order by 1",
    )
    assert [r[0] for r in got] == [2, 3, 5]  # the record on line 3 spans lines 3-4
    assert got[1][1] == 'Strong questioning, "wait time" used well.\nNext: push for evidence, not opinion.'
    assert not got[2][1].endswith("\r")


def test_bom_and_crlf_in_a_written_file(product: Path, warehouse: Path):
    write_reports(
        product,
        report_row(0),
        b'%s,%s,1,k,"two\r\nlines",view' % (R.encode(), R.encode()),
        report_row(2),
        eol=b"\r\n",
        header=b"\xef\xbb\xbf" + REPORTS_HEADER,
    )
    load_product(product, warehouse)
    got = rows(
        warehouse, "select _rootId, reportName, _source_line from raw.groups__reports order by _source_line"
    )
    assert got == [(R, "Report", 2), (R, "two\r\nlines", 3), (R, "Report", 5)]


def test_reordered_columns_are_read_by_name(product: Path, warehouse: Path):
    path = product / "groups/groups.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        data = list(csv.reader(fh))
    reordered = [list(reversed(r)) for r in data]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(reordered)
    load_product(product, warehouse)
    header = data[0]
    got = rows(warehouse, 'select _id, name, "schoolYear" from raw.groups order by _source_line')
    assert got == [
        (r[header.index("_id")], r[header.index("name")], r[header.index("schoolYear")]) for r in data[1:]
    ]
    cols = [r[0] for r in rows(warehouse, "describe raw.groups")]
    assert cols == [*contract.table("groups").column_names, *contract.LINEAGE_COLUMNS]


def test_extra_column_is_kept_and_reported_as_drift(product: Path, warehouse: Path):
    (product / REPORTS).write_bytes(
        b"newFirst,"
        + REPORTS_HEADER
        + b",newLast\n"
        + b"f0,"
        + report_row(0)
        + b",x0\n"
        + b"f1,"
        + report_row(1)
        + b",x1\n"
    )
    res = load_product(product, warehouse, load_id="L1")
    cols = [r[0] for r in rows(warehouse, "describe raw.groups__reports")]
    t = contract.table("groups.reports")
    assert cols == [*t.column_names, "newFirst", "newLast", *contract.LINEAGE_COLUMNS]
    got = rows(
        warehouse, 'select "reportKey", "newFirst", "newLast" from raw.groups__reports order by _source_line'
    )
    assert got == [("key0", "f0", "x0"), ("key1", "f1", "x1")]
    assert rows(warehouse, "select table_name, column_name, header_position from raw._drift order by 3") == [
        ("groups.reports", "newFirst", 1),
        ("groups.reports", "newLast", 8),
    ]
    assert rows(warehouse, "select drift_columns from raw._loads where table_name = 'groups.reports'") == [
        ("newFirst, newLast",)
    ]
    assert res.tables["groups.reports"] == 2


def test_header_only_file_gives_an_empty_table(product: Path, warehouse: Path):
    write_reports(product)
    res = load_product(product, warehouse)
    assert res.tables["groups.reports"] == 0
    assert rows(warehouse, "select count(*) from raw.groups__reports") == [(0,)]
    cols = [r[0] for r in rows(warehouse, "describe raw.groups__reports")]
    assert cols == [*contract.table("groups.reports").column_names, *contract.LINEAGE_COLUMNS]
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, status from raw._loads where table_name = 'groups.reports'",
    ) == [(0, 0, "loaded")]


def test_missing_optional_group_and_level_files_give_empty_tables(product: Path, warehouse: Path):
    shutil.rmtree(product / "goals")
    (product / "rubrics/rubrics.indicators.indicators.indicators.indicators.csv").unlink()
    res = load_product(product, warehouse)
    with reading(warehouse) as read:
        for t in [
            *contract.tables_in_group("goals"),
            contract.table("rubrics.indicators.indicators.indicators.indicators"),
        ]:
            assert res.tables[t.name] == 0
            assert read(f"select count(*) from {t.raw_relation}") == [(0,)]
            cols = [r[0] for r in read(f"describe {t.raw_relation}")]
            assert cols == [*t.column_names, *contract.LINEAGE_COLUMNS]
    assert rows(warehouse, "select count(*), min(status) from raw._loads where file_group = 'goals'") == [
        (8, "absent")
    ]
    assert res.files == 87 - 9


def test_missing_required_file_is_an_error(product: Path, warehouse: Path):
    (product / "users/users.roles.csv").unlink()
    with pytest.raises(LoadError, match=r"users/users\.roles\.csv: file missing"):
        load_product(product, warehouse)


def test_missing_contract_column_names_file_line_and_column(product: Path, warehouse: Path):
    write_reports(product, b"a,b,c,d,e", header=REPORTS_HEADER.replace(b",reportName", b""))
    with pytest.raises(LoadError, match=r"groups/groups\.reports\.csv: line 1: .*missing.*: reportName"):
        load_product(product, warehouse)


def test_every_broken_header_is_reported_before_loading(product: Path, warehouse: Path):
    write_reports(product, b"a,b,c,d,e", header=REPORTS_HEADER.replace(b",reportName", b""))
    (product / "users/users.roles.csv").write_text("_rootId,_parentId\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"2 files break the contract") as err:
        load_product(product, warehouse)
    assert "groups/groups.reports.csv: line 1: contract column(s) missing from the header: reportName" in str(
        err.value
    )
    assert "users/users.roles.csv: line 1: contract column(s) missing from the header: _index" in str(
        err.value
    )


# ------------------------------------------------------------------------------------------ malformed rows


def test_malformed_rows_are_quarantined_and_good_rows_land_with_physical_lines(
    product: Path, warehouse: Path
):
    rid = R.encode()
    write_reports(
        product,
        report_row(0),  # line 2
        b'%s,%s,1,k1,"three\nline\nname",view' % (rid, rid),  # lines 3-5 (good)
        report_row(2) + b",extra",  # line 6: too many fields
        b'%s,%s,3,"k\n3",view' % (rid, rid),  # lines 7-8: too few fields
        report_row(4, "bad \x00"),  # line 9: a NUL byte, which DuckDB itself would land
        report_row(5, 'a"b'),  # line 10: literal quote in unquoted field
        report_row(6, "n\x00") + b",extra",  # line 11: too many fields and a NUL byte: one reject
        report_row(7),  # line 12
    )
    res = load_product(product, warehouse, load_id="L1")
    landed = rows(
        warehouse, 'select "_index", "reportName", _source_line from raw.groups__reports order by 3'
    )
    assert landed == [
        ("0", "Report", 2),
        ("1", "three\nline\nname", 3),
        ("5", 'a"b', 10),
        ("7", "Report", 12),
    ]
    rej = rows(
        warehouse,
        "select line, record_number, error_type, column_name, raw_record from raw._rejects "
        "where load_id = 'L1' order by line",
    )
    assert [(r[0], r[2]) for r in rej] == [
        (6, "TOO MANY COLUMNS"),
        (7, "MISSING COLUMNS"),
        (9, "NUL BYTE"),
        (11, "TOO MANY COLUMNS, NUL BYTE"),
    ]
    assert rej[0][4] == f"{R},{R},2,key2,Report,view,extra"
    assert rej[1][4] == f'{R},{R},3,"k\n3",view'
    assert rej[2][3] == "reportName" and rej[2][4] == f"{R},{R},4,key4,bad \\x00,view"
    assert rej[3][3] == "reportName"
    assert [r[1] for r in rej] == [3, 4, 5, 7]
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, rows_rejected, status from raw._loads "
        "where table_name = 'groups.reports'",
    ) == [(8, 4, 4, "loaded_with_rejects")]
    assert res.rows_rejected == 4 and res.tables["groups.reports"] == 4


def test_crlf_rejects_map_to_physical_lines(product: Path, warehouse: Path):
    rid = R.encode()
    write_reports(
        product,
        b'%s,%s,0,k,"a\r\nb",view' % (rid, rid),
        report_row(1) + b",x",
        b"",
        report_row(2),
        eol=b"\r\n",
    )
    load_product(product, warehouse)
    assert rows(warehouse, "select _source_line from raw.groups__reports") == [(2,), (6,)]
    assert rows(warehouse, "select line, error_type from raw._rejects") == [(4, "TOO MANY COLUMNS")]
    assert rows(
        warehouse, "select rows_in_file, blank_lines from raw._loads where table_name='groups.reports'"
    ) == [(3, 1)]


def test_mixed_line_ends_and_bare_cr_are_errors_naming_the_line(product: Path, warehouse: Path):
    (product / REPORTS).write_bytes(REPORTS_HEADER + b"\n" + report_row(0) + b"\r\n" + report_row(1) + b"\n")
    with pytest.raises(LoadError, match=r"groups/groups\.reports\.csv: line 2: ends with CRLF"):
        load_product(product, warehouse)
    (product / REPORTS).write_bytes(REPORTS_HEADER + b"\n" + report_row(0) + b"\n" + report_row(1) + b"\rx\n")
    with pytest.raises(LoadError, match=r"groups/groups\.reports\.csv: line 3: a bare carriage return"):
        load_product(product, warehouse)


def test_empty_file_is_an_error(product: Path, warehouse: Path):
    (product / REPORTS).write_bytes(b"")
    with pytest.raises(LoadError, match=r"groups/groups\.reports\.csv: line 1: the file is empty"):
        load_product(product, warehouse)


# ------------------------------------------------------------------------------------------ runs


def test_rerun_is_idempotent(product: Path, warehouse: Path):
    first = load_product(product, warehouse, load_id="L1")
    second = load_product(product, warehouse, load_id="L2")
    assert first.tables == second.tables
    with reading(warehouse) as read:
        for t in contract.tables():
            n, distinct_lines, load_ids = read(
                "select count(*), count(distinct _source_line), list(distinct _load_id) "
                f"from {t.raw_relation}"
            )[0]
            assert n == distinct_lines == first.tables[t.name], t.name
            assert load_ids in ([], ["L2"]), t.name
    assert rows(warehouse, "select load_id, count(*) from raw._loads group by 1 order by 1") == [
        ("L1", 87),
        ("L2", 87),
    ]


def test_failed_load_keeps_the_previous_good_state(product: Path, warehouse: Path):
    good = load_product(product, warehouse, load_id="GOOD")
    # make a later file fail, after many tables were already replaced inside the transaction
    (product / "users/users.subOrgs.csv").write_text("_rootId,_parentId\n1,2\n", encoding="utf-8")
    write_reports(product, report_row(0))
    with pytest.raises(LoadError, match="users/users.subOrgs.csv: line 1"):
        load_product(product, warehouse, load_id="BAD")
    assert rows(warehouse, "select distinct load_id from raw._loads") == [("GOOD",)]
    assert rows(warehouse, "select count(*), min(_load_id) from raw.groups__reports") == [
        (good.tables["groups.reports"], "GOOD")
    ]
    assert rows(warehouse, "select count(*) from raw.users__sub_orgs") == [(good.tables["users.subOrgs"],)]
    failures = rows(warehouse, "select load_id, error from raw._load_failures")
    assert len(failures) == 1 and failures[0][0] == "BAD" and "users.subOrgs.csv" in failures[0][1]


def test_run_lock_refuses_a_second_run_in_another_thread(warehouse: Path):
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with run_lock(warehouse):
                pass
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    with run_lock(warehouse):
        th = threading.Thread(target=second)
        th.start()
        th.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], RunLockedError)
    assert "another edreflect-edfi run" in str(errors[0])
    with run_lock(warehouse):  # released: a later run goes through
        pass


def _holder(code: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_run_lock_refuses_a_second_process_and_a_killed_holder_does_not_block(warehouse: Path):
    code = (
        "import sys; from pathlib import Path; from pipeline.lock import run_lock\n"
        f"with run_lock(Path({str(warehouse)!r})):\n    print('ready', flush=True); sys.stdin.read()\n"
    )
    proc = _holder(code)
    try:
        with pytest.raises(RunLockedError, match=rf"process {proc.pid} holds the lock"), run_lock(warehouse):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with run_lock(warehouse):  # the kernel released the dead holder's lock
        pass


def test_warehouse_open_in_another_process_gives_a_clear_message(product: Path, warehouse: Path):
    warehouse.parent.mkdir(parents=True)
    code = (
        f"import sys, duckdb; c = duckdb.connect({str(warehouse)!r}); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    proc = _holder(code)
    try:
        with pytest.raises(LoadError, match="is open in another process"):
            load_product(product, warehouse)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # bounded: the OS frees DuckDB's file lock when the holder dies
        try:
            load_product(product, warehouse)
            break
        except LoadError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_bare_duckdb_load_is_the_plain_reference(product: Path, tmp_path: Path):
    n = bare_duckdb_load(product, tmp_path / "bare.duckdb")
    assert n == sum(csv_records(product / t.relative_path) for t in contract.tables())


def test_quotes_inside_unquoted_fields_are_literal_and_do_not_shift_records(product: Path, warehouse: Path):
    rid = R.encode()
    write_reports(
        product,
        report_row(0, 'ab"'),  # line 2: a quote ending an unquoted field
        b'%s,%s,1,k1,"two\nlines",view' % (rid, rid),  # lines 3-4: still one quoted record
        report_row(2, '5" screen; "big"'),  # line 5
        report_row(3, 'a""'),  # line 6: two literal quotes
        b'%s,%s,4,k4,"he said "hi there",view' % (rid, rid),  # line 7: stray quote inside quotes: rejected
        b'%s,%s,5,k5,"x\ny",view' % (rid, rid),  # lines 8-9
    )
    res = load_product(product, warehouse)
    got = rows(warehouse, 'select "reportName", _source_line from raw.groups__reports order by 2')
    assert got == [('ab"', 2), ("two\nlines", 3), ('5" screen; "big"', 5), ('a""', 6), ("x\ny", 8)]
    assert rows(warehouse, "select line, error_type from raw._rejects") == [(7, "UNQUOTED VALUE")]
    assert res.rows_rejected == 1


def test_header_columns_differing_only_by_case_are_an_error(product: Path, warehouse: Path):
    write_reports(product, report_row(0) + b",x", header=REPORTS_HEADER + b",ACCESS")
    with pytest.raises(LoadError, match=r"groups\.reports\.csv: line 1, column 7: .*'ACCESS'.*letter case"):
        load_product(product, warehouse)


def test_csv_file_not_in_the_contract_is_reported_as_drift(product: Path, warehouse: Path):
    (product / "users/users.newArray.csv").write_text("_rootId,_parentId,_index,value\n", encoding="utf-8")
    load_product(product, warehouse, load_id="L1")
    assert rows(warehouse, "select source_file from raw._drift where table_name is null") == [
        ("users/users.newArray.csv",)
    ]


def test_huge_rejected_record_is_truncated_in_the_quarantine(
    product: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    import extract.load

    monkeypatch.setattr(extract.load, "_RAW_TEXT_LIMIT", 100)
    rid = R.encode()
    many_lines = b"\n".join(report_row(i) for i in range(2, 40))
    write_reports(
        product, report_row(0), b'%s,%s,1,k,"open\n%s",view,extra' % (rid, rid, many_lines), report_row(40)
    )
    res = load_product(product, warehouse)
    assert res.tables["groups.reports"] == 2 and res.rows_rejected == 1
    (raw,) = rows(warehouse, "select raw_record from raw._rejects")[0]
    assert raw.startswith(f'{R},{R},1,k,"open\n{R}') and "[truncated: the record holds about" in raw
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, rows_rejected from raw._loads where table_name = 'groups.reports'",
    ) == [(3, 2, 1)]


@pytest.mark.parametrize("drop", ["first", "last"])
def test_a_file_whose_counts_do_not_reconcile_fails_loudly(
    product: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch, drop: str
):
    """If DuckDB and the byte scan ever disagree, nothing is landed silently (simulated disagreement)."""
    import extract.load

    real_scan = extract.load.scan_file

    def scan_missing_a_record(path: Path, rel: str, find_lone_cr: bool = False):
        scan = real_scan(path, rel, find_lone_cr)
        if rel == REPORTS:
            keep = slice(1, None) if drop == "first" else slice(None, -1)
            scan.starts, scan.lines = scan.starts[keep], scan.lines[keep]
        return scan

    load_product(product, warehouse, load_id="GOOD")
    monkeypatch.setattr(extract.load, "scan_file", scan_missing_a_record)
    with pytest.raises(LoadError, match=r"groups/groups\.reports\.csv: .*(do not reconcile|does not know)"):
        load_product(product, warehouse, load_id="BAD")
    assert rows(warehouse, "select distinct _load_id from raw.groups__reports") == [("GOOD",)]


def test_manifest_of_an_older_layout_gets_the_new_columns(product: Path, warehouse: Path):
    warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create table raw._loads (load_id varchar, table_name varchar, status varchar)")
    con.execute("insert into raw._loads values ('OLD', 'users', 'loaded')")
    con.close()
    load_product(product, warehouse, load_id="NEW")
    assert rows(
        warehouse, "select load_id, count(*), count(sha256) from raw._loads group by 1 order by 1"
    ) == [
        ("NEW", 87, 87),
        ("OLD", 1, 0),
    ]


def test_a_folder_in_place_of_a_file_is_a_clear_error(product: Path, warehouse: Path):
    (product / "users/users.roles.csv").unlink()
    (product / "users/users.roles.csv").mkdir()
    with pytest.raises(LoadError, match=r"users/users\.roles\.csv: not a regular file"):
        load_product(product, warehouse)


# ------------------------------------------------------------------------------------------ broken deliveries

GROUPS = "users/users.groups.csv"  # _rootId,_parentId,_index,groupId,role,addedAt (addedAt may be empty)
NOTES = "observations/observations.activityMeetingNotes.content.csv"  # CRLF, a quoted multi-line body
TRUNCATED = "the file looks truncated (cut short in transfer)"
REFUSED = "The delivery was refused and nothing was landed: fetch the file again"


def raw_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every table of `raw` (lineage and bookkeeping included) but the failure log."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' "
            "and table_name <> '_load_failures' order by 1"
        ).fetchall()
        return {n: sorted(con.execute(f'select * from raw."{n}"').fetchall(), key=repr) for (n,) in names}
    finally:
        con.close()


@pytest.fixture
def good(product: Path, warehouse: Path) -> dict[str, list[tuple]]:
    """The warehouse after a good load of the example product, which the test then breaks."""
    load_product(product, warehouse, load_id="GOOD")
    snapshot = raw_snapshot(warehouse)
    assert len(snapshot) == 87 + 3 and sum(map(len, snapshot.values())) > 300
    return snapshot


def refused(product: Path, warehouse: Path, good: dict[str, list[tuple]], load_id: str = "BAD") -> str:
    """Load the broken product: it must raise and leave every raw table as it was; returns the message."""
    with pytest.raises(LoadError) as err:
        load_product(product, warehouse, load_id=load_id)
    assert raw_snapshot(warehouse) == good
    assert rows(warehouse, "select error from raw._load_failures where load_id = ?", [load_id]) == [
        (f"LoadError: {err.value}",)
    ]
    return str(err.value)


def cut(product: Path, rel: str, keep: int) -> bytes:
    """Keep the first `keep` bytes of a file, as an interrupted transfer does; returns what is kept."""
    data = (product / rel).read_bytes()[:keep]
    (product / rel).write_bytes(data)
    return data


def test_file_cut_at_half_its_bytes_mid_row_is_refused_as_truncated(product, warehouse, good):
    kept = cut(product, GROUPS, len((product / GROUPS).read_bytes()) // 2)
    assert not kept.endswith(b"\n")
    line = kept.count(b"\n") + 1  # no multi-line field in this file: the last record starts here
    assert refused(product, warehouse, good) == (
        f"{GROUPS}: line {line}: {TRUNCATED}: its last record has no line end (the file does not end with "
        f"LF or CRLF). {REFUSED}"
    )


def test_file_cut_before_an_optional_last_field_is_refused_as_truncated(product, warehouse, good):
    """`...,learner,` has all six fields (the last one empty): only the missing line end shows the cut."""
    data = (product / GROUPS).read_bytes()
    kept = cut(product, GROUPS, data.rindex(b"learner,") + len(b"learner,"))
    assert kept.count(b"\n") == 5 and len(next(csv.reader([kept.decode().splitlines()[-1]]))) == 6
    assert refused(product, warehouse, good).startswith(
        f"{GROUPS}: line 6: {TRUNCATED}: its last record has no"
    )


def test_last_record_with_fewer_fields_than_the_header_is_refused_as_truncated(product, warehouse, good):
    with open(product / GROUPS, "ab") as fh:
        fh.write(f"{R},{R},9,{R}\n".encode())  # ends with its line end, but two fields are missing
    assert refused(product, warehouse, good) == (
        f"{GROUPS}: line 7: {TRUNCATED}: its last record has 4 of the header's 6 fields. {REFUSED}"
    )


def test_file_cut_inside_a_quoted_multiline_field_is_refused_not_quarantined(product, warehouse, good):
    """The cut falls right after a line break inside quotes: the file ends with LF, yet the last record's
    quote never closes. Before, it was one rejected row and every record after the cut silently lost."""
    data = (product / NOTES).read_bytes()
    kept = cut(product, NOTES, data.index(b"used well.\n") + len(b"used well.\n"))
    assert kept.endswith(b"\n")
    assert refused(product, warehouse, good) == (
        f"{NOTES}: line 3: {TRUNCATED}: its last record opens a quoted field that is never closed, so it "
        "runs to the end of the file (if a fresh copy ends the same way, that quote is an export error to "
        f"report to the vendor). {REFUSED}"
    )


def test_crlf_file_cut_between_cr_and_lf_is_refused_as_truncated(product, warehouse, good):
    data = (product / NOTES).read_bytes()
    assert data.endswith(b"\r\n")
    cut(product, NOTES, len(data) - 1)
    assert refused(product, warehouse, good).startswith(
        f"{NOTES}: line 5: {TRUNCATED}: its last record has no"
    )


def test_header_only_file_without_its_line_end_is_refused_as_truncated(product, warehouse, good):
    """A table without rows is its header line, ending like every line (the contract, section 3)."""
    write_reports(product)  # header + LF: fine, see test_header_only_file_gives_an_empty_table
    cut(product, REPORTS, len(REPORTS_HEADER))
    assert refused(product, warehouse, good) == (
        f"{REPORTS}: line 1: {TRUNCATED}: its only line, the header, has no line end (the file does not end "
        f"with LF or CRLF). {REFUSED}"
    )


def test_every_truncated_file_is_reported_before_loading(product, warehouse, good, monkeypatch):
    import extract.load

    cut(product, GROUPS, 100)  # in the first record (the header has 46 bytes)
    cut(product, REPORTS, 30)  # in the header: not reported as missing columns
    monkeypatch.setattr(extract.load, "_land_file", None)  # nothing may be landed: the plan refuses
    message = refused(product, warehouse, good)
    assert message.startswith("2 files break the contract:\n")
    assert f"\n  {REPORTS}: line 1: {TRUNCATED}: its only line, the header, has no line end" in message
    assert f"\n  {GROUPS}: line 2: {TRUNCATED}: its last record has no line end" in message


def test_nul_byte_in_a_field_is_quarantined_with_line_and_column(product, warehouse, good):
    data = (product / GROUPS).read_bytes()
    (product / GROUPS).write_bytes(data.replace(b",learner,2024-08-20", b",lea\x00rner,2024-08-20"))
    res = load_product(product, warehouse, load_id="NUL")
    assert res.rows_rejected == 1 and res.tables["users.groups"] == 4
    assert rows(
        warehouse,
        "select source_file, line, record_number, column_name, error_type, reason from raw._rejects",
    ) == [
        (
            GROUPS,
            4,
            3,
            "role",
            "NUL BYTE",
            "a NUL byte (0x00) in column 5 (role): NUL is not text (a damaged transfer or a broken value in "
            "the export); the record was quarantined",
        )
    ]
    assert rows(warehouse, "select _source_line from raw.users__groups order by 1") == [
        (2,),
        (3,),
        (5,),
        (6,),
    ]
    assert rows(warehouse, "select count(*) from raw.users__groups where contains(role, chr(0))") == [(0,)]
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, rows_rejected, status from raw._loads where load_id = 'NUL' "
        "and table_name = 'users.groups'",
    ) == [(5, 4, 1, "loaded_with_rejects")]
    # everything else landed as before
    after = raw_snapshot(warehouse)
    for t in contract.tables():
        if t.name != "users.groups":
            assert [r[:-2] for r in after[t.key]] == [r[:-2] for r in good[t.key]], t.name


def test_nul_bytes_in_several_columns_of_a_multiline_record_name_them_all(product, warehouse):
    rid = R.encode()
    write_reports(
        product,
        report_row(0),
        b'%s,%s,1,"k\x001","two\nlines \x00",view' % (rid, rid),  # lines 3-4
        report_row(2),
    )
    load_product(product, warehouse)
    assert rows(warehouse, "select line, column_name, reason from raw._rejects") == [
        (
            3,
            "reportKey, reportName",
            "a NUL byte (0x00) in column 4 (reportKey), column 5 (reportName): NUL is not text (a damaged "
            "transfer or a broken value in the export); the record was quarantined",
        )
    ]
    assert rows(warehouse, "select _source_line from raw.groups__reports") == [(2,), (5,)]


@pytest.mark.parametrize(
    ("kind", "make", "expected"),
    [
        (
            "gzip",
            lambda data: gzip.compress(data),
            "line 1: the file is gzip-compressed, not plain UTF-8 CSV text: decompress it (`gzip -dc`) under "
            "its .csv name, then load again",
        ),
        (
            "zip",
            lambda data: _zipped(data),
            "line 1: the file is a ZIP archive (or an Excel workbook), not plain UTF-8 CSV text: extract the "
            "CSV file from it, then load again",
        ),
        (
            "utf16",
            lambda data: data.decode().encode("utf-16"),
            "line 1: the file is UTF-16 text, not plain UTF-8 CSV text: convert it to UTF-8 "
            "(`iconv -f UTF-16 -t UTF-8`), then load again",
        ),
        (
            "nul in header",
            lambda data: data.replace(b"role", b"ro\x00le", 1),
            "line 1: the header holds NUL bytes: this is binary data (or UTF-16 text), not a CSV text file; "
            "fetch it again, and decompress it or convert it to UTF-8 if it was delivered that way",
        ),
    ],
)
def test_compressed_or_binary_file_is_refused_naming_it(product, warehouse, good, kind, make, expected):
    (product / GROUPS).write_bytes(make((product / GROUPS).read_bytes()))
    assert refused(product, warehouse, good) == f"{GROUPS}: {expected}"


def _zipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("users.groups.csv", data)
    return out.getvalue()


def test_file_not_utf8_in_its_data_is_refused_naming_line_and_column(product, warehouse, good):
    rid = R.encode()
    write_reports(
        product,
        report_row(0),
        b'%s,%s,1,k1,"two\nlines",view' % (rid, rid),  # lines 3-4
        report_row(2, "Caf\u00e9").decode().encode("cp1252"),  # line 5: Windows-1252, not UTF-8
        report_row(3, "Se\u00f1ora").decode().encode("cp1252"),
    )
    assert refused(product, warehouse, good) == (
        f"{REPORTS}: line 5, column 5 (reportName): the file is not valid UTF-8 (2 record(s) hold bytes "
        "that are not UTF-8, this is the first); the contract requires UTF-8: the file was exported or "
        "re-saved in another encoding (e.g. Windows-1252) or damaged in transfer. Fetch it again; if the "
        "fresh copy fails the same way, ask the vendor to re-export it as UTF-8"
    )


def test_header_python_cannot_parse_is_a_clear_error(product, warehouse, good):
    write_reports(product, report_row(0), header=REPORTS_HEADER.replace(b"access", b'"acc"ess'))
    assert refused(product, warehouse, good) == (
        f"{REPORTS}: line 1: the header cannot be read as CSV (',' expected after '\"')"
    )


def test_unreadable_folder_and_file_are_clear_errors(product, warehouse, good, monkeypatch):
    """Root reads through any mode bits, so the EACCES a normal user gets is simulated."""
    import extract.load

    real_stat = Path.stat

    def stat(self: Path, **kw):
        if self.parent == product / "users" and self.name != "users.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, **kw)

    with monkeypatch.context() as m:
        m.setattr(Path, "stat", stat)
        message = refused(product, warehouse, good)
    assert message.startswith(
        "the data product is incomplete:\n  users/users.bloomList.items.csv: cannot be "
    )
    assert "\n  users/users.roles.csv: cannot be read: Permission denied\n" in message

    def unreadable(file, *args, **kw):
        if Path(file) == product / REPORTS:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return open(file, *args, **kw)

    monkeypatch.setattr(extract.load, "open", unreadable, raising=False)
    assert refused(product, warehouse, good, "BAD2") == f"{REPORTS}: cannot read the file: Permission denied"


def test_warehouse_folder_that_cannot_be_created_is_a_clear_error(product, tmp_path):
    (tmp_path / "occupied").write_text("a file where the warehouse folder should be", encoding="utf-8")
    with pytest.raises(LoadError, match=r"the warehouse folder .*occupied/wh cannot be created: "):
        load_product(product, tmp_path / "occupied" / "wh" / "edreflect.duckdb")
