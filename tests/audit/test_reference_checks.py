"""Reference data the rules cannot use stops the job when it starts (issue 13).

An ESI code of esi_cervical_thoracic without its row (or attributes) in ref_esi_codes.csv
used to fail every such line on imaging_guidance through a silent LEFT JOIN; an evidence
value set that does not exist would silently count nothing. Shipped reference data that is
broken exits 1 (the product's fault), a configured crosswalk that is broken exits 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rule_harness import Audit

from jobs.audit import reference
from jobs.audit.reference import ReferenceDataError, check_reference_data
from jobs.pipeline import run


@pytest.fixture
def value_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of sql/value_sets the reference readers use instead of the shipped one."""
    folder = tmp_path / "value_sets"
    shutil.copytree(reference.value_sets_dir(), folder)
    monkeypatch.setattr(reference, "value_sets_dir", lambda: folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_reference_data_passes() -> None:
    check_reference_data()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("62321,interlaminar,false,,built_in,,2017-01-01,interlaminar,", "",
         "code 62321 of value set esi_cervical_thoracic has no row"),
        ("62321,interlaminar,false,,built_in,", "62321,interlaminar,false,,,",
         "code 62321: guidance '' is not one of built_in"),
        ("62320,interlaminar,", "62320,,", "code 62320: kind '' is not one of"),
        ("64480,transforaminal,true,64479,", "64480,transforaminal,true,,",
         "code 64480: an add-on needs addon_primary_code"),
        ("built_in,2011-01-01,2011-01-01,transforaminal,2026", "built_in,2011-13-01,2011-01-01,"
         "transforaminal,2026", "code 64479: guidance_built_in_from '2011-13-01' is not a"),
    ],
    ids=["no_row", "no_guidance", "no_kind", "addon_without_primary", "bad_date"],
)  # fmt: skip
def test_an_esi_code_without_usable_attributes_is_an_error(
    value_sets: Path, old: str, new: str, problem: str
) -> None:
    edit(value_sets / "ref_esi_codes.csv", old, new)
    with pytest.raises(ReferenceDataError) as error:
        check_reference_data()
    message = str(error.value)
    assert "\n" not in message and problem in message
    assert str(value_sets / "ref_esi_codes.csv") in message
    assert not error.value.user_supplied


def test_a_new_esi_code_needs_its_attributes(value_sets: Path) -> None:
    with (value_sets / "esi_cervical_thoracic.csv").open("a", encoding="utf-8") as f:
        f.write("esi_cervical_thoracic,0333T,CPT,a new code,2026.11.0,test\n")
    with pytest.raises(ReferenceDataError, match="code 0333T of value set esi_cervical_thoracic"):
        Audit().run()  # the runner checks too, before any model is built


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("emg_ncs,EMG/NCS,emg,", "emg_ncs_typo,EMG/NCS,emg,", "value set 'emg_ncs_typo' does not"),
        ("emg_ncs,EMG/NCS,emg,", "emg_ncs,EMG/NCS,imagery,", "evidence_kind 'imagery' is not one"),
        ("emg_ncs,EMG/NCS,emg,", "emg_ncs,,emg,", "evidence_label is empty"),
    ],
)
def test_evidence_value_sets_are_checked(
    value_sets: Path, old: str, new: str, problem: str
) -> None:
    edit(value_sets / "ref_value_set_labels.csv", old, new)
    with pytest.raises(ReferenceDataError, match=problem):
        check_reference_data()


def test_evidence_value_sets_are_named_once() -> None:
    """Rules and models select evidence by kind; the value-set names of the evidence kinds
    live only in ref_value_set_labels.csv (and the rules' header metadata)."""
    from jobs.audit.catalog import load_rules
    from jobs.resources import sql_dir

    labels = [row for _, row in reference.read_csv(reference.value_sets_dir() /
              "ref_value_set_labels.csv", ("value_set", "evidence_kind"))[1]]  # fmt: skip
    names = {row["value_set"] for row in labels} - {"drug_conservative_care"}
    for folder in ("intermediate", "rules"):
        for path in (sql_dir() / folder).glob("*.sql"):
            body = "\n".join(x.split("--")[0] for x in path.read_text().splitlines())
            assert not [n for n in names if f"'{n}'" in body], path.name
    headers = {rule.id: set(rule.value_sets) for rule in load_rules()}
    for row in labels:
        rule = (
            "conservative_care" if row["evidence_kind"] == "conservative_care" else "prior_imaging"
        )
        assert row["value_set"] in headers[rule], (rule, row["value_set"])


def test_the_job_stops_at_once_with_exit_1_on_broken_shipped_data(
    value_sets: Path, tuva10: Path, tmp_path: Path
) -> None:
    edit(
        value_sets / "ref_esi_codes.csv",
        "62321,interlaminar,false,,built_in,",
        "62321,x,false,,built_in,",
    )
    result = run(tuva10, tmp_path / "out")
    assert result.exit_code == 1
    assert "\n" not in result.message and "code 62321: kind 'x'" in result.message
    assert "load" not in result.manifest["stage_seconds"]  # nothing was loaded
    assert not (tmp_path / "out" / "audit.duckdb").exists()


def test_the_job_stops_at_once_with_exit_2_on_a_broken_crosswalk(
    tuva10: Path, tmp_path: Path
) -> None:
    (tmp_path / "ndc.csv").write_text("ndc,ingredient,drug_class,route\n12345678901,,,oral\n")
    config = tmp_path / "audit.toml"
    config.write_text('[reference]\nndc_crosswalk = "ndc.csv"\n')
    result = run(tuva10, tmp_path / "out", config_path=config)
    assert result.exit_code == 2
    assert (
        result.message == f"{tmp_path / 'ndc.csv'}: line 2: ingredient is empty for ndc 12345678901"
    )
    assert "load" not in result.manifest["stage_seconds"]
