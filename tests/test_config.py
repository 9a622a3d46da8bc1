"""The TOML configuration: defaults, renames, parameters, and clear errors."""

from __future__ import annotations

import pytest

from jobs.config import Config, load_config
from jobs.errors import InputError


def write(tmp_path, text):
    path = tmp_path / "audit.toml"
    path.write_text(text)
    return path


def test_defaults_follow_the_policy():
    cfg = load_config(None)
    assert cfg.parameters["conservative_min_days"] == 42
    assert cfg.parameters["imaging_lookback_days"] == 730
    assert cfg.parameters["imaging_accepts_emg"] is False
    assert cfg.max_rejected_share == 0.05
    assert cfg.member_ids == "hashed"


def test_renames_parameters_and_relative_paths(tmp_path):
    (tmp_path / "ndc.csv").write_text("ndc,ingredient,drug_class,route\n")
    cfg = load_config(
        write(
            tmp_path,
            """
[columns.medical_claim]
person_id = "patient_id"
[parameters]
conservative_min_days = 28
imaging_accepts_emg = true
[validation]
max_rejected_share = 0.1
[reference]
ndc_crosswalk = "ndc.csv"
""",
        )
    )
    assert cfg.source_column("medical_claim", "person_id") == "patient_id"
    assert cfg.source_column("medical_claim", "claim_id") == "claim_id"
    assert cfg.parameters["conservative_min_days"] == 28
    assert cfg.parameters["imaging_accepts_emg"] is True
    assert cfg.parameters["imaging_lookback_days"] == 730
    assert cfg.max_rejected_share == 0.1
    assert cfg.ndc_crosswalk == tmp_path / "ndc.csv"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[columns.medical_claim\n", "invalid TOML"),
        ("[colums.medical_claim]\nperson_id='x'\n", "unknown section [colums]"),
        ("[columns.claims]\nperson_id='x'\n", "[columns.claims] names no input table"),
        ("[columns.medical_claim]\npatient_id='person_id'\n", "patient_id is not a column"),
        ("[parameters]\nconservative_min_dayz=3\n", "unknown parameter 'conservative_min_dayz'"),
        ("[parameters]\nconservative_min_days='six weeks'\n", "must be a non-negative integer"),
        ("[parameters]\nimaging_accepts_emg=1\n", "must be true or false"),
        ("[validation]\nmax_rejected_share=5\n", "between 0 and 1"),
        ("[reference]\nndc_crosswalk='missing.csv'\n", "does not exist"),
        ("[report]\nmember_ids='plain'\n", "member_ids must be one of"),
        ("[engine]\nthreads=0\n", "threads must be a positive integer"),
    ],
)
def test_invalid_configuration_is_one_clear_line(tmp_path, text, message):
    with pytest.raises(InputError) as err:
        load_config(write(tmp_path, text))
    assert message in str(err.value)
    assert str(tmp_path / "audit.toml") in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_config_is_a_plain_dataclass():
    assert Config().threads == 2
