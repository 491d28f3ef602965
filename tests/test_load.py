"""The raw layer against real DuckDB: every file lands or is rejected, counts reconcile, lines are physical.

Each test copies the contract's example product to a tmp folder, alters one file the way a vendor might
(or break it), loads it and reads the warehouse back.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from extract import contract
from extract.load import LoadError, bare_duckdb_load, load_product
from extract.lock import RunLockedError, run_lock

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
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


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
    for t in contract.tables():
        expected = csv_records(product / t.relative_path)
        assert res.tables[t.name] == expected, t.name
        assert rows(warehouse, f"select count(*) from {t.raw_relation}") == [(expected,)], t.name
        cols = [r[0] for r in rows(warehouse, f"describe {t.raw_relation}")]
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
    for t in [
        *contract.tables_in_group("goals"),
        contract.table("rubrics.indicators.indicators.indicators.indicators"),
    ]:
        assert res.tables[t.name] == 0
        assert rows(warehouse, f"select count(*) from {t.raw_relation}") == [(0,)]
        cols = [r[0] for r in rows(warehouse, f"describe {t.raw_relation}")]
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
        f"{R},{R},4,key4,bad ".encode() + b"\xff,view",  # line 9: invalid UTF-8
        report_row(5, 'a"b'),  # line 10: literal quote in unquoted field
        b'%s,%s,6,k6,"never closed,view' % (rid, rid),  # line 11: unterminated quote...
        report_row(7),  # line 12: ...swallows the rest
        report_row(8),  # line 13
    )
    res = load_product(product, warehouse, load_id="L1")
    landed = rows(
        warehouse, 'select "_index", "reportName", _source_line from raw.groups__reports order by 3'
    )
    assert landed == [("0", "Report", 2), ("1", "three\nline\nname", 3), ("5", 'a"b', 10)]
    rej = rows(
        warehouse,
        "select line, record_number, error_type, column_name, raw_record from raw._rejects "
        "where load_id = 'L1' order by line",
    )
    assert [(r[0], r[2]) for r in rej] == [
        (6, "TOO MANY COLUMNS"),
        (7, "MISSING COLUMNS"),
        (9, "INVALID ENCODING"),
        (11, "UNTERMINATED QUOTE"),
    ]
    assert rej[0][4] == f"{R},{R},2,key2,Report,view,extra"
    assert rej[1][4] == f'{R},{R},3,"k\n3",view'
    assert "\\xff" in rej[2][4]
    assert (
        rej[3][4]
        == f'{R},{R},6,k6,"never closed,view\n{R},{R},7,key7,Report,view\n{R},{R},8,key8,Report,view'
    )
    assert [r[1] for r in rej] == [3, 4, 5, 7]
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, rows_rejected, status from raw._loads "
        "where table_name = 'groups.reports'",
    ) == [(7, 3, 4, "loaded_with_rejects")]
    assert res.rows_rejected == 4 and res.tables["groups.reports"] == 3


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
    for t in contract.tables():
        n, distinct_lines, load_ids = rows(
            warehouse,
            f"select count(*), count(distinct _source_line), list(distinct _load_id) from {t.raw_relation}",
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
        "import sys; from pathlib import Path; from extract.lock import run_lock\n"
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
    write_reports(
        product, report_row(0), b'%s,%s,1,k,"open' % (rid, rid), *[report_row(i) for i in range(2, 40)]
    )
    res = load_product(product, warehouse)
    assert res.tables["groups.reports"] == 1 and res.rows_rejected == 1
    (raw,) = rows(warehouse, "select raw_record from raw._rejects")[0]
    assert raw.startswith(f'{R},{R},1,k,"open\n{R}') and "[truncated: the record holds about" in raw
    assert rows(
        warehouse,
        "select rows_in_file, rows_landed, rows_rejected from raw._loads where table_name = 'groups.reports'",
    ) == [(2, 1, 1)]


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
