"""The contract registry (seeds/edreflect_contract.csv) and run settings."""

from __future__ import annotations

import pytest

from extract import contract
from pipeline import config


def test_contract_has_the_87_tables_of_the_vendor_layout():
    tables = contract.tables()
    assert len(tables) == 87
    assert {t.file_group for t in tables} == set(contract.FILE_GROUPS)
    without_optional_groups = [t for t in tables if t.file_group not in contract.OPTIONAL_GROUPS]
    assert len(without_optional_groups) == 64
    assert len([t for t in without_optional_groups if t.name not in contract.OPTIONAL_TABLES]) == 60


def test_every_table_follows_the_linkage_rules():
    for t in contract.tables():
        if t.is_top_level:
            assert t.column_names[0] == "_id", t.name
            assert t.column_names[-4:] == ("createdAt", "updatedAt", "deleted", "deletedAt"), t.name
        else:
            assert t.column_names[:3] == contract.LINKAGE_COLUMNS, t.name
            assert t.parent_name in contract.table_names(), t.name


def test_keys_are_unique_identifier_safe_names():
    keys = [t.key for t in contract.tables()]
    assert len(set(keys)) == len(keys)
    assert all(k.replace("_", "").isalnum() and k.islower() for k in keys)
    assert contract.table("eoy.Classifications").key == "eoy_classifications"
    assert (
        contract.table("observationTemplates.activities.steps").key
        == "observation_templates__activities__steps"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("name.first", "name_first"),
        ("_rootId", "root_id"),
        ("createdAt", "created_at"),
        ("proficiencyLevelSubitemIndex", "proficiency_level_subitem_index"),
        ("_id", "id"),
        ("value", "value"),
    ],
)
def test_snake_case(name, expected):
    assert contract.snake_case(name) == expected


def test_sub_object_arrays_hang_off_the_document():
    assert contract.table("users.bloomList.items").parent_name == "users"
    assert contract.table("rubrics.standards.indicators.proficiencyLevels").parent_name == "rubrics.standards"
    assert contract.table("observations.work.steps").parent_name == "observations.work"


def test_enumerations_and_references_come_from_descriptions():
    groups = contract.table("groups")
    assert groups.column("type").enum_values == ("learner", "observer", "report")
    assert groups.column("category").enum_values is None  # free text with examples
    assert contract.table("users.groups").column("groupId").reference == "groups"
    assert contract.table("evidences.indicators").column("indicatorId").reference == "rubrics.indicators*"


def test_settings_from_environment_keep_secrets_out_of_repr(tmp_path):
    s = config.from_env(
        {
            "WAREHOUSE": str(tmp_path / "w.duckdb"),
            "EDFI_DISTRICT_ID": " 3100042 ",
            "EDFI_SCHOOL_YEARS": "2024, 2025",
            "SFTP_PASSWORD": "hunter2-secret",
        }
    )
    assert s.district_id == 3100042 and s.school_years == (2024, 2025)
    assert s.secrets["SFTP_PASSWORD"] == "hunter2-secret"
    assert "hunter2-secret" not in repr(s)
    assert s.uses_sample


def test_malformed_settings_name_the_variable():
    with pytest.raises(config.ConfigError, match="EDFI_DISTRICT_ID"):
        config.from_env({"EDFI_DISTRICT_ID": "abc"})
