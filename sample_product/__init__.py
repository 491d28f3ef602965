"""Generated sample EdReflect data products, from half a megabyte (5 educators) to several GB.

Why generate instead of shipping files: the pipeline, its tests and its benchmarks need a product that
follows the contract exactly (every group, every table, every reference resolving) at any size, with the
awkward cases a real delivery has (BOM, CRLF, quoted multi-line text, soft deletes, long or padded group
names, odd categories, users without a state staff id, rubrics four levels deep). Nothing here is real data.

How it works:
- The table and column lists come from `extract.contract`, so a contract change flows through: every
  contract column gets a value, from the domain logic below where realism needs it (ids that resolve, dates
  in order, rubric levels and sub-items that match) and otherwise from a generic generator driven by the
  column's type, enumeration, reference and nullability.
- Output is streamed: every file is open at once and one educator's documents (user, observations, ratings,
  snapshots, evidences, goals, SLOs, ...) are written together, so memory stays flat and the size grows
  linearly with `educators`. Schools, groups and assignments scale with `educators` too; the district's
  configuration (rubrics, observation and SLO templates) is a fixed handful, as in a real district. Shared
  documents are kept in memory (they are small).
- Deterministic: `random.Random(seed)` drives everything (the district configuration draws from named
  streams derived from the seed, so it is the same at every size); no clock, no global random state, so the
  same seed and size give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import hashlib
import json
import multiprocessing
import operator
import os
import random
import shutil
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from extract import contract
from extract.contract import Column, Table

# Bump when the generated content changes, so `ensure_sample` rebuilds stale samples.
GENERATOR_VERSION = 1
STAMP_FILE = ".sample.json"
INCOMPLETE_FILE = ".sample.incomplete"  # present while `generate` writes: a killed run may be overwritten

# Dialect cases (contract section 3): a BOM on these files, CRLF record ends on those.
BOM_TABLES = frozenset({"users"})
CRLF_TABLES = frozenset(
    {"observations.activityMeetingNotes.content", "groups.reports", "slos.answers.details", "ratings"}
)

RUBRICS, TEMPLATES, SLO_TEMPLATES = 3, 7, 2
# Measured with the embedded sample's seed: CSV bytes per educator (slope) and the size-independent part
# (negligible at scale). Measured (MB = 10^6 B): 4,782 educators = 249.1 MB, 9,564 = 499.0 MB,
# 19,128 = 998.4 MB; 50,000 educators = about 2.6 GB. 1 GB takes about 47 s of CPU, spread over the cores.
BYTES_PER_EDUCATOR = 52_280
FIXED_BYTES = 0
# Educators are generated in chunks of this size, each with its own random stream and id range.
CHUNK_EDUCATORS = 2000
_CHUNK_IDS = 1 << 28  # ids per chunk (an educator uses a few hundred)
_PARTS_DIR = ".parts"
_T, _F = "true", "false"
_MISSING = object()
_POOL_CAP = 4096  # ids kept per table for the generic reference filler
_BUFFER = 1 << 17

# ---------------------------------------------------------------------------------------------- vocabularies
_FIRST = (
    "Dana",
    "Marcus",
    "Elena",
    "Tom",
    "Priya",
    "Aisha",
    "Ben",
    "Carmen",
    "Deshawn",
    "Emily",
    "Farah",
    "Gabriel",
    "Hannah",
    "Ivan",
    "Jasmine",
    "Kenji",
    "Laura",
    "Mateo",
    "Nora",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tanya",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yusuf",
    "Zoe",
    "Chloé",
    "José",
    "Søren",
    "Anne-Marie",
    "Björn",
    "Mei",
    "Ngozi",
    "Patrick",
    "Rachel",
    "Steven",
    "Teresa",
    "Walter",
    "Yolanda",
    "Abdi",
    "Bao",
)
_LAST = (
    "Whitfield",
    "Oyelaran",
    "Ruiz-Peña",
    "Becker",
    "Natarajan",
    "Johnson",
    "Nguyen",
    "O'Brien",
    "García",
    "Schmidt",
    "Kowalski",
    "Hernández",
    "Smith",
    "Lee",
    "Patel",
    "Anderson",
    "Martinez",
    "Thompson",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Perez",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Sanchez",
    "Morris",
    "Rogers",
    "Reed",
    "Cook",
    "Morgan",
    "Bell",
    "Murphy",
    "Bailey",
    "Rivera",
    "Cooper",
    "Richardson",
    "Cox",
    "Howard",
    "Ward",
    "Torres",
    "Peterson",
    "Gray",
    "Ramirez",
    "James",
    "Van der Berg",
    "McAllister",
    "Haddad",
    "Okafor",
    "Larsen",
    "Dubois",
    "Yamamoto",
    "Kim",
    "Ali",
)
_SCHOOL_WORDS = (
    "Cedar",
    "Ridge",
    "Maple",
    "Prairie",
    "Lincoln",
    "Riverside",
    "Oak Hill",
    "Westview",
    "Pine Creek",
    "Sunrise",
    "Lakeside",
    "Meadowlark",
    "Sandhills",
    "Platte Valley",
    "Bluestem",
    "Cottonwood",
    "Heritage",
    "Eastridge",
    "Willow",
    "Stone Bridge",
    "Fairview",
    "Harvest",
    "Aspen",
    "Elkhorn",
)
_SCHOOL_KINDS = (("Elementary School", "ES"), ("Middle School", "MS"), ("High School", "HS"))
_TEACHER_TITLES = (
    "Grade 1 Teacher",
    "Grade 3 Teacher",
    "Grade 5 Teacher",
    "Math Teacher",
    "Science Teacher",
    "English Teacher",
    "Social Studies Teacher",
    "Special Education Teacher",
    "Music Teacher",
    "Art Teacher",
    "Physical Education Teacher",
    "Kindergarten Teacher",
    "ELL Teacher",
    "Librarian",
    "School Counselor",
)
_OBSERVER_TITLES = ("Principal", "Assistant Principal", "Instructional Coach", "Director of Curriculum")
_CONTENT_AREAS = (
    "Mathematics",
    "English Language Arts",
    "Science",
    "Social Studies",
    "Fine Arts",
    "Physical Education",
    "World Languages",
    "Special Education",
    "Career and Technical Education",
    "Health",
)
_GRADES = ("PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
_MIME = (
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("mp4", "video/mp4"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)
_WORDS = (
    "lesson",
    "plan",
    "exit",
    "ticket",
    "unit",
    "fractions",
    "reading",
    "log",
    "lab",
    "report",
    "rubric",
    "reflection",
    "portfolio",
    "anchor",
    "chart",
    "seating",
    "map",
    "parent",
    "letter",
    "data",
    "review",
    "quiz",
    "project",
    "inquiry",
    "station",
    "rotation",
    "vocabulary",
    "journal",
    "writing",
    "sample",
)
_SENTENCES = (
    "Students worked in pairs to compare strategies for adding fractions.",
    'The teacher used strong questioning, with "wait time" before calling on students.',
    "Learning targets were posted and referenced at the start and end of the lesson.",
    "Transitions between stations took less than a minute, and materials were ready.",
    "Two students were off task during independent practice; redirection was quick and respectful.",
    "Exit tickets showed that most students, but not all, met the objective.",
    "Next step: push for evidence, not opinion, in student discussions.",
    "Consider grouping students by the misconceptions seen on Monday's check-in.",
    "The lab procedure was clear; students recorded data in their notebooks.",
    "Feedback on the draft essays was specific, timely and tied to the rubric.",
    "Parent communication log is up to date (12 contacts this quarter).",
    "We agreed to focus on higher-order questions for the next cycle.",
    "Classroom routines are well established; students know where to find supplies.",
    'The co-teacher supported a small group with the reading strategy "chunk and check".',
    "Student talk was 60% of the lesson, which is up from the fall walkthrough.",
    "Differentiation: extension problems were available, but few students reached them.",
    "I would like to try think-pair-share more often, as we discussed.",
    "Great use of formative assessment; whiteboards made thinking visible.",
    "The pacing felt rushed at the end, so closure was skipped.",
    "Artifacts uploaded: lesson plan, student work samples, and the unit assessment.",
    "Per our conversation, the goal is now measurable: 80% proficiency by May.",
    "Reflection: what worked, what didn't, and what I'll change next time.",
    "Observed 9:05-9:50, period 2, Algebra I; 24 students present.",
    "Team meeting notes: review data, set norms, plan the common assessment.",
)
_HTML = (
    "<p>Follow-up walkthrough in <b>two weeks</b>.</p>",
    "<ul><li>Questioning</li><li>Student discourse</li></ul>",
    '<p>See the <a href="https://docs.example.org/plan">shared plan</a>, section 2.</p>',
)
_LOOKFORS = (
    "Content is accurate and current",
    "Plans reflect prerequisite relationships",
    "Anticipates common misconceptions",
    "Connects content to other disciplines",
    "Uses a range of pedagogies",
    "Questions are open-ended",
    "Students explain their thinking",
    "Routines run without prompting",
    "Feedback is specific and timely",
    "Materials are ready in advance",
    "Learning targets are posted",
    "Groups are purposeful",
    "Students self-assess against criteria",
    "Time is used efficiently",
    "Expectations for behavior are clear",
    "All students participate",
)
_LEVEL_SETS = (
    (("Unsatisfactory", "U"), ("Basic", "B"), ("Proficient", "P"), ("Distinguished", "D")),
    (("Ineffective", "I"), ("Developing", "D"), ("Effective", "E"), ("Highly Effective", "HE")),
    (("Beginning", "1"), ("Emerging", "2"), ("Applying", "3"), ("Innovating", "4")),
)
_DOMAINS = (
    "Planning and Preparation",
    "Classroom Environment",
    "Instruction",
    "Professional Responsibilities",
    "Learner and Learning",
    "Content Knowledge",
    "Instructional Practice",
    "Leadership",
)
_COMPONENTS = (
    "Demonstrating Knowledge of Content",
    "Setting Instructional Outcomes",
    "Designing Coherent Instruction",
    "Creating an Environment of Respect",
    "Managing Classroom Procedures",
    "Managing Student Behavior",
    "Communicating with Students",
    "Using Questioning and Discussion",
    "Engaging Students in Learning",
    "Using Assessment in Instruction",
    "Reflecting on Teaching",
    "Communicating with Families",
    "Growing Professionally",
    "Showing Professionalism",
    "Organizing Physical Space",
)
_FORM_QUESTIONS = (
    ("What is the lesson objective?", "text"),
    ("How will you know students learned it?", "textarea"),
    ("Which students need support, and how?", "textarea"),
    ("Describe the lesson sequence, and where students struggled.", "textarea"),
    ("Rate the lesson's pacing", "select"),
    ("Which strategies did you use?", "multiselect"),
    ("I reviewed the rubric before the conference", "checkbox"),
    ("Date of the follow-up", "date"),
    ("Minutes of instruction observed", "number"),
)
_CATEGORIES_MAPPED = (
    "School",
    "District",
    "Classroom",
    "Teacher",
    "Network",
    "Principal",
    "Counselor",
    "Other",
)
_CLASSIFICATIONS = ((1.75, "Ineffective"), (2.5, "Developing"), (3.4, "Effective"), (9.0, "Highly Effective"))


def _ascii(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isalnum() and c.isascii()).lower()


_FIRST_ASCII = tuple(_ascii(n) for n in _FIRST)
_LAST_ASCII = tuple(_ascii(n) for n in _LAST)
_EPOCH_DAY0 = dt.date(1990, 1, 1)  # dates are looked up, not formatted: 1990-01-01 .. 2039
_DAY_STR = tuple((_EPOCH_DAY0 + dt.timedelta(days=i)).isoformat() for i in range(366 * 50))
_DAY0_ORD = (_EPOCH_DAY0 - dt.date(1970, 1, 1)).days


def _epoch(y: int, m: int, d: int) -> float:
    return float(((dt.date(y, m, d) - dt.date(1970, 1, 1)).days) * 86400)


def _school_year_span(year: int) -> tuple[float, float]:
    """A school year ending in `year` runs from August 1 of the year before to June 30."""
    return _epoch(year - 1, 8, 1), _epoch(year, 6, 30)


# --------------------------------------------------------------------------------------------- file writing
class _Out:
    """One contract table's open file: fills every contract column, in contract order.

    Why plans: the domain code passes the same keys at a given call site, so the columns it leaves to the
    generic fillers are worked out once per key set, and a row is then one C-level `itemgetter` call.
    Rows are written in batches (`writerows`) to keep per-row Python overhead low at GB sizes.
    """

    def __init__(self, table: Table, fh: IO[str], crlf: bool, header: bool = True) -> None:
        self.table = table
        self.fh = fh
        self.writer = csv.writer(fh, lineterminator="\r\n" if crlf else "\n")
        self.fillers: dict[str, Callable[[], Any]] = {}
        self.getter = operator.itemgetter(*table.column_names)
        self.plans: dict[tuple[str, ...], tuple[tuple[str, Callable[[], Any]], ...]] = {}
        self.pool: list[str] | None = [] if table.has_own_id else None
        self.pool_open = self.pool is not None
        self.rows = 0
        self.buffer: list[tuple[Any, ...]] = []
        if header:
            self.writer.writerow(table.column_names)

    def row(self, values: dict[str, Any]) -> None:
        keys = tuple(values)
        plan = self.plans.get(keys)
        if plan is None:
            plan = self.plans[keys] = tuple((n, f) for n, f in self.fillers.items() if n not in values)
        for name, filler in plan:
            values[name] = filler()
        buffer = self.buffer
        buffer.append(self.getter(values))
        if len(buffer) >= 512:
            self.flush()
        if self.pool_open:
            self.pool.append(values["_id"])  # type: ignore[union-attr]
            self.pool_open = len(self.pool) < _POOL_CAP  # type: ignore[arg-type]

    def flush(self) -> None:
        self.rows += len(self.buffer)
        self.writer.writerows(self.buffer)
        self.buffer.clear()


class SampleError(RuntimeError, ValueError):
    """Bad parameters, or a folder the generator must not touch (a RuntimeError: the CLI prints it)."""


class GenerationError(RuntimeError):
    """The generator cannot fill a contract column (a contract change it does not know how to follow)."""


# ----------------------------------------------------------------------------------------- domain records
@dataclass
class _School:
    id: str
    name: str
    short: str
    state_id: str
    observers: list[int] = field(default_factory=list)
    learner_groups: list[str] = field(default_factory=list)
    observer_groups: list[str] = field(default_factory=list)


@dataclass
class _User:
    index: int
    id: str
    school: int
    observer: bool


@dataclass
class _Rubric:
    id: str
    levels: list[tuple[str, str, float]]  # (id, name, score)
    scored: list[str]  # ids of indicators observers rate
    lines: dict[tuple[str, int], int]  # (indicator id, level index) -> number of sub-item lines
    all_indicators: list[str]


@dataclass
class _Element:
    id: str
    type: str
    choices: list[tuple[str, str]]  # (id, value)


@dataclass
class _Step:
    id: str
    type: str
    assignee: str
    elements: list[_Element]


@dataclass
class _Activity:
    id: str
    type: str
    rubric: str | None
    steps: list[_Step]


@dataclass
class _Template:
    id: str
    type: str
    rubric: str
    year: int
    activities: list[_Activity]


@dataclass
class _SloElement:
    id: str
    section: str
    type: str
    choices: list[str]


# --------------------------------------------------------------------------------------------- generator
_ACTIVE: _Generator | None = None  # the generator a forked worker inherits


def _chunk_to_parts(k: int) -> None:
    """In a forked worker: write chunk `k`'s rows (no headers) under `<out>/.parts/<k>/`."""
    gen = _ACTIVE
    assert gen is not None
    with gen.open_files(gen.out_dir / _PARTS_DIR / str(k), header=False):
        gen.chunk(k)


class _Generator:
    def __init__(self, out_dir: Path, educators: int, seed: int, tables: Sequence[Table]) -> None:
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
        self.outs: dict[str, _Out] = {}
        self.schools: list[_School] = []
        self.users: list[_User] = []
        self.groups_by_year: dict[int, list[str]] = {}
        self.group_year: dict[str, int] = {}
        self.rubrics: list[_Rubric] = []
        self.templates: list[_Template] = []
        self.assignments: dict[int, list[str]] = {}
        self.slo_templates: list[tuple[str, list[_SloElement]]] = []

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
        # the creation-like part grows within a chunk (ids of chunk k start at (k + 1) * _CHUNK_IDS)
        seconds = 0x5F1E2A00 + (n % _CHUNK_IDS) * 53
        return f"{seconds & 0xFFFFFFFF:08x}{(n * 2654435761) & 0xFFFFFF:06x}{n:010x}"

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.rnd() * len(seq))]

    def randint(self, lo: int, hi: int) -> int:
        return lo + int(self.rnd() * (hi - lo + 1))

    def ts(self, t: float) -> str:
        s = int(t)
        ms = int((t - s) * 1000)
        d, r = divmod(s, 86400)
        return f"{_DAY_STR[d - _DAY0_ORD]}T{r // 3600:02d}:{r % 3600 // 60:02d}:{r % 60:02d}.{ms:03d}Z"

    def date(self, t: float) -> str:
        return _DAY_STR[int(t) // 86400 - _DAY0_ORD]

    def between(self, lo: float, hi: float) -> float:
        return lo + self.rnd() * (hi - lo)

    def later(self, t: float, max_days: float = 14.0) -> float:
        return t + self.rnd() * max_days * 86400 + 60

    def year_time(self, year: int) -> float:
        lo, hi = _school_year_span(year)
        return self.between(lo, hi)

    def text(self, lo: int = 1, hi: int = 3, multiline: float = 0.3, crlf: bool = False) -> str:
        k = self.randint(lo, hi)
        parts = [self.pick(_SENTENCES) for _ in range(k)]
        if self.rnd() < 0.05:
            parts.append(self.pick(_HTML))
        if k > 1 and self.rnd() < multiline:
            return ("\r\n" if crlf and self.rnd() < 0.5 else "\n").join(parts)
        return " ".join(parts)

    def maybe(self, value: Any, p_empty: float = 0.15) -> Any:
        return "" if self.rnd() < p_empty else value

    def words(self, lo: int = 2, hi: int = 4) -> str:
        return " ".join(self.pick(_WORDS) for _ in range(self.randint(lo, hi))).capitalize()

    def doc_meta(
        self, created: float, p_deleted: float = 0.02, deleted: bool | None = None
    ) -> dict[str, Any]:
        """createdAt <= updatedAt (<= deletedAt): the closing columns of every top-level table."""
        updated = created if self.rnd() < 0.4 else self.later(created, 60)
        if deleted is None:
            deleted = self.rnd() < p_deleted
        meta = {"createdAt": self.ts(created), "updatedAt": self.ts(updated), "deleted": _F, "deletedAt": ""}
        if deleted:
            meta["updatedAt"] = meta["deletedAt"] = self.ts(self.later(updated, 30))
            meta["deleted"] = _T
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

    # ---------------------------------------------------------------- generic filler, driven by the contract
    def filler(self, table: Table, col: Column) -> Callable[[], Any]:
        f = self._base_filler(table, col)
        if col.nullable and col.name not in ("deletedAt",):

            def nullable() -> Any:  # self.rnd, not a bound copy: `stream` swaps it
                return "" if self.rnd() < 0.15 else f()

            return nullable
        return f

    def _base_filler(self, table: Table, col: Column) -> Callable[[], Any]:  # noqa: C901 - one branch per kind
        name, typ = col.name, col.type
        if name in contract.LINKAGE_COLUMNS:

            def missing() -> Any:
                raise GenerationError(f"{table.name}.{name}: linkage columns must come from the domain logic")

            return missing
        if name == "_id":
            return self.oid
        if name == "orgId":
            return lambda: self.org_id
        if name == "subOrgId":
            return lambda: self.pick(self.schools).id
        if name == "deleted":
            return lambda: _F
        if name == "deletedAt":
            return lambda: ""
        ref = col.reference
        if ref is not None:
            self._ref_pools(ref)  # fail early on a reference to a table without ids

            def reference() -> Any:
                ids = [p for p in self._ref_pools(ref) if p]
                if not ids:
                    if col.nullable:
                        return ""
                    raise GenerationError(
                        f"{table.name}.{name} references {ref}, with no rows yet: extend sample_product/"
                    )
                pool = self.pick(ids)
                return self.pick(pool)

            return reference
        enum = col.enum_values
        if enum:
            return lambda: self.pick(enum)
        if typ == "objectid":
            return self.oid
        if typ == "boolean":
            return lambda: _T if self.rnd() < 0.5 else _F
        if typ == "integer":
            if name == "schoolYear":
                return lambda: 2025 if self.rnd() < 0.6 else 2024
            return lambda: self.randint(0, 40)
        if typ == "number":
            return lambda: round(self.rnd() * 4, 2)
        if typ == "timestamp":
            return lambda: self.ts(self.year_time(self.pick((2024, 2025))))
        if typ == "date":
            return lambda: self.date(self.year_time(self.pick((2024, 2025))))
        if typ == "text":
            return lambda: self.text(1, 4, crlf=table.name in CRLF_TABLES)
        # string: by the column's name where that says what it holds
        low = name.lower()
        if low.endswith("url"):
            return lambda: f"https://files.edreflect.example.com/{self.district_slug}/{self.oid()}"
        if low.endswith("filename"):
            return lambda: f"{self.words(1, 3).replace(' ', '_').lower()}.{self.pick(_MIME)[0]}"
        if low.endswith("mimetype"):
            return lambda: self.pick(_MIME)[1]
        if low == "email":
            return lambda: f"user{self.randint(1, 99999)}@{self.district_slug}.example.org"
        if low == "code":
            return lambda: f"{self.randint(1, 4)}{self.pick('abcde')}"
        if low == "version":
            return lambda: f"v{self.randint(1, 3)}.{self.randint(0, 9)}"
        return lambda: self.words(1, 4)

    def _ref_pools(self, ref: str) -> list[list[str]]:
        """The id pools of the referenced tables, looked up at each call (a chunk starts from a copy)."""
        names = (
            [
                t
                for t in self.tables
                if t.startswith("rubrics.indicators") and not t.endswith("proficiencyLevels")
            ]
            if ref == "rubrics.indicators*"
            else [ref]
        )
        pools = []
        for n in names:
            out = self.outs.get(n)
            if out is None or out.pool is None:
                raise GenerationError(f"reference to {n}._id, which is not a contract table with an _id")
            pools.append(out.pool)
        return pools

    # ---------------------------------------------------------------- files
    @contextmanager
    def open_files(self, root: Path | None = None, header: bool = True) -> Iterator[None]:
        """Every table's file under `root`; a chunk's part files (header=False) carry rows only."""
        root = self.out_dir if root is None else root
        pools = {name: out.pool for name, out in self.outs.items()}
        handles: list[IO[str]] = []
        try:
            for t in self.tables.values():
                folder = root / t.file_group
                folder.mkdir(parents=True, exist_ok=True)
                fh = open(folder / t.file_name, "w", encoding="utf-8", newline="", buffering=_BUFFER)  # noqa: SIM115
                handles.append(fh)
                if header and t.name in BOM_TABLES:
                    fh.write("\ufeff")
                out = self.outs[t.name] = _Out(t, fh, crlf=t.name in CRLF_TABLES, header=header)
                if pools.get(t.name) is not None:
                    out.pool = pools[t.name]
            for t in self.tables.values():  # fillers may need other tables' pools: after all are open
                self.outs[t.name].fillers = {c.name: self.filler(t, c) for c in t.columns}
            yield
            for out in self.outs.values():
                out.flush()
        finally:
            for fh in handles:
                fh.close()

    # ---------------------------------------------------------------- the product
    def run(self, workers: int) -> None:
        """Shared documents first, then the educators in fixed chunks, in parallel when there are several.

        Why fixed chunks with their own random stream and id range: a chunk's bytes then do not depend on
        which process writes it or on how many workers there are, so output stays byte-identical while the
        GB-sized products use every core. Parts are concatenated in chunk order.
        """
        with self.open_files():
            self.make_schools()
            self.make_users()
            self.make_rubrics()
            self.make_groups()
            self.make_templates()
            self.make_assignments()
            self.make_slo_templates()
            self.shared_pools = {n: list(o.pool) for n, o in self.outs.items() if o.pool is not None}
            chunks = range((self.n + CHUNK_EDUCATORS - 1) // CHUNK_EDUCATORS)
            if workers <= 1 or len(chunks) == 1:
                for k in chunks:
                    self.chunk(k)
                return
        parts = self.out_dir / _PARTS_DIR
        global _ACTIVE
        _ACTIVE = self
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(chunks))) as pool:
                pool.map(_chunk_to_parts, chunks, chunksize=1)
        finally:
            _ACTIVE = None
        for t in self.tables.values():
            with open(self.out_dir / t.relative_path, "ab") as final:
                for k in chunks:
                    part = parts / str(k) / t.relative_path
                    with open(part, "rb") as fh:
                        shutil.copyfileobj(fh, final, 1 << 20)
                    part.unlink()
        shutil.rmtree(parts)

    def chunk(self, k: int) -> None:
        """Educators `k * CHUNK_EDUCATORS ...`: a random stream and an id range of the chunk's own."""
        self.rng = random.Random(f"{self.seed}:educators:{k}")
        self.rnd = self.rng.random
        self.next_id = (k + 1) * _CHUNK_IDS
        self.obs_count = 0
        self.force_cases = k == 0
        for name, out in self.outs.items():
            if out.pool is not None:
                out.pool = list(self.shared_pools[name])
                out.pool_open = len(out.pool) < _POOL_CAP
        for user in self.users[k * CHUNK_EDUCATORS : (k + 1) * CHUNK_EDUCATORS]:
            self.educator(user)

    # scale knobs: everything shared grows with the number of educators
    def make_schools(self) -> None:
        n = max(2, round(self.n / 25))
        for i in range(n):
            word = _SCHOOL_WORDS[i % len(_SCHOOL_WORDS)]
            kind, short_kind = _SCHOOL_KINDS[(i // len(_SCHOOL_WORDS) + i) % len(_SCHOOL_KINDS)]
            suffix = f" {i // len(_SCHOOL_WORDS) + 1}" if i >= len(_SCHOOL_WORDS) else ""
            self.schools.append(
                _School(
                    id=self.oid(),
                    name=f"{word}{suffix} {kind}",
                    short=f"{word.split()[0]}{suffix} {short_kind}",
                    state_id=f"3100-{12 + i * 7:04d}",
                )
            )

    def make_users(self) -> None:
        n_schools = len(self.schools)
        for i in range(self.n):
            school = i % n_schools
            observer = i < n_schools or self.rnd() < 0.06
            u = _User(index=i, id=self.oid(), school=school, observer=observer)
            self.users.append(u)
            if observer:
                self.schools[school].observers.append(i)
        self.observers = [u.index for u in self.users if u.observer]

    # District configuration (rubrics, templates, SLO templates) is a fixed handful at every size, as in a
    # real district: an educator's documents then weigh the same at any size and bytes grow linearly.
    def make_rubrics(self) -> None:
        for r in range(RUBRICS):
            with self.stream(f"rubric:{r}"):
                self.rubric(r)

    def rubric(self, r: int) -> None:
        rid = self.oid()
        year = 2025 if r % 3 != 2 else 2024
        created = self.year_time(year - 1)
        level_set = _LEVEL_SETS[r % len(_LEVEL_SETS)]
        self.emit(
            "rubrics",
            {
                "_id": rid,
                "name": (
                    "Framework for Teaching (district edition)",
                    "Nebraska Teacher Performance Framework",
                    "Specialist Rubric",
                )[r % 3]
                + (f" {r // 3 + 1}" if r >= 3 else ""),
                "version": f"{year - 1}-{year % 100:02d}",
                "audience": ("teacher", "teacher", "specialist")[r % 3],
                "schoolYear": year,
                "isActive": _T if r % 5 != 4 else _F,
                **self.doc_meta(created, p_deleted=0.0),
            },
        )
        levels: list[tuple[str, str, float]] = []
        for i, (lname, short) in enumerate(level_set):
            lid = self.oid()
            levels.append((lid, lname, float(i + 1)))
            self.emit(
                "rubrics.proficiencyLevels",
                {
                    **self.child(rid, rid, i),
                    "_id": lid,
                    "name": lname,
                    "shortName": self.maybe(short, 0.2),
                    "score": i + 1,
                },
            )
        standards = []
        for i in range(self.randint(3, 5)):
            sid = self.oid()
            standards.append(sid)
            self.emit(
                "rubrics.standards",
                {
                    **self.child(rid, rid, i),
                    "_id": sid,
                    "code": f"InTASC {i + 1}",
                    "name": self.pick(_COMPONENTS),
                    "source": self.pick(("InTASC", "Nebraska Teaching Standards", "")),
                },
            )
        rub = _Rubric(id=rid, levels=levels, scored=[], lines={}, all_indicators=[])
        tables = [
            "rubrics.indicators",
            "rubrics.indicators.indicators",
            "rubrics.indicators.indicators.indicators",
            "rubrics.indicators.indicators.indicators.indicators",
        ]

        def indicators(level: int, parent: str, code: str, count: int) -> None:
            for i in range(count):
                iid = self.oid()
                icode = (
                    f"{code}{i + 1}"
                    if level == 1
                    else (f"{code}{'abcdefgh'[i]}" if level == 2 else f"{code}.{i + 1}")
                )
                scored = level > 1 and not (level == 2 and r % 2 == 0 and i == 0)
                self.emit(
                    tables[level - 1],
                    {
                        **self.child(rid, parent, i),
                        "_id": iid,
                        "code": icode,
                        "name": self.pick(_DOMAINS if level == 1 else _COMPONENTS),
                        "weight": self.maybe(round(1 / count, 2), 0.5) if level > 1 else "",
                        "isScored": _T if scored else _F,
                        "standardId": self.maybe(self.pick(standards), 0.4),
                    },
                )
                rub.all_indicators.append(iid)
                if level > 1:
                    self.descriptors(f"{tables[level - 1]}.proficiencyLevels", rid, iid, rub)
                if scored:
                    rub.scored.append(iid)
                # depth: every rubric nests a little; the first rubric always reaches level 4
                if level == 2 and (i == 0 or self.rnd() < 0.15):
                    indicators(3, iid, icode, self.randint(2, 3))
                elif level == 3 and i == 0 and (r == 0 or self.rnd() < 0.3):
                    indicators(4, iid, icode, 2)

        for d in range(self.randint(3, 4)):
            did = self.oid()
            self.emit(
                "rubrics.indicators",
                {
                    **self.child(rid, rid, d),
                    "_id": did,
                    "code": str(d + 1),
                    "name": _DOMAINS[(d + r) % len(_DOMAINS)],
                    "weight": "",
                    "isScored": _F,
                    "standardId": "",
                },
            )
            rub.all_indicators.append(did)
            indicators(2, did, str(d + 1), self.randint(3, 4))
        for sid in standards:
            for k in range(self.randint(1, 2)):
                ind = self.pick(rub.scored)
                for li, (lid, _, _) in enumerate(levels):
                    self.emit(
                        "rubrics.standards.indicators.proficiencyLevels",
                        {
                            **self.child(rid, sid, li),
                            "indicatorIndex": k,
                            "indicatorId": ind,
                            "proficiencyLevelId": lid,
                            "subitems": self.lookfors(self.randint(1, 4)) if self.rnd() < 0.95 else "",
                        },
                    )
        self.rubrics.append(rub)

    def lookfors(self, k: int) -> str:
        return "\n".join(self.pick(_LOOKFORS) for _ in range(k))

    def descriptors(self, table: str, rid: str, iid: str, rub: _Rubric) -> None:
        for li, (lid, lname, _) in enumerate(rub.levels):
            k = self.randint(1, 5) if self.rnd() < 0.95 else 0
            rub.lines[(iid, li)] = k
            self.emit(
                table,
                {
                    **self.child(rid, iid, li),
                    "proficiencyLevelId": lid,
                    "description": self.maybe(f"{lname}: {self.pick(_SENTENCES)}", 0.1),
                    "subitems": self.lookfors(k) if k else "",
                },
            )

    def make_groups(self) -> None:
        """Groups with the cases the Ed-Fi export must handle (names, categories, years, deletes)."""
        d0 = self.schools[0]
        used: set[tuple[int, str]] = set()
        fixed: list[dict[str, Any]] = [
            dict(
                name="Instructional Coaching Team",
                type="observer",
                category="District",
                year=2025,
                school=None,
            ),
            dict(name=" Math PLC ", type="learner", category="PLC", year=2025, school=1 % len(self.schools)),
            dict(name="Evaluation Reports", type="report", category="", year=2025, school=None),
            dict(
                name="Walkthrough Pilot",
                type="learner",
                category=" District ",
                year=2025,
                school=0,
                deleted=True,
            ),
            dict(name="2022-23 New Teachers", type="learner", category="school", year=2023, school=0),
            dict(
                name=f"{d0.short} Grade 3 Team",
                type="learner",
                category="school",
                year=2025,
                school=0,
                description="",
            ),
            dict(name="Probationary Cycle", type="learner", category="Teacher", year=2024, school=None),
            dict(name="Peer Observers", type="observer", category="school", year=2024, school=0),
            dict(name=f"{d0.name} Mentoring Program", type="learner", category="Other", year=2025, school=0),
        ]
        for g in range(max(len(fixed), self.n // 4)):
            spec = fixed[g] if g < len(fixed) else self.random_group(g)
            gid = self.oid()
            year = spec["year"]
            key = (year, spec["name"].strip().lower())
            if key in used:  # the same name twice in a year: districts number them
                spec["name"] = f"{spec['name'].strip()} {g}"
                key = (year, spec["name"].strip().lower())
            used.add(key)
            school = spec["school"]
            created = self.year_time(year) - 200 * 86400
            description = spec.get("description", _MISSING)
            if description is _MISSING:
                description = self.maybe(self.text(1, 2, multiline=0.2), 0.2)
            self.emit(
                "groups",
                {
                    "_id": gid,
                    "subOrgId": "" if school is None else self.schools[school].id,
                    "name": spec["name"],
                    "description": description,
                    "type": spec["type"],
                    "category": spec["category"],
                    "schoolYear": year,
                    **self.doc_meta(created, p_deleted=0.0, deleted=spec.get("deleted", False)),
                },
            )
            kind = spec["type"]
            if kind == "report" or self.rnd() < 0.2:
                reports = (
                    ("observationSummary", "Observation Summary"),
                    ("ratingsExport", "Ratings Export"),
                    ("goalProgress", "Goal Progress"),
                    ("sloStatus", "SLO Status"),
                )
                for i in range(self.randint(1, 3)):
                    key_, rname = reports[i]
                    self.emit(
                        "groups.reports",
                        {
                            **self.child(gid, gid, i),
                            "reportKey": key_,
                            "reportName": rname,
                            "access": self.pick(("view", "export")),
                        },
                    )
            self.values_list("groups.roles", gid, gid, ["Principal", "District Admin"][: self.randint(1, 2)])
            if kind != "report":
                self.values_list("groups.rubrics", gid, gid, [self.pick(self.rubrics).id])
            self.groups_by_year.setdefault(year, []).append(gid)
            self.group_year[gid] = year
            target = self.schools[school if school is not None else self.randint(0, len(self.schools) - 1)]
            if kind == "learner":
                target.learner_groups.append(gid)
            elif kind == "observer":
                target.observer_groups.append(gid)
            else:
                self.report_group = gid
        self.all_groups = [g for gs in self.groups_by_year.values() for g in gs]

    def random_group(self, g: int) -> dict[str, Any]:
        school = self.randint(0, len(self.schools) - 1) if self.rnd() < 0.8 else None
        kind = "learner" if self.rnd() < 0.72 else ("observer" if self.rnd() < 0.75 else "report")
        year = 2025 if self.rnd() < 0.65 else (2024 if self.rnd() < 0.9 else 2023)
        if kind == "learner":
            grade = self.pick(_GRADES)
            short_base, long_base = self.pick(
                (
                    (f"Gr {grade} Team", f"Grade {grade} Team"),
                    ("Math Dept", "Mathematics Department"),
                    ("ELA Dept", "English Language Arts Department"),
                    ("Science Dept", "Science Department"),
                    ("New Teachers", "New Teacher Induction"),
                    ("Probationary", "Probationary Teachers"),
                    ("Cycle B", "Tenured Teachers Cycle B"),
                    ("Reading PLC", "Reading Intervention PLC"),
                    ("Tier 2 Team", "Tier 2 Intervention Team"),
                )
            )
        elif kind == "observer":
            short_base, long_base = self.pick(
                (
                    ("Evaluators", "Evaluators"),
                    ("Coaches", "Instructional Coaches"),
                    ("Admin Team", "Admin Team"),
                )
            )
        else:
            short_base, long_base = self.pick((("Reports", "Report Viewers"), ("Data Team", "Data Team")))
        where = self.schools[school] if school is not None else None
        if self.rnd() < 0.25:  # about a quarter longer than 20 characters (Ed-Fi 3.x/4.0 reject those)
            name = f"{where.name if where else 'District'} {long_base}"
        else:
            name = f"{where.short if where else 'District'} {short_base}"
            if len(name) > 20:
                name = short_base
        if self.rnd() < 0.05:
            name = f" {name} " if self.rnd() < 0.5 else f"{name}  "
        category = self.pick(
            _CATEGORIES_MAPPED + ("school", " District ", "PLC", "", "TEACHER", "Grade Level")
        )
        return dict(name=name, type=kind, category=category, year=year, school=school)

    def make_templates(self) -> None:
        kinds = ("formal", "informal", "walkthrough", "summative", "selfAssessment")
        for t in range(TEMPLATES):
            with self.stream(f"template:{t}"):
                self.template(kinds[t % len(kinds)], t)

    _ACTIVITY_PLAN: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
        "formal": (
            ("preConference", ("form", "meetingNotes")),
            ("observation", ("evidence", "rating", "signature")),
            ("postConference", ("form", "meetingNotes", "signature")),
        ),
        "informal": (("observation", ("rating", "form", "signature")),),
        "walkthrough": (("walkthrough", ("form", "rating")),),
        "summative": (("summative", ("evidence", "rating", "signature")),),
        "selfAssessment": (("selfReflection", ("form", "rating")),),
    }

    def template(self, kind: str, t: int) -> None:
        tid = self.oid()
        rubric = self.rubrics[t % len(self.rubrics)]
        year = 2025 if t % 4 != 3 else 2024
        self.emit(
            "observationTemplates",
            {
                "_id": tid,
                "name": f"{kind[0].upper()}{kind[1:]} Observation {year - 1}-{year % 100:02d}",
                "type": kind,
                "rubricId": rubric.id,
                "schoolYear": year,
                "isActive": _T if year == 2025 else _F,
                **self.doc_meta(self.year_time(year - 1), p_deleted=0.0),
            },
        )
        acts: list[_Activity] = []
        for a, (atype, step_types) in enumerate(self._ACTIVITY_PLAN[kind]):
            aid = self.oid()
            a_rubric = rubric.id if "rating" in step_types else None
            own_rubric = self.pick(self.rubrics).id if a_rubric and self.rnd() < 0.2 else ""
            self.emit(
                "observationTemplates.activities",
                {
                    **self.child(tid, tid, a),
                    "_id": aid,
                    "name": atype[0].upper() + atype[1:].replace("C", " C"),
                    "type": atype,
                    "rubricId": own_rubric,
                    "required": _T if a == 0 or self.rnd() < 0.7 else _F,
                    "visibleToLearner": _T if atype != "summative" else _F,
                },
            )
            rub = next(r for r in self.rubrics if r.id == (own_rubric or rubric.id))
            for k in range(self.randint(0, 2)):
                self.emit(
                    "observationTemplates.activities.alignedIndicators",
                    {**self.child(tid, aid, k), "rubricId": rub.id, "indicatorId": self.pick(rub.scored)},
                )
            steps: list[_Step] = []
            for s, stype in enumerate(step_types):
                sid = self.oid()
                assignee = {
                    "form": self.pick(("learner", "observer", "both")),
                    "signature": "both",
                    "meetingNotes": "observer",
                    "evidence": "learner",
                    "rating": "observer",
                }[stype]
                if atype == "selfReflection":
                    assignee = "learner"
                self.emit(
                    "observationTemplates.activities.steps",
                    {
                        **self.child(tid, aid, s),
                        "_id": sid,
                        "name": stype[0].upper() + stype[1:],
                        "type": stype,
                        "assignee": assignee,
                        "required": _T if stype != "evidence" else _F,
                        "dueDays": self.maybe(self.randint(2, 14), 0.3),
                    },
                )
                elements: list[_Element] = []
                if stype == "form":
                    fid = self.oid()
                    self.emit(
                        "observationTemplates.activities.steps.forms",
                        {
                            **self.child(tid, sid, 0),
                            "_id": fid,
                            "title": f"{atype} questions",
                            "instructions": self.maybe(self.text(1, 2), 0.3),
                        },
                    )
                    for e in range(self.randint(3, 5)):
                        eid = self.oid()
                        label, etype = self.pick(_FORM_QUESTIONS)
                        self.emit(
                            "observationTemplates.activities.steps.forms.elements",
                            {
                                **self.child(tid, fid, e),
                                "_id": eid,
                                "label": label,
                                "type": etype,
                                "required": _T if self.rnd() < 0.6 else _F,
                                "helpText": self.maybe(self.pick(_SENTENCES), 0.6),
                                "indicatorId": self.maybe(self.pick(rub.scored), 0.5),
                            },
                        )
                        choices: list[tuple[str, str]] = []
                        if etype in ("select", "multiselect", "checkbox"):
                            for c, label in enumerate(("Not yet", "Sometimes", "Often", "Always")):
                                cid = self.oid()
                                value = label.lower().replace(" ", "_")
                                choices.append((cid, value))
                                self.emit(
                                    "observationTemplates.activities.steps.forms.elements.choices",
                                    {
                                        **self.child(tid, eid, c),
                                        "_id": cid,
                                        "label": label,
                                        "value": value,
                                        "score": self.maybe(c, 0.3),
                                    },
                                )
                        elements.append(_Element(eid, etype, choices))
                steps.append(_Step(sid, stype, assignee, elements))
            acts.append(_Activity(aid, atype, own_rubric or a_rubric, steps))
        learner_groups = [g for s in self.schools for g in s.learner_groups]
        observer_groups = [g for s in self.schools for g in s.observer_groups]
        if t % 3 == 1 and learner_groups:
            self.values_list(
                "observationTemplates.learnerGroupLimits",
                tid,
                tid,
                sorted({self.pick(learner_groups) for _ in range(self.randint(1, 2))}),
            )
        if t % 4 == 1 and observer_groups:
            self.values_list(
                "observationTemplates.observerGroupLimits", tid, tid, [self.pick(observer_groups)]
            )
        self.templates.append(_Template(tid, kind, rubric.id, year, acts))

    def make_assignments(self) -> None:
        learner_groups = [g for s in self.schools for g in s.learner_groups]
        observer_groups = [g for s in self.schools for g in s.observer_groups]
        for a in range(max(2, self.n // 12)):
            aid = self.oid()
            tmpl = self.templates[a % len(self.templates)]
            year = 2025 if a % 3 else 2024
            school = self.pick(self.schools).id if self.rnd() < 0.7 else ""
            lo, hi = _school_year_span(year)
            self.emit(
                "assignments",
                {
                    "_id": aid,
                    "subOrgId": school,
                    "name": f"{tmpl.type.title()} cycle {year - 1}-{year % 100:02d} #{a + 1}",
                    "observationTemplateId": tmpl.id,
                    "schoolYear": year,
                    "status": "active" if year == 2025 else self.pick(("closed", "archived")),
                    "startDate": self.maybe(self.date(lo + 20 * 86400), 0.1),
                    "endDate": self.maybe(self.date(hi - 10 * 86400), 0.2),
                    "createdBy": self.users[self.pick(self.observers)].id,
                    **self.doc_meta(lo + self.rnd() * 20 * 86400, p_deleted=0.03),
                },
            )
            least = 1 if a == 0 else 0
            self.values_list(
                "assignments.learners",
                aid,
                aid,
                [self.pick(self.users).id for _ in range(self.randint(least, 4))],
            )
            self.values_list(
                "assignments.observers",
                aid,
                aid,
                [self.users[self.pick(self.observers)].id for _ in range(self.randint(least, 2))],
            )
            if learner_groups:
                self.values_list(
                    "assignments.learnerGroups",
                    aid,
                    aid,
                    [self.pick(learner_groups) for _ in range(self.randint(least, 2))],
                )
            if observer_groups:
                self.values_list(
                    "assignments.observerGroups",
                    aid,
                    aid,
                    [self.pick(observer_groups) for _ in range(self.randint(least, 1))],
                )
            self.assignments.setdefault(year, []).append(aid)

    def make_slo_templates(self) -> None:
        if "sloTemplates" not in self.tables:
            return
        for t in range(SLO_TEMPLATES):
            with self.stream(f"sloTemplate:{t}"):
                self.slo_template(t)

    def slo_template(self, t: int) -> None:
        tid = self.oid()
        year = 2025 if t % 2 == 0 else 2024
        self.emit(
            "sloTemplates",
            {
                "_id": tid,
                "name": f"Student Learning Objective {year - 1}-{year % 100:02d}",
                "schoolYear": year,
                "isActive": _T,
                "approvalRequired": _T if t % 2 == 0 else _F,
                **self.doc_meta(self.year_time(year - 1), p_deleted=0.0),
            },
        )
        elements: list[_SloElement] = []
        plan = (
            ("goalSetting", ("identifier", "textarea", "assessment", "select")),
            ("midYear", ("textarea", "multiselect")),
            ("endOfYear", ("assessment", "number", "date")),
        )
        for s, (phase, types) in enumerate(plan):
            sid = self.oid()
            self.emit(
                "sloTemplates.sections",
                {
                    **self.child(tid, tid, s),
                    "_id": sid,
                    "title": phase[0].upper() + phase[1:],
                    "phase": phase,
                },
            )
            for e, etype in enumerate(types):
                eid = self.oid()
                self.emit(
                    "sloTemplates.sections.elements",
                    {
                        **self.child(tid, sid, e),
                        "_id": eid,
                        "type": etype,
                        "label": self.pick(
                            (
                                "Student population",
                                "Baseline data",
                                "Learning goal",
                                "Growth target, by tier",
                                "Assessment used",
                                "Mid-year progress",
                            )
                        ),
                    },
                )
                values = []
                if etype in ("select", "multiselect"):
                    for c, label in enumerate(("Tier 1", "Tier 2", "Tier 3")):
                        value = f"tier{c + 1}"
                        values.append(value)
                        self.emit(
                            "sloTemplates.sections.elements.choices",
                            {**self.child(tid, eid, c), "_id": self.oid(), "label": label, "value": value},
                        )
                elements.append(_SloElement(eid, sid, etype, values))
        self.slo_templates.append((tid, elements))

    # ---------------------------------------------------------------- one educator and everything about them
    def educator(self, u: _User) -> None:
        school = self.schools[u.school]
        i = u.index
        fi, li = self.randint(0, len(_FIRST) - 1), self.randint(0, len(_LAST) - 1)
        hired = _epoch(2000, 8, 1) + self.rnd() * 24 * 365 * 86400
        created = max(hired, _epoch(2018, 7, 1)) + self.rnd() * 30 * 86400
        deleted = i == 3 or (i > 10 and self.rnd() < 0.01)
        self.emit(
            "users",
            {
                "_id": u.id,
                "email": f"{_FIRST_ASCII[fi]}.{_LAST_ASCII[li]}{i}@{self.district_slug}.example.org",
                "name.first": _FIRST[fi],
                "name.last": _LAST[li],
                "employeeId": self.maybe(f"E{10000 + i}", 0.05),
                "stateStaffId": "" if i == 2 or self.rnd() < 0.04 else f"31{i + 10000:08d}",
                "title": self.maybe(
                    (
                        "Principal"
                        if i < len(self.schools)
                        else self.pick(_OBSERVER_TITLES if u.observer else _TEACHER_TITLES)
                    ),
                    0.05,
                ),
                "hireDate": self.maybe(self.date(hired), 0.1),
                "active": _F if deleted else _T,
                "lastLoginAt": self.maybe(self.ts(self.year_time(2025)), 0.1),
                **self.doc_meta(created, deleted=deleted),
            },
        )
        uid = u.id
        # schools: the primary one, sometimes a second
        subs = [school] + ([self.pick(self.schools)] if self.rnd() < 0.15 else [])
        if len(subs) == 2 and subs[1] is school:
            subs.pop()
        for k, s in enumerate(subs):
            self.emit(
                "users.subOrgs",
                {
                    **self.child(uid, uid, k),
                    "subOrgId": s.id,
                    "name": s.name,
                    "stateSchoolId": self.maybe(s.state_id, 0.05),
                    "isPrimary": _T if k == 0 else _F,
                },
            )
        roles = (
            ["Teacher"]
            if not u.observer
            else (["Principal"] if i < len(self.schools) else ["Coach", "Teacher"])
        )
        if i == 0:
            roles.append("District Admin")
        self.values_list("users.roles", uid, uid, roles)
        self.values_list(
            "users.contentAreas",
            uid,
            uid,
            sorted({self.pick(_CONTENT_AREAS) for _ in range(self.randint(1, 2))}),
        )
        self.values_list(
            "users.grades", uid, uid, sorted({self.pick(_GRADES) for _ in range(self.randint(1, 3))})
        )
        self.memberships(u, school)
        for k in range(self.randint(1 if self.first("user file") else 0, 2)):
            art = self.artifact(uid, self.year_time(2025), kind="file")
            self.emit(
                "users.files",
                {
                    **self.child(uid, uid, k),
                    "artifactId": art[0],
                    "fileName": art[1],
                    "category": self.pick(("certification", "resume", "portfolio", "other")),
                    "uploadedAt": self.ts(self.year_time(2025)),
                },
            )
        items = []
        for k in range(self.randint(1 if self.first("bloom item") else 0, 3)):
            iid = self.oid()
            items.append(iid)
            t0 = self.year_time(2025)
            done = self.rnd() < 0.4
            self.emit(
                "users.bloomList.items",
                {
                    **self.child(uid, uid, k),
                    "_id": iid,
                    "title": self.words(2, 5),
                    "status": "done" if done else "open",
                    "dueDate": self.maybe(self.date(self.later(t0, 45)), 0.4),
                    "completedAt": self.ts(self.later(t0)) if done else "",
                    "createdAt": self.ts(t0),
                },
            )
        for k in range(self.randint(1 if self.first("bloom reflection") else 0, 2) if items else 0):
            self.emit(
                "users.bloomList.reflections",
                {
                    **self.child(uid, uid, k),
                    "_id": self.oid(),
                    "itemId": self.maybe(self.pick(items), 0.2),
                    "body": self.text(1, 3),
                    "createdAt": self.ts(self.year_time(2025)),
                },
            )
        self.user_obs: dict[int, str] = {}
        goals = self.goals(u) if "goals" in self.tables else []
        for _ in range(self.randint(1, 3)):
            self.evidence(u, self.pick((2024, 2025, 2025)), goals=goals)
        for _ in range(2 + u.index % 2):
            self.observation(u)
        if "slos" in self.tables and (
            not u.observer
            and self.rnd() < 0.5
            or ((not u.observer or u.index == self.n - 1) and self.first("slo"))
        ):
            self.slo(u)
        if "eoy.Classifications" in self.tables:
            self.eoy(u)

    def memberships(self, u: _User, school: _School) -> None:
        rows: list[tuple[str, str]] = []
        pool = school.learner_groups or [g for s in self.schools for g in s.learner_groups]
        if pool:
            rows.extend((self.pick(pool), "learner") for _ in range(self.randint(1, 2)))
        if u.observer:
            obs_pool = school.observer_groups or [g for s in self.schools for g in s.observer_groups]
            if obs_pool:
                rows.append((self.pick(obs_pool), "observer"))
            if u.index < len(self.schools):
                rows.append((self.all_groups[0], "observer"))  # the district coaching team
            if hasattr(self, "report_group") and self.rnd() < 0.5:
                rows.append((self.report_group, "observer"))
        seen: set[str] = set()
        k = 0
        for gid, role in rows:
            if gid in seen:
                continue
            seen.add(gid)
            start = _school_year_span(self.group_year[gid])[0]
            added = "" if u.index == 1 or self.rnd() < 0.1 else self.ts(start + self.rnd() * 60 * 86400)
            self.emit(
                "users.groups", {**self.child(u.id, u.id, k), "groupId": gid, "role": role, "addedAt": added}
            )
            k += 1

    def artifact(self, owner: str, t: float, kind: str | None = None) -> tuple[str, str, str]:
        aid = self.oid()
        kind = kind or self.pick(("file", "file", "link", "video"))
        ext, mime = self.pick(_MIME)
        name = f"{self.words(1, 3).replace(' ', '_').lower()}.{ext}"
        url = (
            f"https://files.edreflect.example.com/{self.district_slug}/{aid}"
            if kind != "link"
            else f"https://docs.example.org/{self.pick(_WORDS)}/{self.randint(100, 999)}"
        )
        self.emit(
            "artifacts",
            {
                "_id": aid,
                "ownerId": owner,
                "name": name.rsplit(".", 1)[0].replace("_", " ").title(),
                "type": kind,
                "fileName": name if kind != "link" else "",
                "mimeType": mime if kind != "link" else "",
                "sizeBytes": self.randint(2_000, 9_000_000) if kind != "link" else "",
                "url": url,
                **self.doc_meta(t, p_deleted=0.02),
            },
        )
        return aid, name, mime

    def evidence(self, u: _User, year: int, goals: list[str], observation: str = "", owner: str = "") -> str:
        eid = self.oid()
        t = self.year_time(year)
        kind = self.pick(("file", "link", "note"))
        art = self.artifact(u.id, t, "file")[0] if kind == "file" else ""
        self.emit(
            "evidences",
            {
                "_id": eid,
                "learnerId": u.id,
                "ownerId": owner or u.id,
                "observationId": observation,
                "artifactId": art,
                "title": self.words(2, 5),
                "description": self.maybe(self.text(1, 4), 0.2),
                "type": kind,
                "url": f"https://docs.example.org/{self.pick(_WORDS)}" if kind == "link" else "",
                "schoolYear": year,
                **self.doc_meta(t),
            },
        )
        if goals and (self.rnd() < 0.5 or self.first("evidence goal")):
            self.values_list("evidences.goals", eid, eid, [self.pick(goals)])
        rub = self.pick(self.rubrics)
        for k in range(self.randint(1 if self.first("evidence indicator") else 0, 2)):
            self.emit(
                "evidences.indicators",
                {
                    **self.child(eid, eid, k),
                    "rubricId": rub.id,
                    "indicatorId": self.pick(rub.scored),
                    "alignedBy": self.maybe(owner or u.id, 0.2),
                    "alignedAt": self.maybe(self.ts(self.later(t)), 0.2),
                },
            )
        return eid

    def goals(self, u: _User) -> list[str]:
        out = []
        for _ in range(self.randint(1 if self.first("goal") else 0, 2)):
            gid = self.oid()
            out.append(gid)
            year = self.pick((2024, 2025, 2025))
            t = self.year_time(year)
            status = self.pick(("draft", "active", "active", "complete"))
            rub = self.pick(self.rubrics)
            self.emit(
                "goals",
                {
                    "_id": gid,
                    "ownerId": u.id,
                    "title": self.words(3, 6),
                    "description": self.maybe(self.text(1, 3)),
                    "type": self.pick(("professional", "studentGrowth")),
                    "status": status,
                    "schoolYear": year,
                    "dueDate": self.maybe(self.date(_school_year_span(year)[1]), 0.3),
                    "completedAt": self.ts(self.later(t, 90)) if status == "complete" else "",
                    "rubricId": self.maybe(rub.id, 0.3),
                    **self.doc_meta(t),
                },
            )
            for k in range(self.randint(1, 2)):
                self.emit(
                    "goals.alignedIndicators",
                    {**self.child(gid, gid, k), "rubricId": rub.id, "indicatorId": self.pick(rub.scored)},
                )
            observer = self.users[self.pick(self.observers)].id
            for k in range(self.randint(1 if self.first("goal comment") else 0, 2)):
                cid = self.oid()
                tc = self.later(t, 60)
                self.emit(
                    "goals.comments",
                    {
                        **self.child(gid, gid, k),
                        "_id": cid,
                        "authorId": self.pick((u.id, observer)),
                        "body": self.text(1, 3),
                        "createdAt": self.ts(tc),
                        "editedAt": self.maybe(self.ts(self.later(tc)), 0.8),
                    },
                )
                for r in range(self.randint(1 if self.first("goal reply") else 0, 1)):
                    tr = self.later(tc)
                    self.emit(
                        "goals.comments.replies",
                        {
                            **self.child(gid, cid, r),
                            "_id": self.oid(),
                            "authorId": u.id,
                            "body": self.text(1, 2),
                            "createdAt": self.ts(tr),
                            "editedAt": "",
                        },
                    )
            for k in range(self.randint(1 if self.first("goal post") else 0, 2)):
                pid = self.oid()
                tp = self.later(t, 90)
                self.emit(
                    "goals.posts",
                    {
                        **self.child(gid, gid, k),
                        "_id": pid,
                        "authorId": u.id,
                        "title": self.maybe(self.words(2, 4), 0.3),
                        "body": self.text(1, 4),
                        "visibility": self.pick(("private", "shared")),
                        "createdAt": self.ts(tp),
                    },
                )
                for a in range(self.randint(1 if self.first("post attachment") else 0, 1)):
                    art = self.artifact(u.id, tp, "file")
                    self.emit(
                        "goals.posts.attachments",
                        {
                            **self.child(gid, pid, a),
                            "artifactId": art[0],
                            "fileName": art[1],
                            "mimeType": self.maybe(art[2], 0.1),
                        },
                    )
            for k in range(self.randint(2, 3)):
                answered = self.rnd() < 0.7
                self.emit(
                    "goals.questions",
                    {
                        **self.child(gid, gid, k),
                        "_id": self.oid(),
                        "prompt": (
                            "What evidence will show progress?",
                            "Which resources do you need?",
                            "How does this goal connect to student learning?",
                        )[k],
                        "answer": self.text(1, 3) if answered else "",
                        "required": _T if k == 0 else _F,
                        "answeredAt": self.ts(self.later(t, 30)) if answered else "",
                    },
                )
            members = [(u.id, "owner")] + (
                [(observer, self.pick(("collaborator", "viewer")))] if self.rnd() < 0.6 else []
            )
            for k, (mid, role) in enumerate(members):
                self.emit(
                    "goals.users",
                    {
                        **self.child(gid, gid, k),
                        "userId": mid,
                        "role": role,
                        "addedAt": self.maybe(self.ts(t), 0.1),
                    },
                )
        return out

    def observer_for(self, u: _User) -> _User:
        candidates = [o for o in self.schools[u.school].observers if o != u.index] or [
            o for o in self.observers if o != u.index
        ]
        return self.users[self.pick(candidates)]

    def observation(self, u: _User) -> None:  # noqa: C901 - one observation document, all its arrays
        obs_id = self.oid()
        uid = u.id
        r = self.rnd()
        year = 2025 if r < 0.6 else (2024 if r < 0.96 else 2023)
        # template and status go round-robin rather than at random: every educator then weighs about the
        # same, so the product's size is close to linear in the number of educators even for small samples
        k = self.obs_count
        self.obs_count = k + 1
        tmpl = self.templates[k % len(self.templates)]
        forced = self.first("formal observation")  # the richest template, complete, in every sample
        if forced:
            tmpl = self.templates[0]
        rubric = next(rb for rb in self.rubrics if rb.id == tmpl.rubric)
        observer = self.observer_for(u)
        oid_ = observer.id
        status = ("complete", "inProgress", "complete", "scheduled", "complete", "cancelled", "complete")[
            (k // len(self.templates)) % 7
        ]
        if forced:
            status = "complete"
        created = self.year_time(year)
        observed = self.later(created, 21)
        completed = self.later(observed, 30) if status == "complete" else None
        assignments = self.assignments.get(year, [])
        self.emit(
            "observations",
            {
                "_id": obs_id,
                "subOrgId": self.schools[u.school].id if self.rnd() < 0.95 else "",
                "observationTemplateId": tmpl.id,
                "assignmentId": self.pick(assignments) if assignments and self.rnd() < 0.8 else "",
                "learnerId": uid,
                "observerId": oid_,
                "rubricId": self.maybe(rubric.id, 0.03),
                "schoolYear": year,
                "status": status,
                "observedAt": self.ts(observed) if status != "scheduled" else "",
                "completedAt": self.ts(completed) if completed else "",
                **self.doc_meta(created, p_deleted=0.01),
            },
        )
        if status == "complete":
            self.user_obs[year] = obs_id
        if self.rnd() < 0.25 or self.first("read-only observer"):
            self.values_list(
                "observations.readOnlyObservers", obs_id, obs_id, [self.users[self.pick(self.observers)].id]
            )
        # snapshots are decided first: the signature steps list them
        n_snaps = (1 + (self.rnd() < 0.3)) if status == "complete" else int(status == "inProgress")
        snap_ids = [self.oid() for _ in range(n_snaps)]
        works: list[tuple[int, str, _Activity, str, str, list[tuple[str, int, str]]]] = []
        notes = 0
        t = observed
        for w, act in enumerate(tmpl.activities):
            wid = self.oid()
            if status == "complete":
                wstatus = "complete"
            elif status == "inProgress":
                wstatus = "complete" if w == 0 else self.pick(("inProgress", "notStarted"))
            else:
                wstatus = "notStarted"
            self_eval = act.type == "selfReflection"
            worker = uid if self_eval else oid_
            started = self.later(t, 5)
            done = self.later(started, 3)
            t = done
            self.emit(
                "observations.work",
                {
                    **self.child(obs_id, obs_id, w),
                    "_id": wid,
                    "activityId": act.id,
                    "observerId": oid_,
                    "status": wstatus,
                    "dueDate": self.maybe(self.date(self.later(started, 10)), 0.3),
                    "startedAt": self.ts(started) if wstatus != "notStarted" else "",
                    "completedAt": self.ts(done) if wstatus == "complete" else "",
                    "learnerSignedAt": self.ts(self.later(done, 4))
                    if wstatus == "complete" and self.rnd() < 0.7
                    else "",
                    "observerSignedAt": self.ts(self.later(done, 2))
                    if wstatus == "complete" and self.rnd() < 0.8
                    else "",
                },
            )
            works.append((w, wid, act, worker, wstatus, []))
            for s, step in enumerate(act.steps):
                self.work_step(
                    obs_id, wid, s, step, u, observer, wstatus, started, snap_ids, year, rubric, act
                )
            if any(st.type == "meetingNotes" for st in act.steps) and wstatus != "notStarted":
                nid = self.oid()
                self.emit(
                    "observations.activityMeetingNotes",
                    {
                        **self.child(obs_id, obs_id, notes),
                        "_id": nid,
                        "activityId": act.id,
                        "authorId": oid_,
                        "title": self.maybe(f"{act.type} notes", 0.2),
                        "meetingAt": self.maybe(self.ts(started), 0.1),
                        "createdAt": self.ts(self.later(started, 1)),
                    },
                )
                notes += 1
                for c in range(self.randint(1, 3)):
                    html = self.rnd() < 0.2
                    self.emit(
                        "observations.activityMeetingNotes.content",
                        {
                            **self.child(obs_id, nid, c),
                            "heading": self.maybe(
                                self.pick(("Lesson focus", "Glows and grows", "Next steps", "Agreements")),
                                0.3,
                            ),
                            "format": "html" if html else "text",
                            "body": self.pick(_HTML) if html else self.text(1, 4, multiline=0.6, crlf=True),
                        },
                    )
            if "rating" in (st.type for st in act.steps) and wstatus != "notStarted":
                rub = (
                    rubric
                    if act.rubric is None or act.rubric == rubric.id
                    else next(rb for rb in self.rubrics if rb.id == act.rubric)
                )
                scores = self.evaluation(
                    obs_id, wid, u, observer, self_eval, rub, done if wstatus == "complete" else None, year
                )
                works[-1] = (w, wid, act, worker, wstatus, scores)
        rubric_levels = rubric.levels
        for k, sid in enumerate(snap_ids):
            taken = self.later(t, 2)
            self.emit(
                "snapshots",
                {
                    "_id": sid,
                    "observationId": obs_id,
                    "learnerId": uid,
                    "takenBy": self.pick((uid, oid_)),
                    "takenAt": self.ts(taken),
                    "reason": ("submit", "sign")[k] if k < 2 else "reopen",
                    "version": k + 1,
                    **self.doc_meta(taken, p_deleted=0.0),
                },
            )
            for j, (w, wid, act, _worker, wstatus, scores) in enumerate(works):
                data = json.dumps(
                    {
                        "_id": wid,
                        "activityId": act.id,
                        "status": wstatus,
                        "observerId": oid_,
                        "notes": self.text(1, 2),
                        "steps": [{"stepId": st.id, "type": st.type} for st in act.steps],
                        "ratings": [
                            {
                                "indicatorId": ind,
                                "proficiencyLevelId": rubric_levels[lvl][0],
                                "score": rubric_levels[lvl][2],
                                "evidence": narrative,
                            }
                            for ind, lvl, narrative in scores
                        ],
                    },
                    separators=(",", ":"),
                )
                self.emit(
                    "snapshots.activityWorks",
                    {
                        **self.child(sid, sid, j),
                        "workId": wid,
                        "activityId": act.id,
                        "observerId": self.maybe(oid_, 0.05),
                        "status": wstatus,
                        "completedAt": self.ts(taken) if wstatus == "complete" else "",
                        "data": data if wstatus != "notStarted" else "",
                    },
                )
                self.emit("snapshots.indexes", {**self.child(sid, sid, j), "value": w})

    def work_step(
        self,
        obs_id: str,
        wid: str,
        s: int,
        step: _Step,
        u: _User,
        observer: _User,
        wstatus: str,
        started: float,
        snap_ids: list[str],
        year: int,
        rubric: _Rubric,
        act: _Activity,
    ) -> None:
        sid = self.oid()
        status = wstatus if wstatus != "inProgress" else self.pick(("complete", "inProgress", "notStarted"))
        by = u.id if step.assignee == "learner" else observer.id
        done = self.later(started, 3)
        self.emit(
            "observations.work.steps",
            {
                **self.child(obs_id, wid, s),
                "_id": sid,
                "stepId": step.id,
                "status": status,
                "startedAt": self.ts(started) if status != "notStarted" else "",
                "completedAt": self.ts(done) if status == "complete" else "",
                "completedBy": by if status == "complete" else "",
            },
        )
        if status == "notStarted":
            return
        e = 0
        for el in step.elements:
            if self.rnd() < 0.1:
                continue  # unanswered optional question: not in the array
            choice = self.pick(el.choices) if el.choices else None
            if choice:
                answer = choice[1]
            elif el.type == "number":
                answer = str(self.randint(5, 60))
            elif el.type == "date":
                answer = self.date(self.later(started, 20))
            elif self.rnd() < 0.05:
                answer = ""  # saved without an answer
            else:
                answer = self.text(1, 4 if el.type == "textarea" else 1, multiline=0.5)
            self.emit(
                "observations.work.steps.formElements",
                {
                    **self.child(obs_id, sid, e),
                    "elementId": el.id,
                    "answer": answer,
                    "choiceId": choice[0] if choice else "",
                    "answeredBy": self.maybe(by, 0.05),
                    "answeredAt": self.maybe(self.ts(done), 0.05),
                },
            )
            e += 1
        if step.type == "evidence":
            arts = [
                self.artifact(u.id, started)[0]
                for _ in range(self.randint(1 if self.first("step artifact") else 0, 2))
            ]
            self.values_list("observations.work.steps.artifacts", obs_id, sid, arts)
            if self.rnd() < 0.5 or self.first("step evidence"):
                ev = self.evidence(u, year, goals=[], observation=obs_id, owner=observer.id)
                self.values_list("observations.work.steps.evidences", obs_id, sid, [ev])
        if step.type == "signature" and snap_ids:
            self.values_list("observations.work.steps.snapshots", obs_id, sid, snap_ids[-1:])
        msgs = self.randint(0, 2) if status == "complete" else 0
        for m in range(msgs):
            self.emit(
                "observations.work.steps.statusMessages",
                {
                    **self.child(obs_id, sid, m),
                    "status": ("inProgress", "complete")[m] if m < 1 or self.rnd() < 0.8 else "returned",
                    "message": self.maybe(self.text(1, 1), 0.4),
                    "createdBy": by,
                    "createdAt": self.ts(self.later(started, 2)),
                },
            )

    def pick_level(self, rub: _Rubric) -> int:
        r = self.rnd()
        n = len(rub.levels)
        return n - 1 if r < 0.25 else (n - 2 if r < 0.8 else (n - 3 if r < 0.95 else 0))

    def evaluation(
        self,
        obs_id: str,
        wid: str,
        u: _User,
        observer: _User,
        self_eval: bool,
        rub: _Rubric,
        submitted: float | None,
        year: int,
    ) -> list[tuple[str, int, str]]:
        evid = self.oid()
        scores: list[tuple[str, int]] = []
        indicators = rub.scored
        ev_type = "self" if self_eval else ("peer" if self.rnd() < 0.03 else "observer")
        evaluator = u.id if self_eval else observer.id
        body_rows = []
        for k, ind in enumerate(indicators):
            na = self.rnd() < 0.03
            lvl = -1 if na or (submitted is None and self.rnd() < 0.4) else self.pick_level(rub)
            body_rows.append((k, ind, lvl, na))
            if lvl >= 0:
                scores.append((ind, lvl))
        overall = round(sum(rub.levels[lv][2] for _, lv in scores) / len(scores), 2) if scores else ""
        overall_level = rub.levels[min(len(rub.levels) - 1, max(0, round(overall) - 1))][0] if scores else ""
        self.emit(
            "observations.work.evaluations",
            {
                **self.child(obs_id, wid, 0),
                "_id": evid,
                "rubricId": rub.id,
                "evaluatorId": evaluator,
                "type": ev_type,
                "overallScore": overall if submitted else "",
                "overallProficiencyLevelId": overall_level if submitted else "",
                "submittedAt": self.ts(submitted) if submitted else "",
            },
        )
        evidence: dict[str, str] = {}
        for k, ind, lvl, na in body_rows:
            iid = self.oid()
            narrative = evidence[ind] = (
                self.text(1, 3, multiline=0.3) if lvl >= 0 and self.rnd() < 0.6 else ""
            )
            self.emit(
                "observations.work.evaluations.indicators",
                {
                    **self.child(obs_id, evid, k),
                    "_id": iid,
                    "indicatorId": ind,
                    "proficiencyLevelId": rub.levels[lvl][0] if lvl >= 0 else "",
                    "score": rub.levels[lvl][2] if lvl >= 0 else "",
                    "notApplicable": _T if na else _F,
                    "evidence": narrative,
                },
            )
            if self.rnd() < 0.2:
                self.emit(
                    "observations.work.evaluations.indicators.comments",
                    {
                        **self.child(obs_id, iid, 0),
                        "_id": self.oid(),
                        "authorId": evaluator,
                        "body": self.text(1, 2),
                        "visibleToLearner": _T if self.rnd() < 0.7 else _F,
                        "createdAt": self.ts(submitted or self.year_time(year)),
                    },
                )
            if lvl >= 0:
                self.values_list(
                    "observations.work.evaluations.indicators.proficiencyLevelSubitemIndex",
                    obs_id,
                    iid,
                    self.subitems(rub, ind, lvl),
                )
        if submitted and ev_type == "observer" and (self.rnd() < 0.5 or self.first("rating")):
            self.rating(u, observer, obs_id, wid, rub, scores, overall, overall_level, submitted, year)
        return [(ind, lvl, evidence.get(ind, "")) for ind, lvl in scores]

    def subitems(self, rub: _Rubric, ind: str, lvl: int) -> list[int]:
        n = rub.lines.get((ind, lvl), 0)
        return sorted({int(self.rnd() * n) for _ in range(self.randint(0, min(3, n)))}) if n else []

    def rating(
        self,
        u: _User,
        observer: _User,
        obs_id: str,
        wid: str,
        rub: _Rubric,
        scores: list[tuple[str, int]],
        overall: Any,
        overall_level: str,
        t: float,
        year: int,
    ) -> None:
        rid = self.oid()
        status = self.pick(("draft", "submitted", "finalized", "finalized", "finalized"))
        draft = status == "draft"
        self.emit(
            "ratings",
            {
                "_id": rid,
                "learnerId": u.id,
                "observerId": observer.id,
                "type": self.pick(("observation", "walkthrough", "summative")),
                "status": status,
                "observationId": obs_id,
                "workId": wid if self.rnd() < 0.9 else "",
                "schoolYear": year,
                **self.doc_meta(t),
            },
        )
        sid = self.oid()
        self.emit(
            "ratings.rubricRatings",
            {
                **self.child(rid, rid, 0),
                "_id": sid,
                "rubricId": rub.id,
                "overallScore": "" if draft else overall,
                "overallProficiencyLevelId": "" if draft else overall_level,
                "submittedAt": "" if draft else self.ts(t),
            },
        )
        for k, (ind, lvl) in enumerate(scores):
            iid = self.oid()
            na = self.rnd() < 0.03  # marked not applicable in the rating record: no level
            self.emit(
                "ratings.rubricRatings.indicators",
                {
                    **self.child(rid, sid, k),
                    "_id": iid,
                    "indicatorId": ind,
                    "proficiencyLevelId": "" if na else rub.levels[lvl][0],
                    "score": "" if na else rub.levels[lvl][2],
                    "notApplicable": _T if na else _F,
                    "comment": self.text(1, 2) if self.rnd() < 0.3 else "",
                },
            )
            if not na:
                self.values_list(
                    "ratings.rubricRatings.indicators.proficiencyLevelSubitemIndex",
                    rid,
                    iid,
                    self.subitems(rub, ind, lvl),
                )

    def slo(self, u: _User) -> None:
        tid, elements = self.pick(self.slo_templates)
        sid = self.oid()
        year = self.pick((2024, 2025))
        t = self.year_time(year)
        status = (
            "scored" if self.first("scored slo") else self.pick(("draft", "submitted", "approved", "scored"))
        )
        approver = self.observer_for(u).id
        scored = status == "scored"
        score = round(self.rnd() * 3 + 1, 1)
        self.emit(
            "slos",
            {
                "_id": sid,
                "sloTemplateId": tid,
                "ownerId": u.id,
                "approverId": approver if status != "draft" else "",
                "title": f"{self.pick(_CONTENT_AREAS)} growth, {self.pick(_GRADES)}",
                "status": status,
                "schoolYear": year,
                "approvedAt": self.ts(self.later(t, 20)) if status in ("approved", "scored") else "",
                "finalScore": score if scored else "",
                "finalRating": ("Not Met", "Partially Met", "Met", "Exceeded")[min(3, int(score) - 1)]
                if scored
                else "",
                **self.doc_meta(t),
            },
        )
        for a, el in enumerate(elements):
            aid = self.oid()
            self.emit(
                "slos.answers",
                {
                    **self.child(sid, sid, a),
                    "_id": aid,
                    "sectionId": el.section,
                    "elementId": el.id,
                    "type": el.type,
                    "answeredBy": self.maybe(u.id, 0.1),
                    "answeredAt": self.maybe(self.ts(self.later(t, 30)), 0.1),
                },
            )
            if el.type == "assessment":
                for k in range(self.randint(1, 2)):
                    asid = self.oid()
                    self.emit(
                        "slos.answers.assessments",
                        {
                            **self.child(sid, aid, k),
                            "_id": asid,
                            "name": self.pick(("MAP Growth", "District CFA", "DIBELS 8", "Unit test")),
                            "type": ("pre", "post", "interim")[k],
                            "administeredOn": self.maybe(self.date(t), 0.2),
                            "maxScore": self.maybe(100, 0.3),
                            "studentCount": self.maybe(self.randint(12, 140), 0.2),
                        },
                    )
                    for m in range(self.randint(1, 2)):
                        mid = self.oid()
                        target = self.randint(50, 90)
                        actual = self.randint(30, 100) if scored else ""
                        self.emit(
                            "slos.answers.assessments.measures",
                            {
                                **self.child(sid, asid, m),
                                "_id": mid,
                                "name": self.pick(("Proficiency", "Growth")),
                                "unit": self.pick(("percent", "points", "count")),
                                "target": self.maybe(target, 0.1),
                                "actual": actual,
                                "metTarget": (_T if actual >= target else _F) if scored else "",
                            },
                        )
                        self.values_list(
                            "slos.answers.assessments.measures.values",
                            sid,
                            mid,
                            [
                                f"Tier {v + 1}: {self.randint(40, 95)}%"
                                for v in range(self.randint(1 if self.first("measure values") else 0, 3))
                            ],
                        )
                    if status in ("approved", "scored"):
                        self.emit(
                            "slos.answers.assessments.ratings",
                            {
                                **self.child(sid, asid, 0),
                                "raterId": approver,
                                "rating": "Met" if scored else "Approved",
                                "score": score if scored else "",
                                "comment": self.maybe(self.text(1, 2), 0.5),
                                "ratedAt": self.ts(self.later(t, 40)),
                            },
                        )
            elif el.type == "identifier":
                iid = self.oid()
                several = self.rnd() < 0.4 or self.first("several identifiers")
                itype = self.pick(("course", "section", "studentGroup", "gradeLevel"))
                self.emit(
                    "slos.answers.identifiers",
                    {
                        **self.child(sid, aid, 0),
                        "_id": iid,
                        "identifierType": itype,
                        "identifier": "" if several else f"{itype[:3].upper()}-{self.randint(100, 999)}",
                        "label": self.maybe(self.words(1, 3), 0.3),
                    },
                )
                if several:
                    self.values_list(
                        "slos.answers.identifiers.values",
                        sid,
                        iid,
                        [f"{itype[:3].upper()}-{self.randint(100, 999)}" for _ in range(self.randint(2, 3))],
                    )
            else:
                did = self.oid()
                is_list = el.type == "multiselect"
                html = not is_list and el.type == "textarea" and self.rnd() < 0.3
                content = (
                    ""
                    if is_list
                    else (
                        self.pick(el.choices)
                        if el.choices
                        else self.pick(_HTML)
                        if html
                        else str(self.randint(1, 100))
                        if el.type == "number"
                        else self.date(t)
                        if el.type == "date"
                        else self.text(1, 4, multiline=0.5, crlf=True)
                    )
                )
                self.emit(
                    "slos.answers.details",
                    {
                        **self.child(sid, aid, 0),
                        "_id": did,
                        "format": "html" if html else "text",
                        "content": content,
                    },
                )
                if is_list:
                    self.values_list(
                        "slos.answers.details.values",
                        sid,
                        did,
                        sorted({self.pick(el.choices) for _ in range(self.randint(1, 2))}),
                    )

    def eoy(self, u: _User) -> None:
        for year in (2024, 2025):
            if self.rnd() < 0.15:
                continue
            t = _school_year_span(year)[1] - self.rnd() * 20 * 86400
            score = round(1 + self.rnd() * 3, 2)
            label = next(lbl for bound, lbl in _CLASSIFICATIONS if score < bound)
            final = year == 2024 or self.rnd() < 0.7
            rub = self.rubrics[0]
            self.emit(
                "eoy.Classifications",
                {
                    "_id": self.oid(),
                    "schoolYear": year,
                    "learnerId": u.id,
                    "observerId": self.observer_for(u).id,
                    "rubricId": self.maybe(rub.id, 0.2),
                    "observationId": self.user_obs.get(year, ""),
                    "classification": label,
                    "score": self.maybe(score, 0.05),
                    "finalizedAt": self.ts(t) if final else "",
                    "notes": self.maybe(self.text(1, 3), 0.5),
                    **self.doc_meta(t - 5 * 86400),
                },
            )


# ------------------------------------------------------------------------------------------------ public API
def generate(
    out_dir: Path,
    educators: int,
    seed: int,
    *,
    tables: Sequence[Table] | None = None,
    workers: int | None = None,
) -> None:
    """Write a complete sample data product (every group and table of the contract) into `out_dir`.

    The contract's group folders in `out_dir` are replaced and the stamp is written last; other files there
    are left alone. A folder that holds group folders but is not a generated sample (a real delivery, the
    example product) is refused rather than overwritten. `tables` (default: the contract) lets a test show
    that a contract change flows through. `workers` (default: one per CPU) only changes the speed: the
    output is the same for any number of workers.
    """
    if educators < 2:
        raise SampleError(f"educators must be at least 2 (an observer and a learner), got {educators}")
    out_dir = Path(out_dir)
    present = [g for g in contract.FILE_GROUPS if (out_dir / g).exists()]
    ours = (out_dir / STAMP_FILE).exists() or (out_dir / INCOMPLETE_FILE).exists()
    if present and not ours:
        raise SampleError(
            f"{out_dir} holds a data product ({', '.join(present[:3])}, ...) that is not a generated sample: "
            "refusing to overwrite it; choose an empty or new folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INCOMPLETE_FILE).touch()
    (out_dir / STAMP_FILE).unlink(missing_ok=True)
    for group in present:
        shutil.rmtree(out_dir / group)
    if (out_dir / _PARTS_DIR).exists():
        shutil.rmtree(out_dir / _PARTS_DIR)
    workers = (os.cpu_count() or 1) if workers is None else workers
    _Generator(out_dir, educators, seed, contract.tables() if tables is None else tables).run(workers)
    (out_dir / STAMP_FILE).write_text(json.dumps(_stamp(educators, seed), indent=2) + "\n", encoding="utf-8")
    (out_dir / INCOMPLETE_FILE).unlink()


def educators_for_size(target_bytes: float) -> int:
    """About how many educators give a product of `target_bytes` of CSV (benchmarks size their input so).

    From measurements of this generator (see BYTES_PER_EDUCATOR); tests keep the estimate honest.
    """
    return max(2, round((target_bytes - FIXED_BYTES) / BYTES_PER_EDUCATOR))


def _stamp(educators: int, seed: int) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "educators": educators,
        "seed": seed,
        "contract_sha256": hashlib.sha256(contract.CONTRACT_CSV.read_bytes()).hexdigest(),
        "sample_py_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    }


def _is_current(dir: Path, wanted: dict[str, Any]) -> bool:  # noqa: A002
    try:
        stamp = json.loads((dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == wanted and all((dir / t.relative_path).is_file() for t in contract.tables())


def ensure_sample(dir: Path, educators: int, seed: int) -> Path:  # noqa: A002 - the interface's name
    """Return `dir` holding the sample for these parameters, generating it only when missing or stale.

    Why a stamp, a rename and a lock: the pipeline calls this on every build, so it must be a no-op when the
    sample is current (same size, seed, contract and generator), and a run killed half-way must never leave a
    half-written product that looks current. The sample is written to a temporary sibling, stamped last, then
    swapped in; a lock file beside it serializes concurrent callers (the second one finds it current).
    """
    dir = Path(dir)  # noqa: A001
    wanted = _stamp(educators, seed)
    if _is_current(dir, wanted):
        return dir
    dir.parent.mkdir(parents=True, exist_ok=True)
    with open(dir.parent / f".{dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(dir, wanted):  # another process built it while we waited
            return dir
        # leftovers of killed runs: nobody else can be writing them while we hold the lock
        for stale in dir.parent.glob(f".{dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in dir.parent.glob(f".{dir.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = dir.parent / f".{dir.name}.tmp-{os.getpid()}"
        old = dir.parent / f".{dir.name}.old-{os.getpid()}"
        try:
            generate(tmp, educators, seed)  # stamps it last
            if dir.exists():
                os.replace(dir, old)
            os.replace(tmp, dir)
        finally:
            for p in (tmp, old):
                if p.exists():
                    shutil.rmtree(p, ignore_errors=True)
    return dir
