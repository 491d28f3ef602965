"""An Ed-Fi ODS/API 5.3 stand-in (Data Standard 3.3, year-specific) for the delivery tests.

Why a stand-in: the real ODS/API (IIS + SQL Server) cannot run here, and a mock in the client would only
agree with the client. This is a real HTTP server in a background thread, built from the official OpenAPI
subset (`resources-ds-3.3.cohorts-subset.json`, the contract a Nebraska v3.x ODS serves), so the real
`lightbeam` CLI (a subprocess) and the `edfi_api_client` library talk to it exactly as they would to an ODS.

What it copies from the ODS/API 5.3, for `cohorts` and `staffCohortAssociations` only:
- discovery (`GET /`), `/metadata/` (openApiMetadata list), the resources swagger (the subset file, served
  byte for byte: its `x-Ed-Fi-isIdentity` markers sit on top-level fields only, which decides how
  `lightbeam delete` looks records up), a minimal descriptors swagger, `/metadata/data/v3/dependencies`;
- OAuth2 client credentials at `/oauth/token` (HTTP Basic or form fields) and bearer tokens on data URLs;
- one store per school year under `/data/v3/<year>/ed-fi/<resource>[/<id>]`;
- POST = upsert by natural key, keys compared like SQL Server's default collation (case-insensitive,
  trailing spaces ignored); on update the stored key keeps its first spelling (POST never changes a key);
- request bodies checked against the swagger component schema (required, types, maxLength, int32, date);
  `null` values and properties the schema does not know are dropped, as the ODS's JSON binder ignores them;
- foreign keys without cascade: an association needs its cohort (409), a referenced cohort cannot be
  deleted (409), with the ODS's own messages; errors are `{"message": "..."}` like ODS/API 5.x.

PUT by id updates (204) and refuses a key change (400); DELETE by id answers 204, 404 or 409.

What it does not copy: other resources (staff, education organizations and descriptors are assumed to
exist), change queries (min/maxChangeVersion are ignored), `link` objects in GET responses, ETag
preconditions (If-Match), profiles and authorization by education organization. It is stricter than the
ODS's JSON binder on types (a number sent as a string is a 400 here; the ODS may convert it). Messages
other than the two foreign-key ones (taken from the ODS's SqlServerConstraintExceptionTranslator) and
"Resource identifiers cannot be assigned by the client." are close paraphrases, not copies.

Test hooks: `records()`, `find_id()`, `seed()`, `delete_as_someone_else()`, `write_count`,
`request_log`, `fail_after_writes()` / `heal()`, `revoke_tokens()`; `lightbeam_config()` and
`run_lightbeam()` write and run a lightbeam config for it. Every request is served under one lock.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The official DS 3.3 subset, kept in the checkout (tests/fixtures/edfi/README.md says where it comes from).
SUBSET_SWAGGER = PROJECT_ROOT / "tests" / "fixtures" / "edfi" / "resources-ds-3.3.cohorts-subset.json"
MAX_LIMIT = 500
DEFAULT_LIMIT = 25
TOKEN_SECONDS = 1800
JOIN_TIMEOUT = 10.0
POLL_SECONDS = 0.05  # how often serve_forever looks for shutdown(): stop() takes at most this long
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
PAGING_PARAMS = frozenset({"limit", "offset", "totalCount", "minChangeVersion", "maxChangeVersion"})
INT32 = (-(2**31), 2**31 - 1)

DESCRIPTORS_SWAGGER: dict[str, Any] = {
    "openapi": "3.0.1",
    "info": {"title": "Ed-Fi Descriptors API (3.3)", "version": "3.3"},
    "paths": {},
    "components": {"schemas": {}},
    "tags": [],
}


@dataclass(frozen=True)
class ResourceSpec:
    """One served resource: its swagger schema, the ODS entity name used in messages, its natural key."""

    name: str
    schema: str
    entity: str
    key: tuple[str, ...]
    order: int


COHORTS = ResourceSpec(
    "cohorts",
    "edFi_cohort",
    "Cohort",
    ("cohortIdentifier", "educationOrganizationReference.educationOrganizationId"),
    1,
)
ASSOCIATIONS = ResourceSpec(
    "staffCohortAssociations",
    "edFi_staffCohortAssociation",
    "StaffCohortAssociation",
    (
        "beginDate",
        "cohortReference.cohortIdentifier",
        "cohortReference.educationOrganizationId",
        "staffReference.staffUniqueId",
    ),
    2,
)
RESOURCES = {spec.name: spec for spec in (COHORTS, ASSOCIATIONS)}
# The association's cohortReference, in the order of the cohort's key.
COHORT_REFERENCE = ("cohortReference.cohortIdentifier", "cohortReference.educationOrganizationId")


class ApiError(Exception):
    """An ODS-style error answer: HTTP status plus the `message` of the body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class LoggedRequest:
    """One request as the stand-in saw it. `status` None: the connection was closed without an answer."""

    method: str
    path: str
    status: int | None
    refused: bool = False
    query: str = ""

    @property
    def is_data_write(self) -> bool:
        return self.method in WRITE_METHODS and self.path.startswith("/data/")


@dataclass
class Reply:
    """What the handler writes back; `body` None means no body (204), `close` means drop the connection."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    close: bool = False


@dataclass
class _Row:
    body: dict[str, Any]
    etag: str


# ---------------------------------------------------------------------------------------------------------
# Plain helpers: key paths, SQL Server-like comparison, schema cleaning and validation messages.


def _get(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body[part]
    body[last] = value


def _norm(value: Any) -> Any:
    """Compare like SQL Server's default collation (SQL_Latin1_General_CP1_CI_AS): case-insensitive, and
    trailing blanks ignored (ANSI padding)."""
    return value.rstrip(" ").lower() if isinstance(value, str) else value


def _key(body: Mapping[str, Any], paths: Iterable[str]) -> tuple[Any, ...]:
    return tuple(_norm(_get(body, path)) for path in paths)


def _resolve(components: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return components[ref.rsplit("/", 1)[1]]
    return schema


def _clean(value: Any, schema: Mapping[str, Any], components: Mapping[str, Any]) -> Any:
    """Drop nulls, `link`, `_etag` and unknown properties, as the ODS's binder ignores them on input."""
    schema = _resolve(components, schema)
    if isinstance(value, dict) and "properties" in schema:
        known = schema["properties"]
        return {
            name: _clean(item, known[name], components)
            for name, item in value.items()
            if name in known and item is not None and name not in ("link", "_etag")
        }
    if isinstance(value, list) and "items" in schema:
        return [_clean(item, schema["items"], components) for item in value if item is not None]
    return value


def _format_checker() -> FormatChecker:
    """Only the two formats the subset uses: `date` (yyyy-mm-dd) and `int32` (the ODS column is INT)."""
    checker = FormatChecker(formats=())

    @checker.checks("date")
    def _is_date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True

    @checker.checks("int32")
    def _is_int32(value: object) -> bool:
        return not isinstance(value, int) or INT32[0] <= value <= INT32[1]

    return checker


def _describe(error: ValidationError) -> str:
    """One error line in the words of the ODS's data-annotation messages where there is one."""
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"'([^']*)'", error.message)
        name = missing.group(1) if missing else error.message
        return f"{where + '.' if where else ''}{name} is required."
    if error.validator == "maxLength":
        return f"The field {where} must be a string with a maximum length of {error.validator_value}."
    return f"{where or 'body'}: {error.message}"


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}", text))


# ---------------------------------------------------------------------------------------------------------
# The contract read from the swagger.


class _Contract:
    """Validators and GET query parameters of the served resources, read from the swagger subset."""

    def __init__(self, swagger_path: Path) -> None:
        self.raw = swagger_path.read_bytes()
        swagger = json.loads(self.raw)
        self.components = swagger["components"]["schemas"]
        checker = _format_checker()
        self.validators = {
            spec.name: Draft4Validator(
                {"$ref": f"#/components/schemas/{spec.schema}", "components": {"schemas": self.components}},
                format_checker=checker,
            )
            for spec in RESOURCES.values()
        }
        self.query_params = {
            spec.name: self._query_params(swagger, swagger["paths"][f"/ed-fi/{spec.name}"]["get"])
            for spec in RESOURCES.values()
        }

    @staticmethod
    def _query_params(swagger: Mapping[str, Any], get: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        """Name -> schema of every query filter. Refs that do not resolve are skipped: the subset's `offset`
        reads `{"$ref": ""}` (a quoting defect of the official YAML)."""
        params: dict[str, Mapping[str, Any]] = {}
        for param in get.get("parameters", []):
            ref = param.get("$ref")
            if ref is not None:
                if not ref.startswith("#/components/parameters/"):
                    continue
                param = swagger["components"]["parameters"].get(ref.rsplit("/", 1)[1], {})
            if param.get("in") == "query" and param.get("name") not in PAGING_PARAMS:
                params[param["name"]] = param.get("schema", {})
        return params

    def clean_and_check(self, spec: ResourceSpec, body: Any) -> dict[str, Any]:
        """The body as the ODS would store it, or ApiError 400 listing what the schema refuses."""
        if not isinstance(body, dict):
            raise ApiError(400, "The request is invalid. The request body must be a JSON object.")
        if "id" in body:
            raise ApiError(400, "Resource identifiers cannot be assigned by the client.")
        cleaned = _clean(body, {"$ref": f"#/components/schemas/{spec.schema}"}, self.components)
        errors = sorted(self.validators[spec.name].iter_errors(cleaned), key=lambda e: list(e.absolute_path))
        if errors:
            lines = "".join(f"\t{_describe(error)}\n" for error in errors)
            raise ApiError(400, f"Validation of '{spec.entity}' failed.\n{lines}")
        return cleaned


# ---------------------------------------------------------------------------------------------------------
# The stand-in.


class EdFiApiStandIn:
    """The server and its stores. Use as a context manager, or start() / stop()."""

    def __init__(
        self,
        client_id: str = "stand-in-client",
        client_secret: str = "stand-in-secret",
        *,
        years: Iterable[int] | None = None,
        swagger_path: Path = SUBSET_SWAGGER,
        token_max_uses: int | None = None,
    ) -> None:
        """`years`: the school years served (None: any 4-digit year). `token_max_uses`: a token expires after
        that many data requests (None: never), which makes clients go through their 401 re-auth path."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.years = None if years is None else frozenset(int(y) for y in years)
        self.token_max_uses = token_max_uses
        self.contract = _Contract(swagger_path)
        self.request_log: list[LoggedRequest] = []
        self.tokens_issued = 0
        self._lock = threading.RLock()
        self._stores: dict[tuple[int, str], dict[str, _Row]] = {}
        self._keys: dict[tuple[int, str], dict[tuple[Any, ...], str]] = {}
        self._tokens: dict[str, int | None] = {}
        self._writes_left: int | None = None
        self._cut_mode = "close"
        self._etag = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> EdFiApiStandIn:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the stand-in is already running")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.api = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_SECONDS,), name="edfi-api-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket: new connections are refused afterwards."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(JOIN_TIMEOUT)

    def __enter__(self) -> EdFiApiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def data_url(self, year: int, resource: str, resource_id: str | None = None) -> str:
        url = f"{self.base_url}/data/v3/{year}/ed-fi/{resource}"
        return f"{url}/{resource_id}" if resource_id else url

    # -- test hooks --------------------------------------------------------------------------------------

    def records(self, year: int, resource: str, *, with_ids: bool = False) -> list[dict[str, Any]]:
        """What the year's store holds, in insertion order; without `id`/`_etag` unless `with_ids`."""
        with self._lock:
            rows = self._store(year, resource)
            if with_ids:
                return [self._representation(rid, row) for rid, row in rows.items()]
            return [copy.deepcopy(row.body) for row in rows.values()]

    def find_id(self, year: int, resource: str, body: Mapping[str, Any]) -> str | None:
        """The id of the stored record with the natural key of `body` (any casing), or None."""
        with self._lock:
            return self._id_for_key(year, RESOURCES[resource], _key(body, RESOURCES[resource].key))

    def seed(self, year: int, resource: str, body: Mapping[str, Any]) -> str:
        """Upsert directly (as another client would), same rules as POST, not logged nor counted."""
        with self._lock:
            spec = RESOURCES[resource]
            _, rid = self._upsert(year, spec, self.contract.clean_and_check(spec, dict(body)))
            return rid

    def delete_as_someone_else(self, year: int, resource: str, resource_id: str) -> None:
        """Delete as another client would (same 404/409 rules, ApiError), not logged nor counted."""
        with self._lock:
            self._delete(year, RESOURCES[resource], resource_id)

    @property
    def write_count(self) -> int:
        """POST/PUT/DELETE requests on data URLs that were served (any answer but a refusal or a 401)."""
        with self._lock:
            return sum(1 for r in self.request_log if r.is_data_write and not r.refused and r.status != 401)

    def fail_after_writes(self, n: int, mode: str = "close") -> None:
        """After `n` more successful data writes, refuse every request until heal(), as a stopped server
        would: `mode` "close" drops the connection without an answer, "503" answers 503."""
        if mode not in ("close", "503"):
            raise ValueError("mode must be 'close' or '503'")
        with self._lock:
            self._writes_left, self._cut_mode = n, mode

    def heal(self) -> None:
        with self._lock:
            self._writes_left = None

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes invalid (401), as when they expire."""
        with self._lock:
            self._tokens.clear()

    # -- lightbeam ---------------------------------------------------------------------------------------

    def lightbeam_env(self) -> dict[str, str]:
        """The environment variables the config of lightbeam_config() expands for the credentials."""
        return {"EDFI_API_CLIENT_ID": self.client_id, "EDFI_API_CLIENT_SECRET": self.client_secret}

    def lightbeam_config(
        self, year: int, data_dir: Path, *, state_dir: Path | None = None, num_retries: int = 1
    ) -> dict[str, Any]:
        """A lightbeam.yaml (as a dict) for this server. `num_retries` is lightbeam's total number of
        attempts per request; it retries every 5xx with exponential backoff (10 attempts ~ 11 s by default),
        so tests keep it at 1. `verify_ssl` must be present: lightbeam has no default for it."""
        config: dict[str, Any] = {
            "data_dir": str(data_dir),
            "namespace": "ed-fi",
            "edfi_api": {
                "base_url": self.base_url,
                "version": 3,
                "mode": "year_specific",
                "year": year,
                "client_id": "${EDFI_API_CLIENT_ID}",
                "client_secret": "${EDFI_API_CLIENT_SECRET}",
            },
            "connection": {"pool_size": 4, "timeout": 10, "num_retries": num_retries, "verify_ssl": False},
            "force_delete": True,
            "log_level": "INFO",
        }
        if state_dir is not None:
            config["state_dir"] = str(state_dir)
        return config

    def write_lightbeam_yaml(self, path: Path, year: int, data_dir: Path, **options: Any) -> Path:
        """lightbeam_config() written as YAML to `path` (options: state_dir, num_retries)."""
        path.write_text(yaml.safe_dump(self.lightbeam_config(year, data_dir, **options), sort_keys=False))
        return path

    # -- request handling (called by _Handler) -----------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Serve one request under the lock and log it."""
        parts = urlsplit(target)
        with self._lock:
            if self._writes_left == 0:
                return self._refuse(LoggedRequest(method, parts.path, None, True, parts.query))
            try:
                reply = self._route(method, target, headers, body)
            except ApiError as error:
                reply = _error(error.status, error.message)
            except (
                Exception
            ) as error:  # a bug of the stand-in: answer like the ODS does, do not kill the thread
                reply = _error(500, f"An unexpected error occurred on the server: {error!r}")
            logged = LoggedRequest(method, parts.path, reply.status, False, parts.query)
            self.request_log.append(logged)
            if logged.is_data_write and 200 <= reply.status < 300 and self._writes_left is not None:
                self._writes_left -= 1
            return reply

    def _refuse(self, logged: LoggedRequest) -> Reply:
        """The server is 'down' (fail_after_writes): drop the connection, or answer 503."""
        reply = Reply(close=True) if self._cut_mode == "close" else _error(503, "Service Unavailable")
        logged.status = None if reply.close else 503
        self.request_log.append(logged)
        return reply

    def _route(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if path == "/" and method == "GET":
            return Reply(body=self._discovery())
        if path == "/metadata" and method == "GET":
            return Reply(body=self._openapi_metadata())
        if re.fullmatch(r"/metadata/data/v3(/\d{4})?/dependencies", path) and method == "GET":
            return Reply(body=self._dependencies())
        swagger = re.fullmatch(r"/metadata/data/v3(?:/(\d{4}))?/(resources|descriptors)/swagger\.json", path)
        if swagger and method == "GET":
            return self._swagger(swagger.group(2))
        if path == "/oauth/token" and method == "POST":
            return self._token(headers, body)
        data = re.fullmatch(r"/data/v3/([^/]+)/ed-fi/([^/]+)(?:/([^/]+))?", path)
        if data:
            self._authorize(headers)
            return self._data(method, data.groups(), parse_qs(parts.query), body)
        raise ApiError(404, f"No route matches {method} {path}.")

    # -- metadata ----------------------------------------------------------------------------------------

    def _discovery(self) -> dict[str, Any]:
        base = self.base_url
        return {
            "version": "5.3",
            "informationalVersion": "5.3",
            "suite": "3",
            "apiMode": "Year Specific",
            "dataModels": [{"name": "Ed-Fi", "version": "3.3.1-b"}],
            "urls": {
                "dependencies": f"{base}/metadata/data/v3/dependencies",
                "openApiMetadata": f"{base}/metadata/",
                "oauth": f"{base}/oauth/token",
                "dataManagementApi": f"{base}/data/v3/",
            },
        }

    def _openapi_metadata(self) -> list[dict[str, str]]:
        """A Resources and a Descriptors entry per served year (year-less URLs when any year is served)."""
        prefixes = [f"{year}/" for year in sorted(self.years)] if self.years else [""]
        return [
            {
                "name": name.title(),
                "endpointUri": f"{self.base_url}/metadata/data/v3/{prefix}{name}/swagger.json",
                "prefix": prefix.rstrip("/"),
            }
            for prefix in prefixes
            for name in ("resources", "descriptors")
        ]

    def _dependencies(self) -> list[dict[str, Any]]:
        return [
            {"resource": f"/ed-fi/{spec.name}", "order": spec.order, "operations": ["Create", "Update"]}
            for spec in RESOURCES.values()
        ]

    def _swagger(self, component: str) -> Reply:
        if component == "resources":
            return Reply(raw=self.contract.raw)
        return Reply(body=DESCRIPTORS_SWAGGER)

    # -- oauth -------------------------------------------------------------------------------------------

    def _token(self, headers: Mapping[str, str], body: bytes) -> Reply:
        form = _form(headers, body)
        client_id, client_secret = _basic_auth(headers) or (form.get("client_id"), form.get("client_secret"))
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return Reply(401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        token = secrets.token_hex(16)
        self._tokens[token] = self.token_max_uses
        self.tokens_issued += 1
        return Reply(body={"access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "bearer"})

    def _authorize(self, headers: Mapping[str, str]) -> None:
        """401 unless a live bearer token is presented; a token with a use limit spends one use."""
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if token not in self._tokens:
            raise ApiError(401, "Authorization denied. The access token is invalid or has expired.")
        uses = self._tokens[token]
        if uses is not None:
            if uses <= 1:
                del self._tokens[token]
            else:
                self._tokens[token] = uses - 1

    # -- data --------------------------------------------------------------------------------------------

    def _data(self, method: str, groups: tuple[str, ...], query: dict[str, list[str]], body: bytes) -> Reply:
        year_text, resource, resource_id = groups
        if not _is_year(year_text) or (self.years is not None and int(year_text) not in self.years):
            raise ApiError(404, f"School year '{year_text}' is not served by this API.")
        spec = RESOURCES.get(resource)
        if spec is None:
            raise ApiError(404, f"The resource '{resource}' is not served by this API.")
        year = int(year_text)
        if resource_id is None:
            return self._collection(method, year, spec, query, body)
        return self._item(method, year, spec, resource_id, body)

    def _collection(
        self, method: str, year: int, spec: ResourceSpec, query: dict[str, list[str]], body: bytes
    ) -> Reply:
        if method == "GET":
            return self._get_collection(year, spec, query)
        if method == "POST":
            cleaned = self.contract.clean_and_check(spec, _json_body(body))
            status, rid = self._upsert(year, spec, cleaned)
            etag = self._store(year, spec.name)[rid].etag
            return Reply(status, None, {"Location": self.data_url(year, spec.name, rid), "ETag": f'"{etag}"'})
        raise ApiError(405, f"The requested resource does not support http method '{method}'.")

    def _item(self, method: str, year: int, spec: ResourceSpec, rid: str, body: bytes) -> Reply:
        if method == "GET":
            row = self._store(year, spec.name).get(rid)
            if row is None:
                raise ApiError(404, "The requested resource could not be found.")
            return Reply(body=self._representation(rid, row))
        if method == "PUT":
            etag = self._put(year, spec, rid, _json_body(body))
            return Reply(204, None, {"ETag": f'"{etag}"'})
        if method == "DELETE":
            self._delete(year, spec, rid)
            return Reply(204)
        raise ApiError(405, f"The requested resource does not support http method '{method}'.")

    def _get_collection(self, year: int, spec: ResourceSpec, query: dict[str, list[str]]) -> Reply:
        limit = _int_param(query, "limit", DEFAULT_LIMIT)
        offset = _int_param(query, "offset", 0)
        if not 0 <= limit <= MAX_LIMIT:
            raise ApiError(400, f"Limit must be omitted or set to a value between 0 and {MAX_LIMIT}.")
        if offset < 0:
            raise ApiError(400, "Offset cannot be a negative value.")
        filters = self._filters(spec, query)
        matches = [
            self._representation(rid, row)
            for rid, row in self._store(year, spec.name).items()
            if all(_matches(_lookup(rid, row.body, name), wanted) for name, wanted in filters.items())
        ]
        headers = (
            {"Total-Count": str(len(matches))} if _first(query, "totalCount", "").lower() == "true" else {}
        )
        return Reply(body=matches[offset : offset + limit], headers=headers)

    def _filters(self, spec: ResourceSpec, query: dict[str, list[str]]) -> dict[str, Any]:
        """Query values parsed by the swagger type of each known filter; unknown parameters are ignored."""
        known = self.contract.query_params[spec.name]
        return {
            name: _parse_filter(name, values[0], known[name])
            for name, values in query.items()
            if name in known
        }

    # -- store operations (callers hold the lock) --------------------------------------------------------

    def _store(self, year: int, resource: str) -> dict[str, _Row]:
        if resource not in RESOURCES:
            raise KeyError(f"unknown resource {resource!r}; served: {sorted(RESOURCES)}")
        return self._stores.setdefault((int(year), resource), {})

    def _next_etag(self) -> str:
        self._etag += 1
        return str(5250549403139467000 + self._etag)

    def _representation(self, rid: str, row: _Row) -> dict[str, Any]:
        return {"id": rid, **copy.deepcopy(row.body), "_etag": row.etag}

    def _index(self, year: int, spec: ResourceSpec) -> dict[tuple[Any, ...], str]:
        """Normalized natural key -> id. Stored keys never change (see _keep_key), so it only grows on
        insert and shrinks on delete."""
        return self._keys.setdefault((int(year), spec.name), {})

    def _id_for_key(self, year: int, spec: ResourceSpec, key: tuple[Any, ...]) -> str | None:
        return self._index(year, spec).get(key)

    def _check_references(self, year: int, spec: ResourceSpec, body: Mapping[str, Any]) -> None:
        """The association -> cohort foreign key (staff and education organizations are assumed to exist)."""
        if spec is ASSOCIATIONS and self._id_for_key(year, COHORTS, _key(body, COHORT_REFERENCE)) is None:
            raise ApiError(409, "The value supplied for the related 'cohort' resource does not exist.")

    def _upsert(self, year: int, spec: ResourceSpec, body: dict[str, Any]) -> tuple[int, str]:
        """POST: 201 and a new id, or 200 when a record with the same natural key exists (whose key keeps
        its first spelling)."""
        self._check_references(year, spec, body)
        store = self._store(year, spec.name)
        rid = self._id_for_key(year, spec, _key(body, spec.key))
        if rid is None:
            rid = uuid.uuid4().hex
            store[rid] = _Row(body, self._next_etag())
            self._index(year, spec)[_key(body, spec.key)] = rid
            return 201, rid
        store[rid] = _Row(_keep_key(store[rid].body, body, spec), self._next_etag())
        return 200, rid

    def _put(self, year: int, spec: ResourceSpec, rid: str, raw_body: Any) -> str:
        """PUT by id: the body's `id` is ignored; a changed natural key is refused (no cascade in DS 3.3)."""
        store = self._store(year, spec.name)
        if rid not in store:
            raise ApiError(404, "Resource to update was not found.")
        if isinstance(raw_body, dict):
            raw_body = {k: v for k, v in raw_body.items() if k != "id"}
        body = self.contract.clean_and_check(spec, raw_body)
        if _key(body, spec.key) != _key(store[rid].body, spec.key):
            raise ApiError(
                400,
                "Key values for this resource cannot be changed. "
                "Delete and recreate the resource item instead.",
            )
        self._check_references(year, spec, body)
        store[rid] = _Row(_keep_key(store[rid].body, body, spec), self._next_etag())
        return store[rid].etag

    def _delete(self, year: int, spec: ResourceSpec, rid: str) -> None:
        store = self._store(year, spec.name)
        if rid not in store:
            raise ApiError(404, "Resource to delete was not found.")
        if spec is COHORTS:
            key = _key(store[rid].body, COHORTS.key)
            if any(
                _key(row.body, COHORT_REFERENCE) == key
                for row in self._store(year, ASSOCIATIONS.name).values()
            ):
                raise ApiError(
                    409,
                    "The resource (or a subordinate entity of the resource) cannot be deleted "
                    "because it is a dependency of the 'staffCohortAssociation' entity.",
                )
        del self._index(year, spec)[_key(store[rid].body, spec.key)]
        del store[rid]


# ---------------------------------------------------------------------------------------------------------
# Request parsing helpers.


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"message": message})


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"The request is invalid. The body is not JSON: {error}") from None


def _form(headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """Token request fields: a form body (what clients send) or a JSON body (which the ODS also takes)."""
    text = body.decode("utf-8", "replace")
    if "json" in headers.get("Content-Type", ""):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return {}
        return {k: str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return {name: values[0] for name, values in parse_qs(text).items()}


def _basic_auth(headers: Mapping[str, str]) -> tuple[str, str] | None:
    auth = headers.get("Authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
    except ValueError:
        return None
    return client_id, secret


def _bad_param(name: str, text: str) -> ApiError:
    return ApiError(400, f"The request is invalid. The value '{text}' is not valid for {name}.")


def _first(query: Mapping[str, list[str]], name: str, default: str) -> str:
    return query.get(name, [default])[0]


def _int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
    text = _first(query, name, str(default))
    try:
        return int(text)
    except ValueError:
        raise _bad_param(name, text) from None


def _parse_filter(name: str, text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise _bad_param(name, text) from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise _bad_param(name, text)
        return text.lower() == "true"
    return _norm(text)


def _lookup(rid: str, body: Mapping[str, Any], name: str) -> Any:
    """A flattened query name's value: a top-level field, else the field inside one of the references."""
    if name == "id":
        return rid
    if name in body and not isinstance(body[name], dict | list):
        return body[name]
    for value in body.values():
        if isinstance(value, dict) and name in value:
            return value[name]
    return None


def _matches(value: Any, wanted: Any) -> bool:
    return _norm(value) == wanted


def _keep_key(old: Mapping[str, Any], new: dict[str, Any], spec: ResourceSpec) -> dict[str, Any]:
    """The new body with the stored key values: an upsert matched case-insensitively does not rename a key."""
    merged = copy.deepcopy(new)
    for path in spec.key:
        _set(merged, path, _get(old, path))
    return merged


# ---------------------------------------------------------------------------------------------------------
# HTTP plumbing.


class _Handler(BaseHTTPRequestHandler):
    """Reads the whole request, lets the stand-in answer it, writes the answer (HTTP/1.0: one per connection,
    so no idle keep-alive connection outlives stop() or races a client reusing it)."""

    protocol_version = "HTTP/1.0"
    timeout = 10  # a client that connects and sends nothing does not hold a thread forever
    server_version = "EdFiApiStandIn/5.3"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.api.handle(self.command, self.path, self.headers, body)  # type: ignore[attr-defined]
        self.close_connection = True
        if reply.close:
            return
        payload = reply.raw if reply.raw is not None else b""
        if reply.raw is None and reply.body is not None:
            payload = json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's signature)
        """Quiet: the stand-in keeps its own request_log."""


# ---------------------------------------------------------------------------------------------------------
# Running the real lightbeam CLI.


def run_lightbeam(
    command: str,
    config: Path,
    *,
    env: Mapping[str, str],
    extra_args: Iterable[str] = (),
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """`lightbeam <command> -c <config> ...` in a subprocess of this venv's Python, bounded by `timeout`.

    lightbeam's exit codes: 0 done; 1 `send` where every payload failed; 99 `send` where every payload was
    skipped (state_dir hashlog); 255 any logged ERROR/CRITICAL (its log handler raises SystemExit(-1)).
    """
    args = [sys.executable, "-m", "lightbeam", command, "-c", str(config), *extra_args]
    return subprocess.run(
        args,
        env={**os.environ, **env},
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
