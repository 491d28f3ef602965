"""The generator's core: the context every document module draws from and writes through.

`Context` holds the random stream and the id counter (every draw goes through it, in a fixed order, so
the same seed gives the same bytes), the open table writers (`emit`), and the shared state documents read
from each other (schools, users, groups, rubrics, templates, assignments). The domain records below are the
parts of shared documents that later documents need.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.contract import Table

from .vocabulary import HTML, SENTENCES, WORDS

if TYPE_CHECKING:
    from .writer import TableWriter

T, F = "true", "false"  # the contract's booleans
CHUNK_IDS = 1 << 28  # ids per chunk of educators (an educator uses a few hundred)
# Dialect cases (contract section 3): a BOM on these files, CRLF record ends on those.
BOM_TABLES = frozenset({"users"})
CRLF_TABLES = frozenset(
    {"observations.activityMeetingNotes.content", "groups.reports", "slos.answers.details", "ratings"}
)

EPOCH_DAY0 = dt.date(1990, 1, 1)  # dates are looked up, not formatted: 1990-01-01 .. 2039
DAY_STR = tuple((EPOCH_DAY0 + dt.timedelta(days=i)).isoformat() for i in range(366 * 50))
DAY0_ORD = (EPOCH_DAY0 - dt.date(1970, 1, 1)).days


def epoch(y: int, m: int, d: int) -> float:
    return float(((dt.date(y, m, d) - dt.date(1970, 1, 1)).days) * 86400)


def school_year_span(year: int) -> tuple[float, float]:
    """A school year ending in `year` runs from August 1 of the year before to June 30."""
    return epoch(year - 1, 8, 1), epoch(year, 6, 30)


class SampleError(RuntimeError, ValueError):
    """Bad parameters, or a folder the generator must not touch (a RuntimeError: the CLI prints it)."""


class GenerationError(RuntimeError):
    """The generator cannot fill a contract column (a contract change it does not know how to follow)."""


# ----------------------------------------------------------------------------------------- domain records
@dataclass
class School:
    id: str
    name: str
    short: str
    state_id: str
    observers: list[int] = field(default_factory=list)
    learner_groups: list[str] = field(default_factory=list)
    observer_groups: list[str] = field(default_factory=list)


@dataclass
class User:
    index: int
    id: str
    school: int
    observer: bool


@dataclass
class Rubric:
    id: str
    levels: list[tuple[str, str, float]]  # (id, name, score)
    scored: list[str]  # ids of indicators observers rate
    lines: dict[tuple[str, int], int]  # (indicator id, level index) -> number of sub-item lines
    all_indicators: list[str]


@dataclass
class Element:
    id: str
    type: str
    choices: list[tuple[str, str]]  # (id, value)


@dataclass
class Step:
    id: str
    type: str
    assignee: str
    elements: list[Element]


@dataclass
class Activity:
    id: str
    type: str
    rubric: str | None
    steps: list[Step]


@dataclass
class Template:
    id: str
    type: str
    rubric: str
    year: int
    activities: list[Activity]


@dataclass
class Work:
    """One work of an observation, as its snapshots capture it."""

    index: int
    id: str
    activity: Activity
    status: str
    scores: list[tuple[str, int, str]]  # (indicator id, level index, evidence narrative)


@dataclass
class SloElement:
    id: str
    section: str
    type: str
    choices: list[str]


# ------------------------------------------------------------------------------------------------ context
class Context:
    """The generator's state: random stream, ids, open tables, and the shared documents' records."""

    def __init__(
        self, out_dir: Path, educators: int, seed: int, tables: Sequence[Table], chunk_educators: int
    ) -> None:
        self.seed = seed
        self.seen_cases: set[str] = set()
        self.force_cases = True
        self.obs_count = 0
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.out_dir = out_dir
        self.n = educators
        self.tables = {t.name: t for t in tables}
        self.next_id = 0x3A7
        self.org_id = self.oid()
        self.district_slug = "maplevalley"
        self.outs: dict[str, TableWriter] = {}
        self.schools: list[School] = []
        self.users: list[User] = []
        self.groups_by_year: dict[int, list[str]] = {}
        self.group_year: dict[str, int] = {}
        self.rubrics: list[Rubric] = []
        self.templates: list[Template] = []
        self.assignments: dict[int, list[str]] = {}
        self.slo_templates: list[tuple[str, list[SloElement]]] = []
        # set by the shared documents, read by the educators' ones
        self.observers: list[int] = []  # indexes of the users who observe
        self.all_groups: list[str] = []
        self.report_group: str | None = None
        # the run's chunks: each starts from the shared documents' id pools
        self.chunk_educators = chunk_educators
        self.shared_pools: dict[str, list[str]] = {}
        # one educator's complete observation per school year (their end-of-year classification cites it)
        self.user_obs: dict[int, str] = {}

    @contextmanager
    def stream(self, name: str) -> Iterator[None]:
        """Draw from a random stream of its own, so shared documents (rubrics, templates) do not depend on the
        size: the rubric an observation is scored on then weighs the same at every size (linear growth)."""
        saved = self.rng, self.rnd
        self.rng = random.Random(f"{self.seed}:{name}")
        self.rnd = self.rng.random
        try:
            yield
        finally:
            self.rng, self.rnd = saved

    def first(self, case: str) -> bool:
        """True the first time a case is asked for: even a five-educator sample has a row in every table."""
        if not self.force_cases or case in self.seen_cases:
            return False
        self.seen_cases.add(case)
        return True

    # ---------------------------------------------------------------- primitives (hot paths: keep cheap)
    def oid(self) -> str:
        """A unique ObjectId-shaped id: 8 hex of a creation-like second, then a counter."""
        n = self.next_id
        self.next_id = n + 1
        # the creation-like part grows within a chunk (ids of chunk k start at (k + 1) * CHUNK_IDS)
        seconds = 0x5F1E2A00 + (n % CHUNK_IDS) * 53
        return f"{seconds & 0xFFFFFFFF:08x}{(n * 2654435761) & 0xFFFFFF:06x}{n:010x}"

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.rnd() * len(seq))]

    def randint(self, lo: int, hi: int) -> int:
        return lo + int(self.rnd() * (hi - lo + 1))

    def ts(self, t: float) -> str:
        s = int(t)
        ms = int((t - s) * 1000)
        d, r = divmod(s, 86400)
        return f"{DAY_STR[d - DAY0_ORD]}T{r // 3600:02d}:{r % 3600 // 60:02d}:{r % 60:02d}.{ms:03d}Z"

    def date(self, t: float) -> str:
        return DAY_STR[int(t) // 86400 - DAY0_ORD]

    def between(self, lo: float, hi: float) -> float:
        return lo + self.rnd() * (hi - lo)

    def later(self, t: float, max_days: float = 14.0) -> float:
        return t + self.rnd() * max_days * 86400 + 60

    def year_time(self, year: int) -> float:
        lo, hi = school_year_span(year)
        return self.between(lo, hi)

    def text(self, lo: int = 1, hi: int = 3, multiline: float = 0.3, crlf: bool = False) -> str:
        k = self.randint(lo, hi)
        parts = [self.pick(SENTENCES) for _ in range(k)]
        if self.rnd() < 0.05:
            parts.append(self.pick(HTML))
        if k > 1 and self.rnd() < multiline:
            return ("\r\n" if crlf and self.rnd() < 0.5 else "\n").join(parts)
        return " ".join(parts)

    def maybe(self, value: Any, p_empty: float = 0.15) -> Any:
        return "" if self.rnd() < p_empty else value

    def words(self, lo: int = 2, hi: int = 4) -> str:
        return " ".join(self.pick(WORDS) for _ in range(self.randint(lo, hi))).capitalize()

    def doc_meta(
        self, created: float, p_deleted: float = 0.02, deleted: bool | None = None
    ) -> dict[str, Any]:
        """createdAt <= updatedAt (<= deletedAt): the closing columns of every top-level table."""
        updated = created if self.rnd() < 0.4 else self.later(created, 60)
        if deleted is None:
            deleted = self.rnd() < p_deleted
        meta = {"createdAt": self.ts(created), "updatedAt": self.ts(updated), "deleted": F, "deletedAt": ""}
        if deleted:
            meta["updatedAt"] = meta["deletedAt"] = self.ts(self.later(updated, 30))
            meta["deleted"] = T
        return meta

    def child(self, root: str, parent: str, index: int) -> dict[str, Any]:
        return {"_rootId": root, "_parentId": parent, "_index": index}

    def emit(self, table: str, values: dict[str, Any]) -> None:
        out = self.outs.get(table)
        if out is not None:  # a table the contract no longer has is skipped
            out.row(values)

    def values_list(self, table: str, root: str, parent: str, values: Sequence[Any]) -> None:
        for i, v in enumerate(values):
            self.emit(table, {"_rootId": root, "_parentId": parent, "_index": i, "value": v})
