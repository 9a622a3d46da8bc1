"""The baseline: what a capable analyst writes without claims-audit.

pandas reads the extracts, Great Expectations validates the pandas DataFrame
with the same kinds of checks (required keys, code shapes, dates, duplicate
keys), and the four criteria of the policy are computed in idiomatic pandas.
Run by bench/run_bench.py in its own process so its time and peak memory are
measured apart:

    python bench/baseline_pandas.py DATA_DIR OUT_CSV
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
sys.modules.setdefault("pyspark", None)  # keep GX from importing Spark in this process

import pandas as pd  # noqa: E402

DX = [f"diagnosis_code_{i}" for i in range(1, 26)]
MEDICAL_COLUMNS = [
    "claim_id", "claim_line_number", "person_id", "claim_type", "claim_start_date",
    "claim_line_start_date", "hcpcs_code", "hcpcs_modifier_1", "rendering_npi",
    "paid_amount", "revenue_center_code", "data_source", *DX,
]  # fmt: skip
ESI = {"62320", "62321", "62324", "62325", "64479", "64480", "0228T", "0229T", "62310", "62318"}
GUIDED = {"62321", "62325", "64479", "64480"}
QUALIFYING = ["M501", "M4721", "M4722", "M4723", "M5411", "M5412", "M5413", "M4801", "M4802",
              "M4803", "M9921", "M9931", "M9941", "M9951", "M9961", "M9971", "G542", "G55",
              "M961", "B0221", "B0222", "B0223", "B0224", "B0229", "B028", "B029",
              "G9612"]  # fmt: skip
PT = {"97161", "97162", "97163", "97164", "97110", "97112", "97113", "97116", "97140", "97150",
      "97530", "97535", "97012", "97014", "97032", "97033", "97035", "G0283", "98940", "98941",
      "98942", "98943", "98925", "98926", "98927", "98928", "98929"}  # fmt: skip
IMAGING = {"72141", "72142", "72156", "72125", "72126", "72127", "72240", "62302", "62305"}


def read(data: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    pq = data / f"{table}.parquet"
    if pq.exists():
        return pd.read_parquet(pq, columns=columns)
    return pd.read_csv(data / f"{table}.csv", usecols=columns, dtype=str, keep_default_na=False)


def parse_date(s: pd.Series) -> pd.Series:
    s = s.str.strip()
    out = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    for fmt in ("%Y%m%d", "%m/%d/%Y"):
        out = out.fillna(pd.to_datetime(s, format=fmt, errors="coerce"))
    return out


def validate(df: pd.DataFrame) -> pd.Series:
    """GX on the pandas DataFrame; returns the mask of rows to keep."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("claims").add_dataframe_asset("medical_claim")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": df}
    )
    suite = gx.ExpectationSuite(name="medical_claim")
    for col in ("claim_id", "claim_line_number", "person_id"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=col))
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(column="hcpcs_code", regex=r"^[A-Z0-9]{5}$")
    )
    for col in DX[:4]:
        suite.add_expectation(
            gxe.ExpectColumnValuesToMatchRegex(column=col, regex=r"^[A-Z][0-9][0-9A-Z]{1,5}$")
        )
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(column="rendering_npi", regex=r"^[0-9]{10}$")
    )
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="service_date"))
    suite.add_expectation(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["claim_id", "claim_line_number", "data_source"]
        )
    )
    result = batch.validate(suite, result_format="SUMMARY")
    print("gx success:", result.success, file=sys.stderr)
    keep = df["claim_id"].notna() & df["person_id"].notna() & df["service_date"].notna()
    keep &= df["hcpcs_code"].isna() | df["hcpcs_code"].str.fullmatch(r"[A-Z0-9]{5}")
    keep &= ~df.duplicated(["claim_id", "claim_line_number", "data_source"], keep=False)
    return keep


def main(data: Path, out: Path) -> None:
    t0 = time.time()
    med = read(data, "medical_claim", MEDICAL_COLUMNS)
    for col in ["hcpcs_code", "hcpcs_modifier_1", *DX]:
        med[col] = med[col].str.strip().str.upper().str.replace(".", "", regex=False)
        med[col] = med[col].replace("", None)
    med["service_date"] = parse_date(med["claim_line_start_date"].fillna(med["claim_start_date"]))
    med["paid_amount"] = pd.to_numeric(med["paid_amount"], errors="coerce")
    print(f"read {len(med):,} lines in {time.time() - t0:.1f}s", file=sys.stderr)

    med = med[validate(med)]
    med = med[med["paid_amount"].fillna(0) >= 0]

    esi = med[med["hcpcs_code"].isin(ESI)]
    claims = esi[["data_source", "claim_id"]].drop_duplicates()
    claim_dx = med.merge(claims, on=["data_source", "claim_id"])[["data_source", "claim_id", *DX]]
    claim_dx = claim_dx.melt(id_vars=["data_source", "claim_id"], value_name="dx").dropna()
    claim_dx["qualifies"] = claim_dx["dx"].str.startswith(tuple(QUALIFYING))
    qualifying = claim_dx.groupby(["data_source", "claim_id"])["qualifies"].any().rename("has_dx")
    esi = esi.merge(qualifying, on=["data_source", "claim_id"], how="left")

    persons = esi[["person_id"]].drop_duplicates()
    history = med.merge(persons, on="person_id")
    pt = history[history["hcpcs_code"].isin(PT) | (history["hcpcs_modifier_1"] == "GP")]
    pt = pt[["person_id", "service_date"]].rename(columns={"service_date": "pt_date"})
    img = history[history["hcpcs_code"].isin(IMAGING)][["person_id", "service_date"]]
    img = img.rename(columns={"service_date": "img_date"})

    lines = esi[["claim_id", "claim_line_number", "person_id", "service_date", "hcpcs_code",
                 "paid_amount", "has_dx"]].reset_index(drop=True)  # fmt: skip
    lines["line"] = lines.index
    care = lines.merge(pt, on="person_id")
    care = care[(care["pt_date"] < care["service_date"])
                & (care["pt_date"] >= care["service_date"] - pd.Timedelta(days=180))]  # fmt: skip
    first_care = care.groupby("line")["pt_date"].min()
    lines["first_care"] = lines["line"].map(first_care)
    imaging = lines.merge(img, on="person_id")
    imaging = imaging[(imaging["img_date"] <= imaging["service_date"])
                      & (imaging["img_date"]
                         >= imaging["service_date"] - pd.Timedelta(days=730))]  # fmt: skip
    lines["has_imaging"] = lines["line"].isin(imaging["line"])
    guidance = history[history["hcpcs_code"].isin({"77003", "77012"})][
        ["person_id", "service_date"]
    ]
    guidance = guidance.drop_duplicates().assign(has_guidance=True)
    lines = lines.merge(guidance, on=["person_id", "service_date"], how="left")

    findings = []
    findings.append(lines[~lines["has_dx"].fillna(False)].assign(rule_id="qualifying_dx"))
    late = (lines["service_date"] - lines["first_care"]).dt.days < 42
    findings.append(lines[lines["first_care"].isna() | late].assign(rule_id="conservative_care"))
    findings.append(lines[~lines["has_imaging"]].assign(rule_id="prior_imaging"))
    unguided = ~lines["hcpcs_code"].isin(GUIDED) & ~lines["has_guidance"].fillna(False).astype(bool)
    findings.append(lines[unguided].assign(rule_id="imaging_guidance"))
    result = pd.concat(findings)[["claim_id", "claim_line_number", "rule_id", "paid_amount"]]
    result.sort_values(["rule_id", "claim_id", "claim_line_number"]).to_csv(out, index=False)
    print(f"baseline: {len(result):,} findings in {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
