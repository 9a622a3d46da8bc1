"""The demo's data (issue 13): the demo profile, and the earlier extract of the same data
that the demo audits first (jobs/synthetic/demo.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from jobs.synthetic.demo import DEMO_PROFILE, write_earlier_extract
from jobs.synthetic.generator import LAYOUTS, Profile, generate


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo-data") / "input"
    generate(data, 8_000, seed=3, profile=DEMO_PROFILE)
    return data


def rows(path: Path, columns: str = "*") -> list[tuple]:
    return duckdb.sql(f"select {columns} from read_parquet('{path}')").fetchall()


def test_injections_are_billed_by_the_profile_s_injectors_with_one_outlier(demo_set) -> None:
    esi = ("62320", "62321", "64479", "64480", "0228T", "62310", "62324", "62325")
    billed = duckdb.sql(
        f"""
        select rendering_npi, count(*) as n
        from read_parquet('{demo_set / "medical_claim.parquet"}')
        where upper(trim(hcpcs_code)) in {esi} and rendering_npi is not null
            and cast(paid_amount as decimal(18, 2)) > 0
        group by all order by n desc
        """
    ).fetchall()
    assert len(billed) <= DEMO_PROFILE.n_esi_practitioners
    assert billed[0][1] > 2 * billed[1][1]  # the outlier bills far more than the next


def test_a_profile_cannot_name_more_injectors_than_the_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_esi_practitioners"):
        generate(tmp_path, 100, profile=Profile(n_esi_practitioners=41))


def test_the_earlier_extract_holds_what_was_loaded_a_year_before(demo_set, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    cutoff = write_earlier_extract(demo_set, earlier, 12)
    last = max(dt.date.fromisoformat(d) for (d,) in rows(demo_set / "medical_claim.parquet",
                                                            "file_date"))  # fmt: skip
    assert cutoff == dt.date(last.year - 1, last.month, last.day)
    assert sorted(p.name for p in earlier.iterdir()) == sorted(f"{t}.parquet" for t in LAYOUTS)
    for table in ("medical_claim", "pharmacy_claim", "eligibility"):
        everything = rows(demo_set / f"{table}.parquet")
        column = LAYOUTS[table].index("file_date")
        kept = [
            r for r in everything if r[column] is None or dt.date.fromisoformat(r[column]) < cutoff
        ]
        assert rows(earlier / f"{table}.parquet") == kept, table  # same rows, same order
        assert len(kept) < len(everything) or table == "eligibility"
    assert rows(earlier / "practitioner.parquet") == rows(demo_set / "practitioner.parquet")
    dates = [d for (d,) in rows(earlier / "procedure.parquet", "procedure_date")]
    assert dates and len(dates) < len(rows(demo_set / "procedure.parquet"))
