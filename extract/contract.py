"""The EdReflect Offboarding Data Product contract, read from its one definition.

`seeds/edreflect_contract.csv` (one row per column of every table) is the single source of truth: the
loader, the dbt code generator, the sample generator and the Great Expectations suites all read it
through this module, so adding a column to the contract is a one-line change there.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _project_root() -> Path:
    """The project folder (dbt_project.yml, models/, seeds/; the default home of the warehouse, output and
    logs): PROJECT_DIR when set, else the checkout this package runs from, else (a package installed
    elsewhere) the current folder. `build`, `dbt` and `docs` refuse to run without a dbt project there."""
    named = os.environ.get("PROJECT_DIR", "").strip()
    if named:
        return Path(named).expanduser().resolve()
    if (_CHECKOUT / "dbt_project.yml").is_file():
        return _CHECKOUT
    return Path.cwd()


PROJECT_ROOT = _project_root()
# seeds/edreflect_contract.csv, shipped inside the package (a link to the seed in the checkout), so the
# installed CLI reads the same contract wherever it runs.
CONTRACT_CSV = Path(__file__).resolve().parent / "edreflect_contract.csv"

FILE_GROUPS: tuple[str, ...] = (
    "artifacts",
    "assignments",
    "eoy.Classifications",
    "evidences",
    "goals",
    "groups",
    "observationTemplates",
    "observations",
    "ratings",
    "rubrics",
    "sloTemplates",
    "slos",
    "snapshots",
    "users",
)
OPTIONAL_GROUPS: frozenset[str] = frozenset({"eoy.Classifications", "goals", "sloTemplates", "slos"})
# Files of rubric indicator levels 3 and 4 exist only when some rubric is that deep (contract section 6).
OPTIONAL_TABLES: frozenset[str] = frozenset(
    {
        "rubrics.indicators.indicators.indicators",
        "rubrics.indicators.indicators.indicators.proficiencyLevels",
        "rubrics.indicators.indicators.indicators.indicators",
        "rubrics.indicators.indicators.indicators.indicators.proficiencyLevels",
    }
)
LINKAGE_COLUMNS: tuple[str, ...] = ("_rootId", "_parentId", "_index")
# Lineage columns the loader adds to every raw table (never in the contract).
LINEAGE_COLUMNS: tuple[str, ...] = ("_source_file", "_source_line", "_load_id", "_loaded_at")
TYPES = frozenset({"objectid", "string", "text", "integer", "number", "boolean", "timestamp", "date"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str

    @property
    def snake_name(self) -> str:
        return snake_case(self.name)

    @property
    def enum_values(self) -> tuple[str, ...] | None:
        """Allowed values when the description starts `a | b | c` (contract section 4)."""
        head = self.description.split(" (", 1)[0].split(";", 1)[0]
        if " | " not in head:
            return None
        parts = [p.strip() for p in head.split("|")]
        if all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", p) for p in parts):
            return tuple(parts)
        return None

    @property
    def reference(self) -> str | None:
        """`users._id` for a column described `references users._id ...`, else None."""
        m = re.search(r"references ([A-Za-z.]+)\._id", self.description)
        if m:
            return m.group(1)
        if "references a rubric indicator _id at any level" in self.description:
            return "rubrics.indicators*"
        return None


@dataclass(frozen=True)
class Table:
    """One contract table (one CSV file)."""

    name: str  # the contract's dotted name, e.g. `observations.work.steps`
    file_group: str
    columns: tuple[Column, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def relative_path(self) -> str:
        return f"{self.file_group}/{self.file_name}"

    @property
    def is_top_level(self) -> bool:
        return self.name == self.file_group

    @property
    def is_optional(self) -> bool:
        return self.file_group in OPTIONAL_GROUPS or self.name in OPTIONAL_TABLES

    @property
    def has_own_id(self) -> bool:
        return "_id" in self.column_names

    @property
    def path(self) -> tuple[str, ...]:
        """Array path below the collection: `observations.work.steps` -> (`work`, `steps`)."""
        rest = self.name[len(self.file_group) :].lstrip(".")
        return tuple(rest.split(".")) if rest else ()

    @property
    def parent_name(self) -> str | None:
        """The contract table holding this array's parent item, or None for a top-level table.

        Sub-objects have no table (`users.bloomList.items` -> `users`), so walk up to a table that exists.
        """
        if self.is_top_level:
            return None
        names = table_names()
        segments = self.path[:-1]
        while segments:
            candidate = ".".join((self.file_group, *segments))
            if candidate in names:
                return candidate
            segments = segments[:-1]
        return self.file_group

    @property
    def key(self) -> str:
        """Identifier-safe snake_case name: `observations__work__steps`, `eoy_classifications`."""
        return "__".join((snake_case(self.file_group.replace(".", "_")), *(snake_case(p) for p in self.path)))

    @property
    def raw_relation(self) -> str:
        return f"raw.{self.key}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def snake_case(name: str) -> str:
    """`name.first` -> `name_first`, `_rootId` -> `root_id`, `createdAt` -> `created_at`."""
    s = name.lstrip("_").replace(".", "_")
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", s)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


@cache
def load_contract(path: Path = CONTRACT_CSV) -> dict[str, Table]:
    """All contract tables by dotted name, in the contract's order."""
    grouped: dict[str, list[Column]] = {}
    groups: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["data_type"] not in TYPES:
                raise ValueError(
                    f"{path}: unknown type {row['data_type']!r} for {row['table_name']}.{row['column_name']}"
                )
            grouped.setdefault(row["table_name"], []).append(
                Column(
                    name=row["column_name"],
                    type=row["data_type"],
                    nullable=row["is_nullable"] == "true",
                    description=row["description"],
                )
            )
            groups[row["table_name"]] = row["file_group"]
    return {
        name: Table(name=name, file_group=groups[name], columns=tuple(cols)) for name, cols in grouped.items()
    }


def table_names() -> frozenset[str]:
    return frozenset(load_contract())


def tables() -> list[Table]:
    return list(load_contract().values())


def tables_in_group(group: str) -> list[Table]:
    return [t for t in tables() if t.file_group == group]


def table(name: str) -> Table:
    try:
        return load_contract()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a table of the contract") from None
