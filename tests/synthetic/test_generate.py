"""The synthetic data generator (`claims-audit generate`): size, layout,
determinism, planted defects, and the answer key.

The answer key (expected_findings.csv) comes from the scenario catalog. Here it
is checked against a second, independent reading of the policy: a compact
oracle in SQL over the generated files (never the project's rule SQL).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest

from jobs.ingest.load import install_macros
from jobs.synthetic import drugs
from jobs.synthetic.generator import LAYOUTS, generate
from jobs.synthetic.scenarios import RULES, STATUSES, catalog
from tests.audit.rule_harness import policy_reversal_pairs


def _codes(text: str) -> list[str]:
    return text.split()


TABLES = list(LAYOUTS)
REASONS = set(
    _codes(
        "missing_claim_id missing_person_id missing_claim_line_number missing_service_date "
        "invalid_date malformed_hcpcs_code malformed_diagnosis_code invalid_npi duplicate_key "
        "malformed_ndc_code"
    )
)


@pytest.fixture(scope="module")
def ds50k(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen50k")
    generate(out, 50_000, seed=0)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("gensmall")
    generate(base / "parquet", 6_000, seed=3, fmt="parquet")
    generate(base / "csv", 6_000, seed=3, fmt="csv")
    return base / "parquet", base / "csv"


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con)  # the project's ca_parse_date, ca_npi_is_valid, ca_ndc11
    return con


def _read(path: Path, table: str) -> str:
    """A table of a generated directory, with file_row_number (0-based record)."""
    pq = path / f"{table}.parquet"
    if pq.exists():
        return f"read_parquet('{pq}', file_row_number = true)"
    reader = f"read_csv('{path / f'{table}.csv'}', all_varchar = true, header = true)"
    return f"(select *, row_number() over () - 1 as file_row_number from {reader})"


def _csv_rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


# ------------------------------------------------------------ size and layout


@pytest.mark.parametrize("lines", [1, 7, 999, 4_321])
def test_exact_line_count(tmp_path, lines):
    result = generate(tmp_path, lines, seed=1)
    con = _con()
    assert _count(con, f"select count(*) from {_read(tmp_path, 'medical_claim')}") == lines
    assert result.row_counts["medical_claim"] == lines
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / ".generate-tmp").exists()


def test_switching_format_replaces_the_earlier_extract(tmp_path):
    generate(tmp_path, 50, fmt="csv")
    generate(tmp_path, 50, fmt="parquet")
    assert not list(tmp_path.glob("*.csv.part"))
    assert {p.suffix for p in tmp_path.glob("medical_claim.*")} == {".parquet"}


def test_result_describes_what_was_written(ds50k, tmp_path):
    result = generate(tmp_path, 2_000, seed=0)
    con = _con()
    for table in TABLES:
        assert result.paths[table].exists()
        n = _count(con, f"select count(*) from {_read(tmp_path, table)}")
        assert result.row_counts[table] == n, table
    assert result.n_expected_findings == len(_csv_rows(tmp_path / "expected_findings.csv"))
    assert result.n_expected_rejections == len(_csv_rows(tmp_path / "expected_rejections.csv"))


def test_table_proportions(ds50k):
    con = _con()
    n = {t: _count(con, f"select count(*) from {_read(ds50k, t)}") for t in TABLES}
    assert n["medical_claim"] == 50_000
    assert 0.18 <= n["pharmacy_claim"] / 50_000 <= 0.22
    assert 0.03 <= n["eligibility"] / 50_000 <= 0.05
    assert n["procedure"] > 0 and n["practitioner"] > 0


def test_columns_match_real_tuva_extracts(ds50k, tuva10):
    con = _con()
    for table in ("medical_claim", "pharmacy_claim", "eligibility"):
        with (tuva10 / f"{table}.csv").open() as f:
            real = next(csv.reader(f))
        path = ds50k / f"{table}.parquet"
        ours = [r[0] for r in con.execute(f"describe select * from '{path}'").fetchall()]
        assert ours == real, table
    assert [len(LAYOUTS[t]) for t in ("medical_claim", "pharmacy_claim", "eligibility")] == [
        148,
        25,
        39,
    ]


def test_parquet_columns_are_all_varchar(ds50k):
    con = _con()
    for table in TABLES:
        path = ds50k / f"{table}.parquet"
        types = {r[1] for r in con.execute(f"describe select * from '{path}'").fetchall()}
        assert types == {"VARCHAR"}, table


def test_readme_describes_the_data_set(ds50k):
    text = (ds50k / "README.md").read_text()
    assert "Synthetic data" in text and "seed: 0" in text and "50,000" in text


# ------------------------------------------------------------ determinism


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate(tmp_path / name, 3_000, seed=seed)
    a, b, c = (
        {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / x).iterdir()}
        for x in "abc"
    )
    assert a == b
    assert all(a[name] != c[name] for name in a if name.endswith(".parquet"))


def test_csv_and_parquet_hold_the_same_content(small):
    pq, csv_dir = small
    con = _con()
    for table in TABLES:
        p = f"(select * exclude (file_row_number) from {_read(pq, table)})"
        c = f"read_csv('{csv_dir / f'{table}.csv'}', all_varchar = true, header = true)"
        # CSV cannot tell '' from NULL; the generator never writes ''
        for x, y in ((p, c), (c, p)):
            diff = _count(con, f"select count(*) from (from {x} except all from {y})")
            assert diff == 0, table
    for name in ("expected_findings.csv", "expected_rejections.csv", "expected_scenarios.csv"):
        assert (pq / name).read_text() == (csv_dir / name).read_text()


# ------------------------------------------------------------ answer key coverage


def test_50k_lines_cover_every_rule_status_scenario_and_code(ds50k):
    findings = _csv_rows(ds50k / "expected_findings.csv")
    assert list(findings[0]) == ["claim_id", "claim_line_number", "rule_id", "status"]
    assert {f["rule_id"] for f in findings} == set(RULES)
    assert {f["status"] for f in findings} == set(STATUSES)
    keys = [(f["claim_id"], int(f["claim_line_number"]), f["rule_id"]) for f in findings]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    scenarios = {r["scenario"] for r in _csv_rows(ds50k / "expected_scenarios.csv")}
    assert scenarios == {sc.name for sc in catalog()}
    con = _con()
    m = _read(ds50k, "medical_claim")
    codes = {
        r[0] for r in con.execute(f"select distinct upper(trim(hcpcs_code)) from {m}").fetchall()
    }
    kinds = set(
        _codes(
            "62320 62321 62324 62325 64479 64480 0228T 0229T 62310 62318 "
            "62322 62323 64483 64484 77003 77012"
        )
    )
    assert kinds <= codes


def test_expected_findings_name_existing_lines_of_esi_persons(ds50k):
    con = _con()
    orphans = _count(
        con,
        f"""
        with m as (select * from {_read(ds50k, "medical_claim")}),
        f as (from read_csv('{ds50k / "expected_findings.csv"}', all_varchar = true)),
        s as (from read_csv('{ds50k / "expected_scenarios.csv"}', all_varchar = true))
        select count(*) from f where not exists (
            select 1 from m join s using (person_id)
            where m.claim_id = f.claim_id and m.claim_line_number = f.claim_line_number)
        """,
    )
    assert orphans == 0


def test_compliant_persons_have_no_findings(ds50k):
    """The key names no line of an 'ok_' scenario person, nor of a general person, and
    every violating scenario present has its findings. (Issue 13: this test counted
    `count(distinct s.scenario like 'ok%')` after keeping only the others: always 1.)"""
    con = _con()
    by_scenario = dict(
        con.execute(
            f"""
            select coalesce(s.scenario, '(general person)'), count(*)
            from read_csv('{ds50k / "expected_findings.csv"}', all_varchar = true) as f
            join {_read(ds50k, "medical_claim")} as m
                on m.claim_id = f.claim_id and m.claim_line_number = f.claim_line_number
            left join read_csv('{ds50k / "expected_scenarios.csv"}', all_varchar = true) as s
                using (person_id)
            group by 1
            """
        ).fetchall()
    )
    n_key = len(_csv_rows(ds50k / "expected_findings.csv"))
    assert sum(by_scenario.values()) == n_key > 0  # every finding names one line
    assert "(general person)" not in by_scenario
    assert not [name for name in by_scenario if name.startswith("ok_")]
    present = {r["scenario"] for r in _csv_rows(ds50k / "expected_scenarios.csv")}
    violating = {sc.name for sc in catalog() if sc.expected} & present
    assert violating and set(by_scenario) == violating


def test_catalog_is_consistent():
    scenarios = catalog()
    assert len({sc.name for sc in scenarios}) == len(scenarios)
    for sc in scenarios:
        assert sc.name.startswith("ok_") == (not sc.expected)


# ------------------------------------------------------------ planted defects


def test_planted_rejections_are_listed_and_about_two_per_mille(ds50k):
    rows = _csv_rows(ds50k / "expected_rejections.csv")
    assert list(rows[0]) == ["table", "claim_id", "claim_line_number", "reason", "record_number"]
    assert {r["reason"] for r in rows} == REASONS
    medical = [r for r in rows if r["table"] == "medical_claim"]
    assert 0.0015 <= len(medical) / 50_000 <= 0.003
    dup = [r for r in medical if r["reason"] == "duplicate_key"]
    assert dup and len({(r["claim_id"], r["claim_line_number"]) for r in dup}) == len(dup) // 2


def test_each_planted_row_shows_its_defect_and_no_other_row_has_one(ds50k):
    """Recompute the contract's blocking checks on the medical file: the rows
    failing them are exactly the planted ones, each for its one reason."""
    con = _con()
    m = _read(ds50k, "medical_claim")
    con.execute(f"create table m as select file_row_number + 1 as record_number, * from {m}")
    dx = " union all ".join(
        f"select record_number, diagnosis_code_{i} as v from m" for i in range(1, 26)
    )
    dates = " or ".join(
        f"({c} is not null and ca_parse_date(trim({c})) is null)"
        for c in (
            "claim_start_date",
            "claim_end_date",
            "claim_line_start_date",
            "claim_line_end_date",
        )
    )
    found = con.execute(
        f"""
        with issues as (
            select record_number, 'missing_claim_id' as reason from m where claim_id is null
            union all
            select record_number, 'missing_person_id' from m where person_id is null
            union all
            select record_number, 'missing_claim_line_number' from m
            where claim_line_number is null
            union all
            select record_number, 'missing_service_date' from m
            where claim_line_start_date is null and claim_start_date is null
            union all
            select record_number, 'invalid_date' from m where {dates}
            union all
            select record_number, 'malformed_hcpcs_code' from m where hcpcs_code is not null
                and not regexp_full_match(upper(trim(hcpcs_code)),
                                          '[0-9]{{5}}|[0-9]{{4}}[A-Z]|[A-Z][0-9]{{4}}')
            union all
            select distinct record_number, 'malformed_diagnosis_code' from ({dx})
            where v is not null and not regexp_full_match(
                replace(upper(trim(v)), '.', ''), '[A-Z][0-9][0-9A-Z]{{1,5}}')
            union all
            select record_number, 'invalid_npi' from m
            where rendering_npi is not null and not ca_npi_is_valid(rendering_npi)
            union all
            select record_number, 'duplicate_key' from m
            where (claim_id, claim_line_number, data_source) in (
                select (claim_id, claim_line_number, data_source) from m
                where claim_id is not null and claim_line_number is not null
                group by all having count(*) > 1)
        )
        select cast(record_number as varchar), reason from issues order by 1, 2
        """
    ).fetchall()
    rejections = _csv_rows(ds50k / "expected_rejections.csv")
    planted = sorted(
        (r["record_number"], r["reason"]) for r in rejections if r["table"] == "medical_claim"
    )
    assert sorted(found) == planted
    bad_ndc = con.execute(
        f"""select cast(file_row_number + 1 as varchar) from {_read(ds50k, "pharmacy_claim")}
            where not regexp_full_match(ca_ndc11(trim(ndc_code)), '[0-9]{{11}}')"""
    ).fetchall()
    assert sorted(r[0] for r in bad_ndc) == sorted(
        r["record_number"] for r in rejections if r["table"] == "pharmacy_claim"
    )


def test_every_npi_passes_its_check_digit_except_planted(ds50k):
    con = _con()
    columns = {
        "medical_claim": ["rendering_npi", "billing_npi", "facility_npi"],
        "pharmacy_claim": ["prescribing_provider_npi", "dispensing_provider_npi"],
        "practitioner": ["npi"],
    }
    bad = []
    for table, cols in columns.items():
        for c in cols:
            bad += con.execute(
                f"select '{table}', cast(file_row_number + 1 as varchar) "
                f"from {_read(ds50k, table)} where {c} is not null and not ca_npi_is_valid({c})"
            ).fetchall()
    planted = [
        ("medical_claim", r["record_number"])
        for r in _csv_rows(ds50k / "expected_rejections.csv")
        if r["reason"] == "invalid_npi"
    ]
    assert planted and sorted(bad) == sorted(planted)
    practitioners = _read(ds50k, "practitioner")
    distinct, total = con.execute(
        f"select count(distinct npi), count(*) from {practitioners}"
    ).fetchone()
    assert distinct == total


def test_defects_and_warnings_never_touch_esi_persons(ds50k):
    con = _con()
    esi = {r["person_id"] for r in _csv_rows(ds50k / "expected_scenarios.csv")}
    m = _read(ds50k, "medical_claim")
    person_at = dict(
        con.execute(f"select cast(file_row_number + 1 as varchar), person_id from {m}").fetchall()
    )
    for name in ("expected_rejections.csv", "expected_warnings.csv"):
        for r in _csv_rows(ds50k / name):
            if r["table"] == "medical_claim" and r.get("warning") != "missing_rendering_npi":
                assert person_at[r["record_number"]] not in esi, (name, r)


def test_messy_values_appear(ds50k):
    con = _con()
    counts = con.execute(
        f"""select
            count(*) filter (where diagnosis_code_1 like '%.%'),
            count(*) filter (where diagnosis_code_1 <> upper(diagnosis_code_1)),
            count(*) filter (where diagnosis_code_1 <> trim(diagnosis_code_1)),
            count(*) filter (where hcpcs_code <> upper(trim(hcpcs_code))),
            count(*) filter (where regexp_full_match(claim_start_date, '[0-9]{{8}}')),
            count(*) filter (where claim_start_date like '%/%'),
            count(*) filter (where diagnosis_code_type = 'icd-10-pcs'),
            count(*) filter (where cast(paid_amount as double) < 0),
            count(*) filter (where length(revenue_center_code) = 3)
        from {_read(ds50k, "medical_claim")}"""
    ).fetchone()
    assert all(x > 0 for x in counts), counts
    rx = _read(ds50k, "pharmacy_claim")
    assert _count(con, f"select count(*) from {rx} where ndc_code like '%-%'") > 0
    ssn, email, names, total = con.execute(
        f"""select
            count(*) filter (where regexp_full_match(social_security_number,
                                                     '9[0-9]{{2}}-[0-9]{{2}}-[0-9]{{4}}')),
            count(*) filter (where email like '%@example.com'),
            count(*) filter (where first_name is not null and address is not null),
            count(*)
        from {_read(ds50k, "eligibility")}"""
    ).fetchone()
    assert ssn == email == names == total  # filled, and visibly fake


def test_persons_missing_from_eligibility_are_only_the_planted_ones(ds50k):
    con = _con()
    absent = {
        r[0]
        for r in con.execute(
            f"""select person_id from {_read(ds50k, "medical_claim")} where person_id is not null
                except select person_id from {_read(ds50k, "eligibility")}"""
        ).fetchall()
    }
    planted = {
        r["person_id"]
        for r in _csv_rows(ds50k / "expected_scenarios.csv")
        if r["scenario"] in ("cc_fail_not_in_eligibility", "both_fail_not_in_eligibility")
    }
    assert planted and absent == planted


# ------------------------------------------------------------ the oracle


# Value sets as the policy page writes them (prefixes of normalized ICD-10-CM).
ESI = _codes("62320 62321 62324 62325 64479 64480 0228T 0229T 62310 62318")
CERVICAL = _codes(
    "M50 M5411 M5412 M5413 M542 M4711 M4712 M4713 M4721 M4722 M4723 M47811 M47812 M47813 "
    "M47891 M47892 M47893 M4801 M4802 M4803 M9901 M9911 M9921 M9931 M9941 M9951 M9961 M9971 "
    "G542 M530 M531 M5382 M4312 M4313 S13 S14"
)
THORACIC = _codes(
    "M5104 M5105 M5114 M5115 M5124 M5125 M5134 M5135 M5144 M5145 M5184 M5185 M5414 M5415 "
    "M546 M4714 M4715 M4724 M4725 M47814 M47815 M47894 M47895 M4804 M4805 M9902 M9912 M9922 "
    "M9932 M9942 M9952 M9962 M9972 G543 S23 S24"
)
QUALIFYING = _codes(
    "M501 M4721 M4722 M4723 M5411 M5412 M5413 M4801 M4802 M4803 M9921 M9931 M9941 M9951 "
    "M9961 M9971 G542 G55 M961 B0221 B0222 B0223 B0224 B0229 B028 B029 G9612"
)
MYELOPATHY = _codes("M500 M4711 M4712 M4713 G9520 G9529 G992")
CONSERVATIVE = _codes(  # and L0120-L0200, modifiers GP/GO, revenue codes 0420-0429
    "97161 97162 97163 97164 97110 97112 97113 97116 97140 97150 97530 97535 97012 97014 "
    "97032 97033 97035 G0283 97165 97166 97167 97168 98940 98941 98942 98943 98925 98926 "
    "98927 98928 98929 E0840 E0849 E0850 E0855 E0856 E0860 98975 98977 98980 98981"
)
IMAGING = _codes("72141 72142 72156 72125 72126 72127 72240 62302 62305")


def oracle_ndc11(con: duckdb.DuckDBPyConnection) -> None:
    """The oracle's own NDC normalizer (not the loader's ca_ndc11): a dashed NDC's three
    segments padded to 5-4-2, an undashed one as it is."""
    con.execute(
        """
        create macro oracle_ndc11(x) as case
            when x like '%-%-%' then lpad(split_part(x, '-', 1), 5, '0')
                || lpad(split_part(x, '-', 2), 4, '0') || lpad(split_part(x, '-', 3), 2, '0')
            else x
        end
        """
    )


def _oracle_crosswalk(con: duckdb.DuckDBPyConnection) -> None:
    """The generator's own drug facts (jobs/synthetic/drugs.py, not the product's crosswalk)
    as table xwalk(ndc, counts): a fill counts per policy 2.2 (1.1) by ingredient and route."""
    rows = [(ndc, drugs.counts(i, r)) for ndc, (i, r) in drugs.facts().items()]
    con.execute("create table xwalk (ndc varchar, counts boolean)")
    con.executemany("insert into xwalk values (?, ?)", rows)


def _cancelled_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Table cancelled(claim_id, ln): the lines reversals cancel, by the policy's loop
    (section 1, 1.1) over the ESI persons' medical lines."""
    lines = [
        {"group": (p, src, sd, code, npi, round(abs(paid) * 100)), "claim": c, "line": ln,
         "paid": paid}
        for c, ln, p, src, sd, code, npi, paid in con.execute(
            "select claim_id, ln, person_id, coalesce(data_source, ''), sd, "
            "coalesce(hcpcs, ''), coalesce(npi, ''), paid from med where paid <> 0"
        ).fetchall()
    ]  # fmt: skip
    con.execute("create table cancelled (claim_id varchar, ln integer)")
    cancelled = list(policy_reversal_pairs(lines).values())
    if cancelled:
        con.executemany("insert into cancelled values (?, ?)", cancelled)


def _oracle(con: duckdb.DuckDBPyConnection, ds: Path) -> list[tuple]:
    """The policy's nine rules (version 1.1), default parameters, on the ESI persons' rows."""
    con.execute("create macro norm(x) as nullif(replace(upper(trim(x)), '.', ''), '')")
    con.execute(
        "create macro any_prefix(codes, ps) as len(list_filter(codes, lambda d: "
        "len(list_filter(ps, lambda p: starts_with(d, p))) > 0)) > 0"
    )
    oracle_ndc11(con)
    _oracle_crosswalk(con)
    scenarios = ds / "expected_scenarios.csv"
    con.execute(f"create table scen as from read_csv('{scenarios}', all_varchar = true)")
    mods = ", ".join(f"norm(hcpcs_modifier_{i})" for i in range(1, 6))
    dxs = ", ".join(f"norm(diagnosis_code_{i})" for i in range(1, 26))
    procedures = _read(ds, "procedure")
    con.execute(
        f"""
        create table med as
        select claim_id, cast(claim_line_number as integer) as ln, person_id,
            nullif(trim(data_source), '') as data_source,
            nullif(trim(rendering_npi), '') as npi,
            nullif(lower(trim(claim_type)), '') as claim_type,
            coalesce(ca_parse_date(trim(claim_line_start_date)),
                     ca_parse_date(trim(claim_start_date))) as sd,
            norm(hcpcs_code) as hcpcs,
            list_filter([{mods}], lambda x: x is not null) as mods,
            try_cast(trim(service_unit_quantity) as double) as units,
            cast(paid_amount as double) as paid,
            lpad(trim(revenue_center_code), 4, '0') as rev,
            list_filter([{dxs}], lambda x: x is not null) as dx
        from {_read(ds, "medical_claim")}
        where person_id in (select person_id from scen)
        """
    )
    _cancelled_lines(con)
    con.execute(
        f"""
        -- live lines: no reversal, no line a reversal cancels (policy 1.1, section 1)
        create table live as
        select * from med where paid >= 0
            and (claim_id, ln) not in (select (claim_id, ln) from cancelled);

        create table cdx as select claim_id, flatten(list(dx)) as cdx from live group by claim_id;

        -- ESI lines: live, not thoracic-only claims
        create table esi as
        select m.*, c.cdx from live as m join cdx as c using (claim_id)
        where m.hcpcs in {tuple(ESI)}
          and not (any_prefix(c.cdx, {THORACIC}) and not any_prefix(c.cdx, {CERVICAL}));

        -- add-ons with a primary on their claim are folded into it: the primary on the
        -- add-on's date with the lowest line number, else the lowest line number
        create table folded as
        select e.*, (
            select p.ln from esi as p
            where p.claim_id = e.claim_id
                and p.hcpcs = case e.hcpcs when '64480' then '64479' else '0228T' end
            order by (p.sd = e.sd) desc, p.ln limit 1) as primary_ln
        from esi as e where e.hcpcs in ('64480', '0229T');

        create table audited as
        select * from esi as e where not exists (
            select 1 from folded as f
            where f.claim_id = e.claim_id and f.ln = e.ln and f.primary_ln is not null);

        -- lines of a session, on their own date (1.1): audited lines and folded add-ons,
        -- each reported on report_ln (a folded add-on on its primary)
        create table session_lines as
        select *, ln as report_ln from audited
        union all
        select * exclude (primary_ln), primary_ln from folded where primary_ln is not null;

        create table cc_ev as
        select person_id, sd as d from live
        where hcpcs in {tuple(CONSERVATIVE)} or hcpcs between 'L0120' and 'L0200'
            or list_has_any(mods, ['GP', 'GO']) or rev between '0420' and '0429'
        union all
        select person_id, ca_parse_date(trim(procedure_date)) from {procedures}
        where coalesce(norm(normalized_code), norm(source_code)) in {tuple(CONSERVATIVE)}
        union all
        select r.person_id, ca_parse_date(trim(r.dispensing_date))
        from {_read(ds, "pharmacy_claim")} as r
        join xwalk as x on oracle_ndc11(trim(r.ndc_code)) = x.ndc
        where x.counts;

        create table img_ev as
        select person_id, sd as d from live where hcpcs in {tuple(IMAGING)}
        union all
        select person_id, ca_parse_date(trim(procedure_date)) from {procedures}
        where coalesce(norm(normalized_code), norm(source_code)) in {tuple(IMAGING)};

        -- enrollment spans merged (adjacent or overlapping), open end = forever
        create table spans as
        with s as (
            select person_id, ca_parse_date(trim(enrollment_start_date)) as s,
                coalesce(ca_parse_date(trim(enrollment_end_date)), date '9999-12-31') as e
            from {_read(ds, "eligibility")} where person_id in (select person_id from scen)),
        o as (
            select *, max(e) over (partition by person_id order by s
                rows between unbounded preceding and 1 preceding) as prev
            from s),
        g as (
            select *, sum(case when prev is null or s > prev + 1 then 1 else 0 end) over (
                partition by person_id order by s rows unbounded preceding) as grp
            from o)
        select person_id, min(s) as s, max(e) as e from g group by person_id, grp;

        create macro covered(p, a, b) as
            exists (select 1 from spans where person_id = p and s <= a and e >= b);

        create table sessions as select distinct person_id, sd from audited;
        """
    )
    return con.execute(
        f"""
        with prof as (
            select * from session_lines
            where claim_type is null or claim_type = 'professional'),
        il as (
            select *, count(*) over (partition by person_id, sd) as n_session from audited
            where (claim_type is null or claim_type = 'professional')
                and hcpcs in ('62320', '62321', '62310')),
        tf_levels as (
            select person_id, sd,
                sum(case when not list_contains(mods, 'LT')
                    then coalesce(nullif(units, 0), 1) else 0 end) as right_n,
                sum(case when not list_contains(mods, 'RT')
                    then coalesce(nullif(units, 0), 1) else 0 end) as left_n
            from prof where hcpcs in ('64479', '64480')
            group by all),
        over_limit as (
            select * from sessions as s
            where (select count(*) from sessions as t
                   where t.person_id = s.person_id and t.sd between s.sd - 364 and s.sd) > 4),
        findings as (
            select claim_id, ln, 'qualifying_dx' as rule_id, 'fail' as status from audited
            where not any_prefix(cdx, {QUALIFYING}) and not any_prefix(cdx, ['G8912', 'G8918'])
            union all
            select claim_id, ln, 'conservative_care',
                case when covered(person_id, sd - 180, sd - 1) then 'fail'
                    else 'insufficient_history' end
            from audited as a where not any_prefix(cdx, ['B02']) and not exists (
                select 1 from cc_ev as e
                where e.person_id = a.person_id and e.d between a.sd - 180 and a.sd - 42)
            union all
            select claim_id, ln, 'prior_imaging',
                case when covered(person_id, sd - 730, sd) then 'fail'
                    else 'insufficient_history' end
            from audited as a where not exists (
                select 1 from img_ev as e
                where e.person_id = a.person_id and e.d between a.sd - 730 and a.sd)
            union all
            select claim_id, ln, 'imaging_guidance', 'fail' from audited as a
            where hcpcs in ('62320', '62324', '0228T', '0229T')
                or ((hcpcs in ('62310', '62318')
                        or (hcpcs in ('64479', '64480') and sd < date '2011-01-01'))
                    and not exists (
                        select 1 from live as g where g.person_id = a.person_id and g.sd = a.sd
                        and g.hcpcs in ('77003', '77012')))
            union all
            select l.claim_id, l.report_ln, 'session_frequency', 'fail'
            from session_lines as l join over_limit using (person_id, sd)
            union all
            select claim_id, ln, 'guidance_unbundled', 'fail' from live as g
            where hcpcs in ('77003', '77012') and exists (
                select 1 from session_lines as a
                where a.person_id = g.person_id and a.sd = g.sd and (
                    (a.hcpcs in ('62321', '62325') and a.sd >= date '2017-01-01')
                    or (a.hcpcs in ('64479', '64480') and a.sd >= date '2011-01-01')))
            union all
            select claim_id, ln, 'myelopathy_review', 'review' from audited
            where any_prefix(cdx, {MYELOPATHY})
            union all
            select claim_id, ln, 'interlaminar_levels', 'fail' from il
            where coalesce(units, 1) > 1 or list_contains(mods, '50') or n_session > 1
            union all
            select p.claim_id, p.report_ln, 'transforaminal_levels', 'fail'
            from prof as p join tf_levels as t using (person_id, sd)
            where p.hcpcs in ('64479', '64480') and greatest(t.right_n, t.left_n) > 2
        )
        select claim_id, cast(ln as varchar), rule_id, status
        from (select distinct * from findings)
        order by claim_id, ln, rule_id
        """
    ).fetchall()


def test_answer_key_agrees_with_an_independent_reading_of_the_policy(ds50k):
    oracle = _oracle(_con(), ds50k)
    key = [tuple(r.values()) for r in _csv_rows(ds50k / "expected_findings.csv")]
    missing, extra = sorted(set(oracle) - set(key)), sorted(set(key) - set(oracle))
    assert not missing and not extra, {"oracle only": missing[:10], "key only": extra[:10]}
    assert oracle == key
