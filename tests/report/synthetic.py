"""A synthetic audit database holding every table the report reads.

Built directly rather than by running the pipeline, so the report can be tested and
benchmarked at any size: small, with hostile text in every field that reaches the
report, or at payer scale (5,000 providers, 100,000 findings; see bench_report.py).
The rows look like a real run: ESI lines with thoracic, reversal and folded add-on
exclusions, findings per rule with realistic evidence, a previous successful run,
rejected rows with their original values, validation results and warnings.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jobs.audit import params as params_module
from jobs.audit.runner import finding_totals
from jobs.ingest import schema
from jobs.report.context.summary import out_of_scope_codes
from jobs.review.decisions import dollar_totals
from jobs.synthetic.scenarios import ESI_CODES as GENERATOR_ESI_CODES
from jobs.validation import quarantine, validate

# The exception columns (README, "Outputs") and the audit's tables.
EXCEPTION_COLUMNS = (
    "run_id, finding_id, rule_id, rule_version, status, severity, data_source, claim_id, "
    "claim_line_number, person_id, rendering_npi, service_date, hcpcs_code, paid_amount, "
    "evidence, first_seen_on, review_state"
)
FINDINGS_DDL = """
create table findings (
    run_id varchar, finding_id varchar, rule_id varchar, rule_version varchar, status varchar,
    severity varchar, data_source varchar, claim_id varchar, claim_line_number integer,
    person_id varchar, rendering_npi varchar, service_date date, hcpcs_code varchar,
    paid_amount decimal(18, 2), evidence varchar, first_seen_on date, review_state varchar
)
"""
RUN_DATE = dt.date(2025, 1, 2)  # the run's date (STARTED_AT)
# review states of the findings (issue 15): most are open or new, a few decided
REVIEW_STATES = (
    ("open", 60), ("new", 25), ("confirmed", 5), ("not_an_error", 4), ("waived", 3),
    ("education", 3),
)  # fmt: skip
RULE_STATS_DDL = """
create table rule_stats (
    run_id varchar, rule_id varchar, rule_version varchar, title varchar, severity varchar,
    lines_checked bigint, lines_exempt bigint, findings bigint
)
"""


RUN_ID = "20250102T020000Z-c0ffee"
PREVIOUS_RUN_ID = "20250101T020000Z-beef01"
STARTED_AT = "2025-01-02T02:00:00+00:00"
MEMBER_PREFIX = "MBR"  # member ids look like MBR00001234: easy to search for in the HTML

# rule id, severity, base rate per audited line, version
RULES = (
    ("qualifying_dx", "high", 0.06),
    ("conservative_care", "high", 0.10),
    ("prior_imaging", "high", 0.07),
    ("imaging_guidance", "high", 0.04),
    ("session_frequency", "high", 0.02),
    ("guidance_unbundled", "medium", 0.03),
    ("myelopathy_review", "review", 0.01),
    ("interlaminar_levels", "medium", 0.02),
    ("transforaminal_levels", "medium", 0.015),
)
TITLES = {
    "qualifying_dx": "A qualifying cervical radicular diagnosis is on the claim",
    "conservative_care": "Six weeks of conservative care before the injection",
    "prior_imaging": "A prior MRI or CT of the cervical spine",
    "imaging_guidance": "Fluoroscopic or CT guidance is billed",
    "session_frequency": "More ESI sessions than allowed in any rolling 365 days",
    "guidance_unbundled": (
        "Fluoroscopic or CT guidance billed apart from an injection code that includes it"
    ),
    "myelopathy_review": "Myelopathy diagnosis on the injection claim",
    "interlaminar_levels": "Interlaminar injection over one level or billed bilateral",
    "transforaminal_levels": "More than two transforaminal levels on one side in a session",
}
ESI_CODES = tuple(sorted(GENERATOR_ESI_CODES))
PRIMARY_WEIGHTS = {
    "62321": 45,
    "64479": 30,
    "62320": 6,
    "62325": 4,
    "0228T": 2,
    "62310": 1,
    "62324": 1,
}
FIRST_NAMES = ("Ana", "Ben", "Chloe", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jon")
LAST_NAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "García", "Novak", "Haddad", "Kim")
SPECIALTIES = (
    "Anesthesiology",
    "Pain Medicine",
    "Physical Medicine & Rehabilitation",
    "Interventional Radiology",
    "Neurology",
)

# One hostile string per field that reaches the report.
HOSTILE = {
    "first_name": "<img src=x onerror=alert(1)>",
    "last_name": '"><script>alert(2)</script>',
    "specialty": "<svg onload=alert(3)>",
    "affiliation": "' onmouseover='alert(4)",
    "evidence": "</td></tr><script>alert(5)</script>",
    "claim_id": "C<b>6</b>&amp;",
    "hcpcs_code": "<i>7</i>",
    "rendering_npi": '"><img src=x onerror=alert(8)>',
    "person_id": "<script>alert(9)</script>",
    "input_path": "<script>alert(10)</script>/medical_claim.csv",
    "reasons": "bad_<img src=x onerror=alert(11)>:hcpcs_code",
    "description": "<iframe src=javascript:alert(12)>",
    "examples": "<a href=javascript:alert(13)>x</a>",
    "column_name": "<marquee>14</marquee>",
    "rule_title": "<u onclick=alert(15)>title</u>",
    "run_id": "<b>run16</b>",
    "value_set": "<style>body{display:none}</style>",
    "parameter": "<img src=x onerror=alert(17)>",
    "rule_id": "<b>rule18</b>",
    "status": "<i>status19</i>",
    "table_name": "<img src=x onerror=alert(20)>",
    "reason": "<svg/onload=alert(21)>",
    "tool_version": "<script>alert(22)</script>",
    "input_dir": "/in/<img src=x onerror=alert(23)>",
    "previous_run_id": "<b>prev24</b>",
}


def npi_with_check_digit(base9: str) -> str:
    """A valid NPI: 9 digits plus the Luhn check digit computed with the 80840 prefix."""
    digits = [int(c) for c in "80840" + base9]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return base9 + str((10 - total % 10) % 10)


@dataclass
class Built:
    db_path: Path
    out_dir: Path
    manifest: dict[str, Any]
    person_ids: list[str] = field(default_factory=list)
    npis: list[str] = field(default_factory=list)


def _review(rng: random.Random) -> dict[str, Any]:
    """first_seen_on and review_state of a finding (new ones were first seen by this run)."""
    states, weights = zip(*REVIEW_STATES, strict=True)
    state = rng.choices(states, weights=weights)[0]
    age = 0 if state == "new" else rng.choice([1, 5, 12, 40, 75, 120, 400])
    return {"review_state": state, "first_seen_on": RUN_DATE - dt.timedelta(days=age)}


def _money(rng: random.Random, lo: float, hi: float) -> Decimal:
    return Decimal(str(round(rng.uniform(lo, hi), 2)))


def _evidence(rule_id: str, date: dt.date, code: str, status: str, rng: random.Random) -> str:
    day = date.isoformat()

    def before(days: int) -> str:
        return (date - dt.timedelta(days=days)).isoformat()

    if rule_id == "qualifying_dx":
        return (
            "only non-radicular neck pain (M542), no qualifying radicular diagnosis on the claim; "
            "claim diagnoses: M542, M47812"
        )
    if rule_id == "conservative_care":
        gap = rng.randint(3, 41)
        text = f"first conservative care {before(gap)} (PT 97110), {gap} days before injection"
        text += "; 42 required"
        if status == "insufficient_history":
            text += f"; not continuously enrolled {before(180)}..{before(1)}"
        return text
    if rule_id == "prior_imaging":
        text = f"no cervical MRI/CT/myelography {before(730)}..{day}; latest spine imaging none"
        if status == "insufficient_history":
            text += f"; not continuously enrolled {before(730)}..{day}"
        return text
    if rule_id == "imaging_guidance":
        return f"{code} is an injection without imaging guidance"
    if rule_id == "session_frequency":
        return (
            f"session {day} is number 5 in the 365 days {before(364)}..{day} "
            f"(first {before(300)}); limit 4"
        )
    if rule_id == "guidance_unbundled":
        return (
            f"77003 billed on {day} with 62321 (claim C{rng.randint(0, 10**7):08d}), "
            "which includes imaging guidance since 2017-01-01"
        )
    if rule_id == "myelopathy_review":
        return (
            "myelopathy diagnosis M4712 on the claim: cord compression calls for surgical "
            "evaluation, not injection"
        )
    if rule_id == "interlaminar_levels":
        return "2 units: one interlaminar level per session, not bilateral"
    return f"3 levels on the right in the session on {day}: at most 2 per side"


def build(
    folder: Path,
    *,
    n_providers: int = 40,
    n_lines: int = 2_000,
    seed: int = 7,
    hostile: bool = False,
    previous_run: bool = True,
    practitioner: bool = True,
    eligibility: bool = True,
) -> Built:
    """Write <folder>/audit.duckdb and <folder>/out/exceptions.parquet; return the manifest."""
    rng = random.Random(seed)
    review_rng = random.Random(seed + 1)  # its own stream: the rest of the data as before
    folder.mkdir(parents=True, exist_ok=True)
    out_dir = folder / "out"
    out_dir.mkdir(exist_ok=True)
    db_path = folder / "audit.duckdb"
    db_path.unlink(missing_ok=True)
    run_id = HOSTILE["run_id"] if hostile else RUN_ID
    previous_id = HOSTILE["previous_run_id"] if hostile else PREVIOUS_RUN_ID

    npis = [npi_with_check_digit(f"{100000000 + i * 7919:09d}") for i in range(n_providers)]
    if hostile:
        npis[1] = HOSTILE["rendering_npi"]
    # Skewed volumes: a few large practices, many small ones.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n_providers)]
    factor = [
        3.0 if rng.random() < 0.04 else rng.lognormvariate(0, 0.25) for _ in range(n_providers)
    ]
    factor[0] = 3.5  # the largest provider is an outlier: a flag is certain
    n_members = max(10, n_lines // 3)
    person_ids = [f"{MEMBER_PREFIX}{i:08d}" for i in range(n_members)]
    if hostile:
        person_ids[0] = HOSTILE["person_id"]

    start = dt.date(2023, 1, 1)
    providers_of_lines = rng.choices(range(n_providers), weights=weights, k=n_lines)
    codes = list(PRIMARY_WEIGHTS)
    code_weights = list(PRIMARY_WEIGHTS.values())

    esi_rows: list[dict[str, Any]] = []  # mart_esi_lines
    claim_rows: list[dict[str, Any]] = []  # medical_claim
    findings: list[dict[str, Any]] = []
    record = 0

    def claim_line(**row: Any) -> None:
        nonlocal record
        record += 1
        claim_rows.append(
            {
                "claim_id": row["claim_id"],
                "claim_line_number": row["claim_line_number"],
                "person_id": row["person_id"],
                "claim_type": "professional",
                "claim_start_date": row["service_date"],
                "service_date": row["service_date"],
                "hcpcs_code": row["hcpcs_code"],
                "rendering_npi": row["rendering_npi"],
                "paid_amount": row["paid_amount"],
                "diagnosis_code_1": "M5412",
                "data_source": "synthetic",
                "source_file": "/data/in/medical_claim.csv",
                "record_number": record,
                "run_id": run_id,
            }
        )

    def finding(rule_id: str, status: str, line: dict[str, Any], paid: Decimal | None) -> None:
        severity = next(s for r, s, _ in RULES if r == rule_id)
        findings.append(
            {
                "run_id": run_id,
                "rule_id": rule_id,
                "rule_version": "1.0.0",
                "status": status,
                "severity": severity,
                "claim_id": line["claim_id"],
                "claim_line_number": line["claim_line_number"],
                "person_id": line["person_id"],
                "rendering_npi": line["rendering_npi"],
                "service_date": line["service_date"],
                "hcpcs_code": line["hcpcs_code"],
                "paid_amount": paid,
                "evidence": _evidence(
                    rule_id, line["service_date"], line["hcpcs_code"], status, rng
                ),
                "finding_id": f"{len(findings):016x}",
                **_review(review_rng),
            }
        )

    audited: list[tuple[dict[str, Any], int]] = []
    for i in range(n_lines):
        p = providers_of_lines[i]
        npi = None if rng.random() < 0.01 else npis[p]
        date = start + dt.timedelta(days=rng.randrange(730))
        code = rng.choices(codes, weights=code_weights)[0]
        paid = _money(rng, 80, 950)
        claim_id = f"C{i:08d}"
        if hostile and i == 0:
            claim_id = HOSTILE["claim_id"]
        person = person_ids[rng.randrange(n_members)] if i else person_ids[0]
        draw = rng.random()
        exclusion = "thoracic" if draw < 0.03 else ("reversal" if draw < 0.04 else None)
        if i == 0:
            exclusion = None  # the first line is audited and flagged (see below)
        if exclusion == "reversal":
            paid = -paid
        line = {
            "claim_id": claim_id,
            "claim_line_number": 1,
            "person_id": person,
            "service_date": date,
            "hcpcs_code": code,
            "rendering_npi": npi,
            "paid_amount": paid,
        }
        audited_paid = paid
        n_addons = 0
        if code == "64479" and exclusion is None and rng.random() < 0.1:
            addon_paid = _money(rng, 40, 180)
            addon = {
                **line,
                "claim_line_number": 2,
                "hcpcs_code": "64480",
                "paid_amount": addon_paid,
            }
            esi_rows.append(
                {
                    **addon,
                    "kind": "transforaminal",
                    "is_addon": True,
                    "exclusion_reason": "folded_addon",
                    "folded_into_line_number": 1,
                    "audited_paid_amount": None,
                    "n_folded_addons": None,
                }
            )
            claim_line(**addon)
            audited_paid = paid + addon_paid
            n_addons = 1
        esi_rows.append(
            {
                **line,
                "kind": "transforaminal" if code in ("64479", "0228T") else "interlaminar",
                "is_addon": False,
                "exclusion_reason": exclusion,
                "folded_into_line_number": None,
                "audited_paid_amount": audited_paid if exclusion is None else None,
                "n_folded_addons": n_addons if exclusion is None else None,
            }
        )
        claim_line(**line)
        if exclusion is None:
            audited.append(({**line, "audited_paid_amount": audited_paid}, p))
        # Other lines of the member: conservative care and imaging, some lumbar ESI.
        if rng.random() < 0.5:
            claim_line(
                claim_id=f"O{i:08d}",
                claim_line_number=1,
                person_id=person,
                service_date=date - dt.timedelta(days=rng.randint(1, 120)),
                hcpcs_code="97110",
                rendering_npi=npis[rng.randrange(n_providers)],
                paid_amount=_money(rng, 30, 90),
            )
        if rng.random() < 0.05:
            claim_line(
                claim_id=f"L{i:08d}",
                claim_line_number=1,
                person_id=person,
                service_date=date,
                hcpcs_code=rng.choice(("62323", "64483")),
                rendering_npi=npis[p],
                paid_amount=_money(rng, 100, 700),
            )
    # A late claim: "data through" is after the last ESI service date.
    claim_line(
        claim_id="O-LATE",
        claim_line_number=1,
        person_id=person_ids[1],
        service_date=dt.date(2025, 1, 15),
        hcpcs_code="97110",
        rendering_npi=npis[0],
        paid_amount=Decimal("55.00"),
    )

    for n_line, (line, p) in enumerate(audited):
        f = factor[p]
        for rule_id, _, rate in RULES:
            if rule_id == "guidance_unbundled":
                continue
            forced = n_line == 0 and rule_id == "qualifying_dx"
            if rng.random() >= min(0.95, rate * f) and not forced:
                continue
            status = "fail"
            if (
                rule_id in ("conservative_care", "prior_imaging")
                and eligibility
                and rng.random() < 0.2
            ):
                status = "insufficient_history"
            if rule_id == "myelopathy_review":
                status = "review"
            finding(rule_id, status, line, line["audited_paid_amount"])
        if line["hcpcs_code"] in ("62321", "64479") and rng.random() < 0.03 * f:
            guidance = {
                **line,
                "claim_line_number": 3,
                "hcpcs_code": "77003",
                "paid_amount": _money(rng, 25, 90),
                "rendering_npi": npis[(p + 1) % n_providers]
                if rng.random() < 0.3
                else line["rendering_npi"],
            }
            claim_line(**guidance)
            finding("guidance_unbundled", "fail", guidance, guidance["paid_amount"])

    if hostile:
        target = next(f for f in findings if f["rendering_npi"] == npis[1])
        target["evidence"] = HOSTILE["evidence"]
        target["hcpcs_code"] = HOSTILE["hcpcs_code"]
        odd = dict(findings[0])
        odd.update(
            rule_id=HOSTILE["rule_id"],
            status=HOSTILE["status"],
            claim_line_number=9,
            finding_id=f"{len(findings):016x}",
        )
        findings.append(odd)

    order = {r: i for i, (r, _, _) in enumerate(RULES)}
    findings.sort(
        key=lambda f: (
            order.get(f["rule_id"], 99),
            f["claim_id"],
            f["claim_line_number"],
            f["status"],
        )
    )

    con = duckdb.connect(str(db_path))
    try:
        _write(
            con,
            findings,
            esi_rows,
            claim_rows,
            npis,
            person_ids,
            rng,
            run_id,
            previous_id,
            hostile=hostile,
            previous_run=previous_run,
            practitioner=practitioner,
            n_lines=n_lines,
        )
        manifest = _manifest(
            con,
            db_path,
            run_id,
            hostile=hostile,
            eligibility=eligibility,
            n_claim_rows=len(claim_rows),
        )
        con.execute(
            "update run_history set manifest = ? where run_id = ?",
            [json.dumps(manifest, sort_keys=True, default=str), run_id],
        )
        con.execute(
            f"copy (select {EXCEPTION_COLUMNS} from findings "
            "order by rule_id, claim_id, claim_line_number) "
            f"to '{out_dir / 'exceptions.parquet'}' (format parquet)"
        )
    finally:
        con.close()
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, default=str), encoding="utf-8"
    )
    return Built(
        db_path=db_path, out_dir=out_dir, manifest=manifest, person_ids=person_ids, npis=npis
    )


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]], columns: list[str]
) -> None:
    if not rows:
        return
    data = pa.table({c: [r.get(c) for r in rows] for c in columns})
    con.register("_rows", data)
    try:
        con.execute(
            f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from _rows"
        )
    finally:
        con.unregister("_rows")


def _review_tables(con: duckdb.DuckDBPyConnection, run_id: str, previous_id: str) -> None:
    """finding_lifecycle and decisions as the review stage writes them: one lifecycle row per
    finding (open now; the previous run's findings not flagged now resolved by this run,
    each kind of resolution in turn), and the current decision of each decided finding."""
    con.execute(
        f"""
        create table finding_lifecycle as
        select finding_id, rule_id, data_source, claim_id, claim_line_number, 'open' as state,
               cast(null as varchar) as resolution,
               case when review_state = 'new' then '{run_id}' else '{previous_id}' end
                   as first_seen_run_id,
               first_seen_on, '{run_id}' as last_seen_run_id, date '{RUN_DATE}' as last_seen_on,
               cast(null as varchar) as resolved_run_id, cast(null as date) as resolved_on,
               0 as times_reopened, rule_version, status, severity, person_id, rendering_npi,
               service_date, hcpcs_code, paid_amount, evidence, review_state,
               case when review_state not in ('new', 'open') then review_state end as decision
        from findings
        union all
        select 'r' || substr(md5(h.rule_id || h.claim_id || h.claim_line_number), 1, 15),
               h.rule_id, h.data_source, h.claim_id, h.claim_line_number, 'resolved',
               ['passes_now', 'not_audited_now', 'not_in_extract', 'rule_changed'][
                   1 + row_number() over (order by h.claim_id, h.claim_line_number, h.rule_id)
                   % 4],
               '{previous_id}', date '{RUN_DATE}' - 1, '{previous_id}', date '{RUN_DATE}' - 1,
               '{run_id}', date '{RUN_DATE}', 0, h.rule_version, h.status, h.severity,
               h.person_id, h.rendering_npi, h.service_date, h.hcpcs_code, h.paid_amount,
               h.evidence, 'open', null
        from findings_history as h
        where h.run_id = '{previous_id}' and not exists (
            select 1 from findings as f
            where f.rule_id = h.rule_id and f.claim_id = h.claim_id
                and f.claim_line_number = h.claim_line_number
        )
        """
    )
    con.execute(
        """
        create table decisions as
        select finding_id, decision, 'reviewer' as reviewer, date '2024-12-20' as decided_on,
               cast(null as date) as expires_on,
               case when decision = 'confirmed' then round(paid_amount / 2, 2) end
                   as recovered_amount,
               cast(null as varchar) as note, 'current' as decision_status,
               '/data/review/decisions.csv' as source_file,
               row_number() over (order by finding_id) as record_number
        from finding_lifecycle
        where decision is not null
        """
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    findings: list[dict[str, Any]],
    esi_rows: list[dict[str, Any]],
    claim_rows: list[dict[str, Any]],
    npis: list[str],
    person_ids: list[str],
    rng: random.Random,
    run_id: str,
    previous_id: str,
    *,
    hostile: bool,
    previous_run: bool,
    practitioner: bool,
    n_lines: int,
) -> None:
    finding_columns = [c.strip() for c in EXCEPTION_COLUMNS.split(",")]
    con.execute(FINDINGS_DDL)
    _insert(con, "findings", findings, finding_columns)

    con.execute(FINDINGS_DDL.replace("table findings", "table findings_history"))
    if previous_run:
        previous = []
        for f in findings:
            if rng.random() < 0.85:
                previous.append({**f, "run_id": previous_id})
        audited_keys = {
            (r["claim_id"], r["claim_line_number"])
            for r in esi_rows
            if r["exclusion_reason"] is None
        }
        flagged = {(f["claim_id"], f["claim_line_number"]) for f in findings}
        for r in esi_rows:
            key = (r["claim_id"], r["claim_line_number"])
            if key in audited_keys and key not in flagged and rng.random() < 0.03:
                previous.append(
                    {
                        **{c: r.get(c) for c in finding_columns if c in r},
                        "run_id": previous_id,
                        "rule_id": "qualifying_dx",
                        "rule_version": "1.0.0",
                        "status": "fail",
                        "severity": "high",
                        "paid_amount": r["audited_paid_amount"],
                        "evidence": "no qualifying cervical radicular diagnosis on the claim",
                    }
                )
        _insert(con, "findings_history", previous, finding_columns)
    con.execute("insert into findings_history select * from findings")
    _review_tables(con, run_id, previous_id)

    con.execute(RULE_STATS_DDL)
    n_audited = sum(1 for r in esi_rows if r["exclusion_reason"] is None)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["rule_id"]] = counts.get(f["rule_id"], 0) + 1
    stats = []
    for rule_id, severity, _ in RULES:
        exempt = {"qualifying_dx": n_audited // 100, "conservative_care": n_audited // 200}.get(
            rule_id, 0
        )
        title = HOSTILE["rule_title"] if hostile and rule_id == "qualifying_dx" else TITLES[rule_id]
        stats.append(
            (
                run_id,
                rule_id,
                "1.0.0",
                title,
                severity,
                n_audited - exempt,
                exempt,
                counts.get(rule_id, 0),
            )
        )
    con.executemany("insert into rule_stats values (?, ?, ?, ?, ?, ?, ?, ?)", stats)

    con.execute(
        """
        create table mart_esi_lines (
            run_id varchar, data_source varchar, claim_id varchar, claim_line_number integer,
            person_id varchar, claim_type varchar, service_date date, hcpcs_code varchar,
            kind varchar, is_addon boolean, rendering_npi varchar, paid_amount decimal(18, 2),
            n_units double, exclusion_reason varchar, folded_into_line_number integer,
            audited_paid_amount decimal(18, 2), n_folded_addons bigint
        )
        """
    )
    for r in esi_rows:
        r.setdefault("run_id", run_id)
        r.setdefault("data_source", "synthetic")
        r.setdefault("claim_type", "professional")
    _insert(
        con,
        "mart_esi_lines",
        esi_rows,
        [
            "run_id",
            "data_source",
            "claim_id",
            "claim_line_number",
            "person_id",
            "claim_type",
            "service_date",
            "hcpcs_code",
            "kind",
            "is_addon",
            "rendering_npi",
            "paid_amount",
            "exclusion_reason",
            "folded_into_line_number",
            "audited_paid_amount",
            "n_folded_addons",
        ],
    )

    con.execute(schema.create_table_sql(schema.TABLES["medical_claim"]))
    _insert(con, "medical_claim", claim_rows, list(claim_rows[0]))
    # what the run counts while reading (jobs.validation.scan.write_coverage): here the whole
    # medical_claim table stands for the accepted lines
    con.execute(
        """
        create table input_coverage as
        select count(*) as n_claim_lines, min(service_date) as first_service_date,
               max(service_date) as last_service_date,
               count(*) filter (where list_contains($codes, hcpcs_code))
                   as n_out_of_scope_lines,
               sum(paid_amount) filter (where list_contains($codes, hcpcs_code))
                   as out_of_scope_paid_amount
        from medical_claim
        """,
        {"codes": [c["code"] for c in out_of_scope_codes()]},
    )

    con.execute(schema.create_table_sql(schema.TABLES["practitioner"]))
    if practitioner:
        rows = []
        for i, npi in enumerate(npis):
            if i % 10 == 9:
                continue  # not every NPI is in the practitioner extract
            rows.append(
                {
                    "npi": npi,
                    "practitioner_id": f"PR{i:05d}",
                    "first_name": FIRST_NAMES[i % len(FIRST_NAMES)],
                    "last_name": LAST_NAMES[(i // 3) % len(LAST_NAMES)],
                    "practice_affiliation": f"Spine Center {i % 17}",
                    "specialty": SPECIALTIES[i % len(SPECIALTIES)],
                    "source_file": "/data/in/practitioner.csv",
                    "record_number": i + 1,
                    "run_id": run_id,
                }
            )
        if hostile:
            for row in rows[:2]:
                row.update(
                    first_name=HOSTILE["first_name"],
                    last_name=HOSTILE["last_name"],
                    specialty=HOSTILE["specialty"],
                    practice_affiliation=HOSTILE["affiliation"],
                )
            # A provider known only by its affiliation.
            rows[2].update(
                first_name=None, last_name=None, practice_affiliation=HOSTILE["affiliation"]
            )
        _insert(con, "practitioner", rows, list(rows[0]))

    _quality_tables(con, rng, run_id, person_ids, hostile=hostile, n_lines=n_lines)
    _run_history(
        con, run_id, previous_id, previous_run=previous_run, hostile=hostile, findings=findings
    )

    con.execute(
        "create table value_sets (value_set varchar, code varchar, code_system varchar, "
        "description varchar, version varchar, source varchar)"
    )
    con.executemany(
        "insert into value_sets "
        "values ('esi_cervical_thoracic', ?, 'hcpcs', '', '2025.1', 'policy')",
        [(c,) for c in ESI_CODES],
    )


def _quality_tables(
    con: duckdb.DuckDBPyConnection,
    rng: random.Random,
    run_id: str,
    person_ids: list[str],
    *,
    hostile: bool,
    n_lines: int,
) -> None:
    # the product's own tables, so that the report is tested on what a run writes
    quarantine.create_rejected_rows_table(con)
    validate.create_issue_tables(con)
    reasons = [
        (
            "malformed_hcpcs_code:hcpcs_code",
            "hcpcs_code is present but is not a 5-character HCPCS/CPT code.",
        ),
        ("missing_person_id:person_id", "The required key person_id is missing."),
        ("invalid_npi:rendering_npi", "rendering_npi is present but is not a valid NPI."),
        (
            "invalid_service_date:claim_start_date",
            "The service date claim_start_date is not a real calendar date.",
        ),
        (
            "duplicate_key; invalid_npi:rendering_npi",
            "The key occurs more than once; rendering_npi is not a valid NPI.",
        ),
    ]
    rejected = []
    n_rejected = max(6, n_lines // 300)
    for i in range(n_rejected):
        reason, detail = reasons[i % len(reasons)]
        code = rng.choice((" 62321 ", "62321", "64479", "6232X", "97110", "62.323", "0228t"))
        values = {
            "claim_id": f"R{i:06d}",
            "claim_line_number": "1",
            "person_id": person_ids[i % len(person_ids)] if "person_id" not in reason else None,
            "hcpcs_code": code,
            "paid_amount": f"{rng.uniform(50, 900):.2f}",
        }
        rejected.append(
            (
                run_id,
                "medical_claim",
                "/data/in/medical_claim.csv",
                100000 + i,
                reason,
                detail,
                json.dumps(values),
            )
        )
    rejected.append(
        (
            run_id,
            "medical_claim",
            "/data/in/medical_claim.csv",
            200001,
            "malformed_record",
            "the CSV record could not be parsed: expected 30 fields, found 31",
            'R9,1,"x,62321,2024-01-01,,',
        )
    )
    rejected.append(
        (
            run_id,
            "pharmacy_claim",
            "/data/in/pharmacy_claim.csv",
            7,
            "malformed_ndc_code:ndc_code",
            "ndc_code is malformed",
            json.dumps({"claim_id": "RX1", "ndc_code": "12-34"}),
        )
    )
    if hostile:
        rejected.append(
            (
                run_id,
                HOSTILE["table_name"],
                HOSTILE["input_path"],
                1,
                HOSTILE["reasons"],
                HOSTILE["description"],
                json.dumps({"hcpcs_code": "62321", "paid_amount": "10"}),
            )
        )
        rejected.append(
            (
                run_id,
                "medical_claim",
                HOSTILE["input_path"],
                2,
                HOSTILE["reasons"],
                HOSTILE["description"],
                json.dumps({"hcpcs_code": "62321", "paid_amount": "<b>x</b>"}),
            )
        )
    con.executemany("insert into rejected_rows values (?, ?, ?, ?, ?, ?, ?)", rejected)
    issues = [
        (
            "medical_claim",
            "/data/in/medical_claim.csv",
            10 + i,
            "missing_rendering_npi",
            "warning",
            "rendering_npi",
            "rendering_npi is missing: findings on this line go to 'unknown provider'.",
        )
        for i in range(max(3, n_lines // 100))
    ]
    issues.append(
        (
            "medical_claim",
            "/data/in/medical_claim.csv",
            5,
            "code_not_valid_on_date",
            "warning",
            "hcpcs_code",
            "hcpcs_code is well-formed but not valid on the service date.",
        )
    )
    if hostile:
        issues.append(
            (
                HOSTILE["table_name"],
                HOSTILE["input_path"],
                1,
                HOSTILE["reason"],
                "warning",
                HOSTILE["column_name"],
                HOSTILE["description"],
            )
        )
    con.executemany("insert into row_issues values (?, ?, ?, ?, ?, ?, ?)", issues)
    element_count = n_lines * 2
    results = [
        (
            "medical_claim",
            "expect_column_values_to_not_be_null",
            "claim_id",
            "missing_claim_id",
            "blocking",
            "The required key claim_id is missing.",
            True,
            element_count,
            0,
            "",
        ),
        (
            "medical_claim",
            "expect_column_values_to_match_regex",
            "hcpcs_code",
            "malformed_hcpcs_code",
            "blocking",
            "hcpcs_code is present but is not a 5-character HCPCS/CPT code.",
            False,
            element_count,
            n_rejected // 5 + 1,
            "6232X, 62.323",
        ),
        (
            "medical_claim",
            "expect_column_values_to_not_be_null",
            "rendering_npi",
            "missing_rendering_npi",
            "warning",
            "rendering_npi is missing: findings on this line go to 'unknown provider'.",
            False,
            element_count,
            max(3, n_lines // 100),
            "",
        ),
        (
            "eligibility",
            "unexpected_rows_expectation",
            "person_id",
            "duplicate_key",
            "blocking",
            "The key (person_id, enrollment_start_date) occurs more than once.",
            False,
            500,
            2,
            f"{person_ids[1]}, {person_ids[2]}",
        ),
        (
            "practitioner",
            "unexpected_rows_expectation",
            "npi",
            "invalid_npi",
            "blocking",
            "npi is present but is not a valid NPI.",
            True,
            40,
            0,
            "",
        ),
    ]
    if hostile:
        results.append(
            (
                HOSTILE["table_name"],
                HOSTILE["description"],
                HOSTILE["column_name"],
                HOSTILE["reason"],
                "blocking",
                HOSTILE["description"],
                False,
                5,
                1,
                HOSTILE["examples"],
            )
        )
    con.executemany(
        "insert into validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, *r) for r in results],
    )


def _run_history(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    previous_id: str,
    *,
    previous_run: bool,
    hostile: bool,
    findings: list[dict[str, Any]],
) -> None:
    con.execute(
        """
        create table run_history (
            run_id varchar, status varchar, started_at varchar, ended_at varchar,
            exit_code integer, tool_version varchar, n_findings bigint, manifest json,
            run_seq integer
        )
        """
    )
    rows = [
        (
            "20241230T020000Z-dead00",
            "failed",
            "2024-12-30T02:00:00+00:00",
            "2024-12-30T02:00:05+00:00",
            2,
            "0.1.0",
            None,
            json.dumps({"error": "medical_claim: 900 of 1000 rows rejected"}),
        ),
    ]
    if previous_run:
        n_previous = con.execute(
            "select count(*) from findings_history where run_id = ?", [previous_id]
        ).fetchone()[0]
        previous_manifest = {
            "run_id": previous_id,
            "parameters": dict(params_module.DEFAULTS),
            "rules": [{"id": r, "version": "1.0.0"} for r, _, _ in RULES],
        }
        rows.append(
            (
                previous_id,
                "succeeded",
                "2025-01-01T02:00:00+00:00",
                "2025-01-01T02:05:00+00:00",
                0,
                "0.1.0",
                n_previous,
                json.dumps(previous_manifest),
            )
        )
        rows.append(
            (
                "20250101T120000Z-dead01",
                "failed",
                "2025-01-01T12:00:00+00:00",
                "2025-01-01T12:00:03+00:00",
                1,
                "0.1.0",
                None,
                json.dumps({"error": "database locked"}),
            )
        )
    rows.append((run_id, "succeeded", STARTED_AT, None, 0, "0.1.0", len(findings), "{}"))
    con.executemany(
        "insert into run_history values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, seq) for seq, row in enumerate(rows, start=1)],
    )


def _manifest(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    run_id: str,
    *,
    hostile: bool,
    eligibility: bool,
    n_claim_rows: int,
) -> dict[str, Any]:
    n_rejected = con.execute(
        "select count(*) from rejected_rows where table_name = 'medical_claim'"
    ).fetchone()[0]
    claim_path = "/data/in/medical_claim.csv"
    inputs = [
        {
            "table": "medical_claim",
            "path": claim_path,
            "format": "csv",
            "bytes": 1,
            "sha256": "ab" * 32,
            "rows_read": n_claim_rows + n_rejected,
            "rows_accepted": n_claim_rows,
            "rows_rejected": n_rejected,
            "rows_with_warnings": 12,
        },
        {
            "table": "pharmacy_claim",
            "path": "/data/in/pharmacy_claim.csv",
            "format": "csv",
            "bytes": 1,
            "sha256": "cd" * 32,
            "rows_read": 300,
            "rows_accepted": 299,
            "rows_rejected": 1,
            "rows_with_warnings": 0,
        },
        {
            "table": "practitioner",
            "path": "/data/in/practitioner.csv",
            "format": "csv",
            "bytes": 1,
            "sha256": "ef" * 32,
            "rows_read": 40,
            "rows_accepted": 40,
            "rows_rejected": 0,
            "rows_with_warnings": 0,
        },
    ]
    if eligibility:
        inputs.append(
            {
                "table": "eligibility",
                "path": "/data/in/eligibility.csv",
                "format": "csv",
                "bytes": 1,
                "sha256": "01" * 32,
                "rows_read": 500,
                "rows_accepted": 500,
                "rows_rejected": 0,
                "rows_with_warnings": 0,
            }
        )
    parameters: dict[str, Any] = dict(params_module.DEFAULTS)
    value_sets = {"esi_cervical_thoracic": "2025.1", "dx_cervical_qualifying": "2025.1"}
    rules = [
        {
            "id": r[1],
            "version": r[2],
            "title": r[3],
            "severity": r[4],
            "lines_checked": r[5],
            "lines_exempt": r[6],
            "findings": r[7],
        }
        for r in con.execute("select * from rule_stats").fetchall()
    ]
    if hostile:
        inputs[0]["path"] = "/data/in/" + HOSTILE["input_path"]
        parameters[HOSTILE["parameter"]] = HOSTILE["parameter"]
        value_sets[HOSTILE["value_set"]] = HOSTILE["value_set"]
        rules[0]["version"] = HOSTILE["rule_title"]
    return {
        "run_id": run_id,
        "status": "succeeded",
        "started_at": STARTED_AT,
        "tool_version": HOSTILE["tool_version"] if hostile else "0.1.0",
        "input_dir": HOSTILE["input_dir"] if hostile else "/data/in",
        "db": str(db_path),
        "parameters": parameters,
        "max_rejected_share": 0.05,
        "eligibility_supplied": eligibility,
        "inputs": inputs,
        "rules": rules,
        "value_sets": value_sets,
        "findings": {**finding_totals(con), **dollar_totals(con)},
        "run_date": RUN_DATE.isoformat(),
        "stage_seconds": {"load": 1.0, "validate": 1.0, "audit": 1.0},
    }
