"""Tests of the Ed-Fi API stand-in (tests/_edfi_api.py), and of what lightbeam and edfi_api_client do with it.

The stand-in is only worth something if it answers like an ODS/API 5.3 would, so these tests pin its
behaviour over HTTP (no mocks) and then drive the real clients the project delivers with: the `lightbeam`
CLI as a subprocess, and `edfi_api_client` in process. Some tests pin client behaviour the delivery code
must work around (lightbeam's delete lookup, its silent loss of dropped connections, its hashlog rules).
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from edfi_api_client import EdFiClient

from tests._edfi_api import SUBSET_SWAGGER, EdFiApiStandIn, run_lightbeam

YEAR = 2025
ORG = 255901
TYPE = "uri://ed-fi.org/CohortTypeDescriptor#Academic Intervention"


def cohort(identifier: str = "Math", org: int = ORG, **extra: Any) -> dict[str, Any]:
    return {
        "cohortIdentifier": identifier,
        "educationOrganizationReference": {"educationOrganizationId": org},
        "cohortTypeDescriptor": TYPE,
        **extra,
    }


def association(
    identifier: str = "Math", staff: str = "S1", begin: str = "2024-08-15", org: int = ORG
) -> dict[str, Any]:
    return {
        "beginDate": begin,
        "cohortReference": {"cohortIdentifier": identifier, "educationOrganizationId": org},
        "staffReference": {"staffUniqueId": staff},
    }


@pytest.fixture
def api() -> Iterator[EdFiApiStandIn]:
    with EdFiApiStandIn() as server:
        yield server


@pytest.fixture
def http(api: EdFiApiStandIn) -> requests.Session:
    """A requests session holding a bearer token of the stand-in."""
    token = requests.post(
        f"{api.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(api.client_id, api.client_secret),
        timeout=5,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def post(http: requests.Session, api: EdFiApiStandIn, resource: str, body: Any) -> requests.Response:
    return http.post(api.data_url(YEAR, resource), json=body, timeout=5)


# ---------------------------------------------------------------------------------------------------------
# The stand-in over HTTP.


def test_discovery_metadata_and_oauth(api: EdFiApiStandIn) -> None:
    """What both clients read before any data request, and the client-credentials flow."""
    base = api.base_url
    info = requests.get(base, timeout=5).json()
    assert info["version"] == "5.3" and info["apiMode"] == "Year Specific"
    assert info["dataModels"] == [{"name": "Ed-Fi", "version": "3.3.1-b"}]
    assert info["urls"]["oauth"] == f"{base}/oauth/token"
    assert info["urls"]["dataManagementApi"] == f"{base}/data/v3/"

    entries = {
        e["name"]: e["endpointUri"] for e in requests.get(info["urls"]["openApiMetadata"], timeout=5).json()
    }
    assert requests.get(entries["Resources"], timeout=5).content == SUBSET_SWAGGER.read_bytes()
    assert requests.get(entries["Descriptors"], timeout=5).json()["paths"] == {}
    dependencies = requests.get(info["urls"]["dependencies"], timeout=5).json()
    assert [(d["resource"], d["order"]) for d in dependencies] == [
        ("/ed-fi/cohorts", 1),
        ("/ed-fi/staffCohortAssociations", 2),
    ]

    token_url, grant = info["urls"]["oauth"], {"grant_type": "client_credentials"}
    wrong = requests.post(token_url, data=grant, auth=(api.client_id, "nope"), timeout=5)
    assert wrong.status_code == 401
    by_form = requests.post(
        token_url, data={**grant, "client_id": api.client_id, "client_secret": api.client_secret}, timeout=5
    )
    by_basic = requests.post(token_url, data=grant, auth=(api.client_id, api.client_secret), timeout=5)
    assert by_form.status_code == by_basic.status_code == 200
    assert by_basic.json()["token_type"] == "bearer" and by_basic.json()["expires_in"] > 0

    url = api.data_url(YEAR, "cohorts")
    bearer = {"Authorization": f"Bearer {by_basic.json()['access_token']}"}
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers=bearer, timeout=5).json() == []
    api.revoke_tokens()
    assert requests.get(url, headers=bearer, timeout=5).status_code == 401


def test_post_upserts_by_natural_key_case_insensitively(api: EdFiApiStandIn, http: requests.Session) -> None:
    """SQL Server's collation makes "Math" and "MATH " the same key: the second POST updates (200), and the
    stored key keeps its first spelling."""
    created = post(http, api, "cohorts", cohort("Math"))
    assert created.status_code == 201
    stored = http.get(created.headers["Location"], timeout=5).json()
    assert stored["cohortIdentifier"] == "Math" and len(stored["id"]) == 32 and stored["_etag"]

    updated = post(http, api, "cohorts", cohort("MATH ", cohortDescription="Algebra I"))
    assert updated.status_code == 200
    assert api.records(YEAR, "cohorts") == [cohort("Math", cohortDescription="Algebra I")]
    again = http.get(created.headers["Location"], timeout=5).json()
    assert again["id"] == stored["id"] and again["_etag"] != stored["_etag"]

    # Another education organization is another key; nulls and unknown properties are dropped (as the ODS).
    assert (
        post(http, api, "cohorts", cohort("Math", org=255902, cohortDescription=None, x=1)).status_code == 201
    )
    assert api.records(YEAR, "cohorts")[1] == cohort("Math", org=255902)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            cohort(id="0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
            "Resource identifiers cannot be assigned by the client",
        ),
        (cohort("x" * 21), "cohortIdentifier must be a string with a maximum length of 20"),
        (
            {"cohortIdentifier": "Math", "cohortTypeDescriptor": TYPE},
            "educationOrganizationReference is required",
        ),
        (cohort(org="255901"), "is not of type 'integer'"),
        (cohort(org=2**31), "int32"),
        (cohort(cohortDescription="d" * 1025), "maximum length of 1024"),
        ("not an object", "JSON object"),
    ],
    ids=["id", "21-chars", "required", "type", "int32", "description", "array"],
)
def test_post_refuses_what_the_swagger_schema_refuses(
    api: EdFiApiStandIn, http: requests.Session, body: Any, words: str
) -> None:
    answer = post(http, api, "cohorts", body)
    assert answer.status_code == 400 and words in answer.json()["message"]
    assert api.records(YEAR, "cohorts") == []


def test_post_refuses_malformed_json_and_bad_dates(api: EdFiApiStandIn, http: requests.Session) -> None:
    url = api.data_url(YEAR, "staffCohortAssociations")
    assert http.post(url, data=b'{"beginDate": ', timeout=5).status_code == 400
    answer = post(http, api, "staffCohortAssociations", association(begin="2024-02-30"))
    assert answer.status_code == 400 and "beginDate" in answer.json()["message"]


def test_association_needs_its_cohort(api: EdFiApiStandIn, http: requests.Session) -> None:
    answer = post(http, api, "staffCohortAssociations", association("Math"))
    assert answer.status_code == 409
    assert answer.json() == {
        "message": "The value supplied for the related 'cohort' resource does not exist."
    }
    post(http, api, "cohorts", cohort("Math"))
    assert post(http, api, "staffCohortAssociations", association("MATH")).status_code == 201
    assert post(http, api, "staffCohortAssociations", association("math", staff="s1")).status_code == 200


def test_delete_by_id_without_cascade(api: EdFiApiStandIn, http: requests.Session) -> None:
    """A referenced cohort cannot be deleted (the ODS foreign key has no ON DELETE CASCADE)."""
    cohort_url = post(http, api, "cohorts", cohort("Math")).headers["Location"]
    link_url = post(http, api, "staffCohortAssociations", association("Math")).headers["Location"]

    refused = http.delete(cohort_url, timeout=5)
    assert (
        refused.status_code == 409
        and "dependency of the 'staffCohortAssociation'" in refused.json()["message"]
    )
    assert http.delete(link_url, timeout=5).status_code == 204
    assert http.delete(cohort_url, timeout=5).status_code == 204
    assert http.delete(cohort_url, timeout=5).status_code == 404
    assert http.get(cohort_url, timeout=5).status_code == 404


def test_put_updates_but_never_changes_a_key(api: EdFiApiStandIn, http: requests.Session) -> None:
    url = post(http, api, "cohorts", cohort("Math")).headers["Location"]
    assert http.put(url, json=cohort("MATH", cohortDescription="d"), timeout=5).status_code == 204
    assert api.records(YEAR, "cohorts") == [cohort("Math", cohortDescription="d")]
    assert http.put(url, json=cohort("Reading"), timeout=5).status_code == 400
    assert http.put(f"{url}0", json=cohort("Math"), timeout=5).status_code == 404


def test_get_filters_paging_and_total_count(api: EdFiApiStandIn, http: requests.Session) -> None:
    for n in range(7):
        api.seed(YEAR, "cohorts", cohort(f"C{n}", org=ORG if n < 5 else 255902))
    api.seed(YEAR, "staffCohortAssociations", association("C1", staff="S1"))
    api.seed(YEAR, "staffCohortAssociations", association("C2", staff="S2", begin="2024-09-01"))
    url = api.data_url(YEAR, "cohorts")

    def names(params: dict[str, Any], resource_url: str = url) -> list[str]:
        rows = http.get(resource_url, params=params, timeout=5).json()
        return [r.get("cohortIdentifier") or r["cohortReference"]["cohortIdentifier"] for r in rows]

    assert names({"educationOrganizationId": ORG}) == ["C0", "C1", "C2", "C3", "C4"]
    assert names({"cohortIdentifier": "c6"}) == ["C6"]
    assert names({"educationOrganizationId": ORG, "limit": 2, "offset": 3}) == ["C3", "C4"]
    counted = http.get(url, params={"limit": 0, "totalCount": "true"}, timeout=5)
    assert counted.json() == [] and counted.headers["Total-Count"] == "7"
    assert "Total-Count" not in http.get(url, timeout=5).headers
    assert http.get(url, params={"limit": 501}, timeout=5).status_code == 400
    assert http.get(url, params={"educationOrganizationId": "x"}, timeout=5).status_code == 400

    links = api.data_url(YEAR, "staffCohortAssociations")
    assert names({"staffUniqueId": "s2"}, links) == ["C2"]
    assert names({"beginDate": "2024-08-15", "educationOrganizationId": ORG}, links) == ["C1"]


def test_each_school_year_is_its_own_store(api: EdFiApiStandIn, http: requests.Session) -> None:
    assert post(http, api, "cohorts", cohort("Math")).status_code == 201
    assert http.get(api.data_url(YEAR + 1, "cohorts"), timeout=5).json() == []
    assert api.records(YEAR + 1, "cohorts") == []
    assert http.get(api.data_url(YEAR, "studentCohortAssociations"), timeout=5).status_code == 404
    with EdFiApiStandIn(years=[YEAR]) as only:
        entries = requests.get(f"{only.base_url}/metadata/", timeout=5).json()
        assert {e["endpointUri"].split("/data/v3/")[1] for e in entries} == {
            f"{YEAR}/resources/swagger.json",
            f"{YEAR}/descriptors/swagger.json",
        }
        token = requests.post(
            f"{only.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(only.client_id, only.client_secret),
            timeout=5,
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(only.data_url(YEAR, "cohorts"), headers=bearer, timeout=5).status_code == 200
        assert requests.get(only.data_url(YEAR - 1, "cohorts"), headers=bearer, timeout=5).status_code == 404


def test_hooks_count_writes_cut_and_heal(api: EdFiApiStandIn, http: requests.Session) -> None:
    """The hooks scenario tests use: counting, another client's delete, the server going away and back."""
    post(http, api, "cohorts", cohort("Math"))
    http.get(api.data_url(YEAR, "cohorts"), timeout=5)
    rid = api.seed(YEAR, "cohorts", cohort("Reading"))
    assert api.find_id(YEAR, "cohorts", cohort("READING")) == rid
    api.delete_as_someone_else(YEAR, "cohorts", rid)
    assert api.write_count == 1  # the POST; GETs, seed() and delete_as_someone_else() are not counted

    api.fail_after_writes(1, mode="503")
    assert post(http, api, "cohorts", cohort("Art")).status_code == 201
    assert post(http, api, "cohorts", cohort("Music")).status_code == 503
    assert requests.get(api.base_url, timeout=5).status_code == 503
    api.fail_after_writes(0)
    with pytest.raises(requests.ConnectionError):
        post(http, api, "cohorts", cohort("Music"))
    api.heal()
    assert post(http, api, "cohorts", cohort("Music")).status_code == 201
    assert [r["cohortIdentifier"] for r in api.records(YEAR, "cohorts")] == ["Math", "Art", "Music"]
    assert api.write_count == 3


def test_stop_really_stops() -> None:
    server = EdFiApiStandIn().start()
    port = server.port
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    server.stop()  # idempotent


# ---------------------------------------------------------------------------------------------------------
# The real lightbeam CLI against the stand-in.


def unordered(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def lightbeam(
    api: EdFiApiStandIn, command: str, config: Path, results: Path
) -> subprocess.CompletedProcess[str]:
    return run_lightbeam(
        command, config, env=api.lightbeam_env(), extra_args=["--results-file", str(results)]
    )


def test_lightbeam_send_reports_failures_with_file_and_line(tmp_path: Path) -> None:
    """Two good lines and one bad line per file; tokens expire after 4 uses so lightbeam must re-auth."""
    data = tmp_path / "data"
    write_jsonl(data / "cohorts.jsonl", [cohort("Math"), cohort("x" * 21), cohort("Reading")])
    write_jsonl(
        data / "staffCohortAssociations.jsonl",
        [association("Math"), association("Reading", "S2"), association("Missing", "S3")],
    )
    with EdFiApiStandIn(token_max_uses=4) as api:
        config = api.write_lightbeam_yaml(tmp_path / "lightbeam.yaml", YEAR, data)
        run = lightbeam(api, "send", config, tmp_path / "results.json")
        assert run.returncode == 0, run.stderr
        # lightbeam sends the lines of a file concurrently: the store's order is not the file's
        assert unordered(api.records(YEAR, "cohorts")) == unordered([cohort("Math"), cohort("Reading")])
        assert unordered(api.records(YEAR, "staffCohortAssociations")) == unordered(
            [association("Math"), association("Reading", "S2")]
        )
        assert api.tokens_issued >= 2 and any(r.status == 401 for r in api.request_log)

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["command"] == "send"
    assert (results["total_records_processed"], results["total_records_failed"]) == (6, 2)
    cohorts = results["resources"]["cohorts"]
    assert cohorts["successes"] == [{"status_code": 201, "count": 2}]
    [failure] = cohorts["failures"]
    assert failure["status_code"] == 400 and failure["line_numbers"] == [2] and failure["count"] == 1
    assert failure["file"] == str(data / "cohorts.jsonl")
    assert failure["message"].startswith("400: Validation of `Cohort` failed.")  # lightbeam turns ' into `
    [failure] = results["resources"]["staffCohortAssociations"]["failures"]
    assert (failure["status_code"], failure["line_numbers"]) == (409, [3])
    assert failure["message"] == "409: The value supplied for the related `cohort` resource does not exist."


def test_lightbeam_state_dir_resends_only_400s(tmp_path: Path) -> None:
    """With a state_dir, lightbeam's hashlog skips every line it sent before, whatever the answer was (a 409
    is not retried), except 400s, which it never records. A run that skips everything exits 99."""
    data = tmp_path / "data"
    write_jsonl(data / "cohorts.jsonl", [cohort("Math"), cohort("x" * 21)])
    write_jsonl(data / "staffCohortAssociations.jsonl", [association("Missing")])
    with EdFiApiStandIn() as api:
        config = api.write_lightbeam_yaml(
            tmp_path / "lightbeam.yaml", YEAR, data, state_dir=tmp_path / "state"
        )
        assert lightbeam(api, "send", config, tmp_path / "r1.json").returncode == 0
        assert api.write_count == 3

        again = lightbeam(api, "send", config, tmp_path / "r2.json")
        assert again.returncode == 0, again.stderr
        assert api.write_count == 4  # only the 400 line went again
        assert json.loads((tmp_path / "r2.json").read_text())["total_records_skipped"] == 2

        write_jsonl(data / "cohorts.jsonl", [cohort("Math")])
        assert lightbeam(api, "send", config, tmp_path / "r3.json").returncode == 99
        assert api.write_count == 4


def test_lightbeam_send_exits_1_when_every_payload_fails(api: EdFiApiStandIn, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data" / "staffCohortAssociations.jsonl", [association("Missing")])
    config = api.write_lightbeam_yaml(tmp_path / "lightbeam.yaml", YEAR, tmp_path / "data")
    assert lightbeam(api, "send", config, tmp_path / "results.json").returncode == 1


def test_lightbeam_send_loses_dropped_connections_silently(api: EdFiApiStandIn, tmp_path: Path) -> None:
    """Known limit: a payload whose connection drops is neither retried nor counted as failed; lightbeam
    exits 0 and its results file shows no failure. Only successes vs records_processed tells."""
    write_jsonl(tmp_path / "data" / "cohorts.jsonl", [cohort(f"C{n}") for n in range(4)])
    config = api.write_lightbeam_yaml(tmp_path / "lightbeam.yaml", YEAR, tmp_path / "data")
    api.fail_after_writes(2, mode="close")
    run = lightbeam(api, "send", config, tmp_path / "results.json")
    assert run.returncode == 0 and "ServerDisconnectedError" in run.stderr
    assert len(api.records(YEAR, "cohorts")) == 2

    summary = json.loads((tmp_path / "results.json").read_text())
    resource = summary["resources"]["cohorts"]
    assert (summary["total_records_failed"], "failures" in resource) == (0, False)
    assert (resource["records_processed"], sum(s["count"] for s in resource["successes"])) == (4, 2)


def test_lightbeam_delete_skips_associations_sharing_a_begin_date(
    api: EdFiApiStandIn, tmp_path: Path
) -> None:
    """Known limit: the 3.3 swagger marks only top-level identity fields, so lightbeam looks an association up
    by beginDate alone (a cohort by cohortIdentifier alone). Two associations on one date: both skipped as
    "multiple matching payloads". That is why the project deletes associations with edfi_api_client."""
    links = [association("Math", "S1"), association("Reading", "S2"), association("Math", "S3", "2024-09-01")]
    api.seed(YEAR, "cohorts", cohort("Math"))
    api.seed(YEAR, "cohorts", cohort("Reading"))
    for link in links:
        api.seed(YEAR, "staffCohortAssociations", link)
    write_jsonl(tmp_path / "data" / "staffCohortAssociations.jsonl", links)
    config = api.write_lightbeam_yaml(tmp_path / "lightbeam.yaml", YEAR, tmp_path / "data")

    run = lightbeam(api, "delete", config, tmp_path / "results.json")
    assert run.returncode == 0, run.stderr
    assert "(reason: [multiple matching payloads found in API]; instances: 2)" in run.stderr
    assert unordered(api.records(YEAR, "staffCohortAssociations")) == unordered(links[:2])
    lookups = [
        r.query for r in api.request_log if r.method == "GET" and r.path.endswith("/staffCohortAssociations")
    ]
    assert sorted(lookups) == ["beginDate=2024-08-15", "beginDate=2024-08-15", "beginDate=2024-09-01"]
    assert not (tmp_path / "results.json").exists()  # lightbeam 0.1.12 writes no results file for delete


# ---------------------------------------------------------------------------------------------------------
# edfi_api_client against the stand-in.


def test_edfi_api_client_pages_and_deletes_by_id(api: EdFiApiStandIn) -> None:
    """Paged GETs and DELETE by id through its session. Its session methods raise requests.HTTPError on every
    4xx (the ODS message is only in `.response`), and a client never re-authenticates before its own token
    clock says so: after a 401 from a revoked token, only a new EdFiClient recovers."""
    for n in range(5):
        api.seed(YEAR, "cohorts", cohort(f"C{n}"))
    client = EdFiClient(
        api.base_url, api.client_id, api.client_secret, api_mode="year_specific", api_year=YEAR
    )
    cohorts = client.resource("cohorts")
    assert cohorts.url == api.data_url(YEAR, "cohorts")

    rows = list(cohorts.get_rows(page_size=2))  # ODS 5.3 < 7.3: offset paging until an empty page
    assert [r["cohortIdentifier"] for r in rows] == [f"C{n}" for n in range(5)]
    assert cohorts.get_total_count() == 5
    assert [r["id"] for r in cohorts.get(params={"cohortIdentifier": "c3"})] == [rows[3]["id"]]

    assert client.session.delete_response(cohorts.url, rows[0]["id"]).status_code == 204
    with pytest.raises(requests.HTTPError) as missing:  # raises on 4xx, whatever its docstring says
        client.session.delete_response(cohorts.url, rows[0]["id"])
    assert missing.value.response.status_code == 404
    assert len(api.records(YEAR, "cohorts")) == 4

    api.seed(YEAR, "staffCohortAssociations", association("C1"))
    with pytest.raises(requests.HTTPError) as referenced:
        client.session.delete_response(cohorts.url, rows[1]["id"])
    assert "dependency of the 'staffCohortAssociation'" in referenced.value.response.json()["message"]

    api.revoke_tokens()
    with pytest.raises(requests.HTTPError, match="401"):
        cohorts.get()
    with pytest.raises(requests.HTTPError, match="401"):
        client.connect()
        cohorts.get()
    fresh = EdFiClient(
        api.base_url, api.client_id, api.client_secret, api_mode="year_specific", api_year=YEAR
    )
    assert len(fresh.resource("cohorts").get()) == 4
