"""dbt's unit tests (`unit_tests:` beside the models: staging, intermediate, marts, analyst marts, Ed-Fi), all
of them in one dbt run on a copy of the session's example build (their parent models must exist for dbt to
read their columns). The pipeline's build leaves them out: they pin the models' SQL on made-up rows, not a
delivery. This is their one home in `make test`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _example_build import built_example

from pipeline.dbt import run_dbt

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _declared() -> set[str]:
    names: set[str] = set()
    for path in (PROJECT_ROOT / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(u["name"] for u in doc.get("unit_tests") or [])
    return names


def test_every_unit_test_declared_beside_the_models_runs_and_passes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    declared = _declared()
    assert len(declared) >= 10, declared  # staging, intermediate, marts, analyst and Ed-Fi models have them
    settings = built_example(tmp_path_factory, "unit_tests")
    result = run_dbt(["test", "--resource-type", "unit_test"], settings, quiet=True)
    statuses = {r.node.name: str(r.status) for r in result.results}
    assert statuses.keys() == declared
    assert {name for name, status in statuses.items() if status != "pass"} == set()
