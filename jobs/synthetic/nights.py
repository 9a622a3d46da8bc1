"""`claims-audit generate --nights K`: a history and K nightly extracts, with answer keys.

Layout (contract: "Command line", generate)::

    DIR/night-0/<table>/2026-01-15.<fmt>     the history: `generate`'s data set, same bytes
    DIR/night-k/<table>/<load date>.<fmt>    night k: every file of night k-1 (hard links),
                                             plus one new file per table (load date
                                             2026-01-15 + k days)

Each night brings (jobs/synthetic/nights.py plans it, sql/generate/night_events.sql
builds it, all inside DuckDB):

- new claims: ordinary claims of general persons (about 0.3% of the history's lines) and
  new ESI persons, each living a scenario of the catalog (new violations);
- late evidence: a physical-therapy visit and a cervical MRI for history persons whose
  line failed conservative_care or prior_imaging, dated so that both pass now;
- reversals: a reversal of a history person's flagged line (policy 1.1: it cancels it);
- lines that disappear (from night 2): the previous night's medical_claim file is
  re-issued (same name, new content) without the injection claims of some of that
  night's new persons; from night 3 the first claim withdrawn the night before is
  delivered again, so its findings come back (reopened);
- a parameter change: nights 2, 5, 8, ... are to be run with the configuration written
  beside them (``claims-audit.toml``: ``imaging_accepts_emg = true``), which resolves
  the prior_imaging findings of persons with an EMG study (``rule_changed``); the next
  night runs with the defaults again and those findings come back.

Events touch persons of scenarios whose only ESI line carries all their findings
(`night_roles`), so their effect on the answer key follows from the policy alone. Each
night directory holds its answer key: ``expected_findings.csv`` (claim_id,
claim_line_number, rule_id, status, data_source, finding_id), from night 1
``expected_lifecycle.csv`` (finding_id, state, resolution, times_reopened, ..., cause:
the event behind the finding's state), ``expected_events.csv`` and
``expected_scenarios.csv`` (the night's new ESI persons). The practitioner roster does
not change: it is a file of the history only.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jobs.sqltext import lit
from jobs.synthetic.generator import (
    LAYOUTS,
    PARQUET_BATCH_ROWS,
    PHARMACY_SHARE,
    PROCEDURE_SHARE,
    GenerateResult,
    _count,
    _set,
    _sql,
    check_arguments,
    copy_table,
    session,
    write_csv,
    write_data_set,
    write_scenarios,
)
from jobs.synthetic.scenarios import ADDON_PRIMARY, ESI_CODES, GUIDANCE_CODES, Scenario, catalog
from jobs.synthetic.scenarios.model import EMG

HISTORY_DATE = date(2026, 1, 15)  # the history's load date; night k loads k days later
NIGHT_SHARE = 0.003  # a night's ordinary medical lines, as a share of the history's lines
EVENT_SHARE = 0.002  # events of each kind a night, as a share of the history's ESI persons
MIN_EVENTS = 2  # at least this many of each kind a night (when the history has them)
NIGHT_TABLES = ("medical_claim", "pharmacy_claim", "eligibility", "procedure")
CONFIG_NAME = "claims-audit.toml"
PARAMETER_NIGHT_CONFIG = "[parameters]\nimaging_accepts_emg = true\n"
KEY_RULES = ("conservative_care", "prior_imaging")  # what late evidence resolves


def is_parameter_night(night: int) -> bool:
    """Nights 2, 5, 8, ... run with imaging_accepts_emg = true (CONFIG_NAME beside them)."""
    return night % 3 == 2


def load_date(night: int) -> date:
    return HISTORY_DATE + timedelta(days=night)


@dataclass(frozen=True)
class Night:
    night: int
    path: Path
    load_date: date
    new_rows: dict[str, int]  # table -> rows of the night's new file
    expected_findings: int
    events: dict[str, int] = field(default_factory=dict)
    config: Path | None = None  # run this night with this configuration


@dataclass(frozen=True)
class NightsResult:
    out_dir: Path
    history: GenerateResult
    nights: list[Night]  # night 0 (the history) first


def night_roles(scenarios: list[Scenario]) -> list[dict]:
    """Per scenario: whether a night's event may touch its persons (`is_simple`: one
    professional claim with ESI codes, one non-add-on ESI line carrying every finding, no
    reversal, no 77003/77012), and whether one of its findings is a look-back criterion
    that late evidence resolves (`has_care_or_imaging`)."""
    rows = []
    for s, sc in enumerate(scenarios):
        esi_claims = [c for c in sc.claims if any(set(x.options()) & ESI_CODES for x in c.lines)]
        touches_guidance = any(
            set(x.options()) & GUIDANCE_CODES for c in sc.claims for x in c.lines
        )
        simple = False
        if (
            len(esi_claims) == 1
            and sc.expected
            and not touches_guidance
            and not any(c.reversal for c in sc.claims)
        ):
            claim = esi_claims[0]
            esi_lines = [n for n, x in enumerate(claim.lines, 1) if set(x.options()) & ESI_CODES]
            if len(esi_lines) == 1 and claim.claim_type in ("professional", None):
                codes = set(claim.lines[esi_lines[0] - 1].options())
                simple = codes <= ESI_CODES - set(ADDON_PRIMARY) and all(
                    sc.line_of(ref)[0] is claim and sc.line_of(ref)[1] == esi_lines[0]
                    for ref, _, _ in sc.expected
                )
        rows.append(
            {
                "scenario": s,
                "is_simple": simple,
                "has_care_or_imaging": any(rule in KEY_RULES for _, rule, _ in sc.expected),
            }
        )
    return rows


def generate_nights(
    out_dir: Path,
    lines: int,
    nights: int,
    seed: int = 0,
    fmt: str = "parquet",
    progress: Callable[[str], None] | None = None,
) -> NightsResult:
    """Write DIR/night-0 (the history of `lines` medical lines) and DIR/night-1 ...
    DIR/night-`nights`, each with its answer key. Existing night-* folders are replaced."""
    check_arguments(lines, fmt)
    if nights < 1:
        raise ValueError("nights must be at least 1")
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("night-*"):
        if old.is_dir() and old.name.removeprefix("night-").isdigit():
            shutil.rmtree(old)
    started = time.monotonic()
    scenarios = catalog()
    done: list[Night] = []
    with session(lines, seed, out_dir / ".generate-tmp") as con:
        history_dir = out_dir / "night-0"
        staging = history_dir / ".history"
        say("night 0: the history")
        staging.mkdir(parents=True)
        history = write_data_set(con, staging, lines, seed, fmt, say)
        done.append(_place_history(con, history, history_dir, fmt, scenarios))
        plan = _Plan.of(con, lines, len(scenarios))
        for k in range(1, nights + 1):
            say(f"night {k} ...")
            done.append(_night(con, out_dir, k, fmt, plan, scenarios))
    (out_dir / "README.md").write_text(_readme(out_dir, lines, seed, fmt, done))
    say(f"done in {time.monotonic() - started:.1f} s")
    return NightsResult(out_dir, history, done)


@dataclass(frozen=True)
class _Plan:
    """Sizes of every night, from the history's."""

    n_filler: int  # ordinary medical lines a night
    n_rx_filler: int
    n_proc_filler: int
    n_persons: int  # new ESI persons a night
    n_events: int  # events of each kind a night
    first_e: int  # first ESI person index of night 1
    first_filler: int  # first ordinary line index of night 1 (and pharmacy, procedure)

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, lines: int, n_scenarios: int) -> _Plan:
        n_esi = _count(con, "gen_esi_person")
        (target,) = con.execute("select getvariable('gen_esi_target')").fetchone()
        (filler,) = con.execute(
            "select greatest(getvariable('gen_n_filler'), getvariable('gen_n_rx_filler'), "
            "getvariable('gen_n_proc_filler'))"
        ).fetchone()
        night_lines = max(1, round(lines * NIGHT_SHARE))
        return cls(
            n_filler=night_lines,
            n_rx_filler=round(night_lines * PHARMACY_SHARE),
            n_proc_filler=round(night_lines * PROCEDURE_SHARE),
            n_persons=max(n_scenarios, math.ceil(n_esi * NIGHT_SHARE)),
            n_events=max(MIN_EVENTS, math.ceil(n_esi * EVENT_SHARE)),
            first_e=int(target),
            first_filler=_round_up(int(filler)),
        )

    def esi_first(self, night: int) -> int:
        return self.first_e + (night - 1) * self.stride

    @property
    def stride(self) -> int:  # person indices a night uses: its persons, then event claims
        return self.n_persons + 2 * self.n_events + 1

    def filler_first(self, night: int) -> int:
        width = _round_up(max(self.n_filler, self.n_rx_filler, self.n_proc_filler))
        return self.first_filler + (night - 1) * width


def _round_up(n: int, step: int = 1000) -> int:
    """Filler ranges start on a multiple of 1000: claims (blocks of 8 and 4 lines) and the
    planted-defect strides (500) never straddle two nights."""
    return (n + step - 1) // step * step


# ------------------------------------------------------------ night 0


def _place_history(
    con: duckdb.DuckDBPyConnection,
    history: GenerateResult,
    history_dir: Path,
    fmt: str,
    scenarios: list[Scenario],
) -> Night:
    """Move the data set into folders (one file per table, load date HISTORY_DATE), set up
    the nights' state tables, and write night 0's answer key."""
    staging = history.out_dir
    for table in LAYOUTS:
        folder = history_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        history.paths[table].replace(folder / f"{HISTORY_DATE.isoformat()}.{fmt}")
    for name in ("expected_rejections", "expected_warnings", "expected_scenarios"):
        history.paths[name].replace(history_dir / history.paths[name].name)
    history.paths["readme"].replace(history_dir / "README.history.md")
    history.paths["expected_findings"].unlink()
    staging.rmdir()

    con.execute(
        "create or replace temp table tpl_night as select unnest(?, recursive := true)",
        [night_roles(scenarios)],
    )
    _set(con, nk_emg_codes=list(EMG), nk_night=0)
    con.execute(
        "create temp table nk_persons as select 0 as batch, e, q, scenario from gen_esi_person"
    )
    con.execute("create temp table nk_scn_medical as select 0 as batch, * from gen_scn_medical")
    con.execute("create temp table nk_scn_procedure as select 0 as batch, * from gen_scn_procedure")
    con.execute(f"create temp view nk_emg as {_EMG_STUDIES}")
    con.execute(
        """
        create temp table nk_planted (
            batch integer, e bigint, q bigint, scenario integer, claim_id varchar,
            claim_line_number integer, rule_id varchar, status varchar, data_source varchar,
            finding_id varchar, emg_passes boolean
        )
        """
    )
    con.execute(
        """
        create temp table nk_events (
            night integer, event_kind varchar, e bigint, q bigint, claim_id varchar,
            claim_line_number integer
        )
        """
    )
    con.execute("create temp table nk_params (night integer, accepts_emg boolean)")
    con.execute("insert into nk_params values (0, false)")
    con.execute("create temp table nk_expected as select 0 as night, * from nk_planted limit 0")
    con.execute(
        """
        create temp table nk_life (
            finding_id varchar, rule_id varchar, data_source varchar, claim_id varchar,
            claim_line_number integer, status varchar, state varchar, resolution varchar,
            times_reopened integer, first_night integer, cause varchar
        )
        """
    )
    _plant(con, 0)
    _key(con, 0)
    n = _write_keys(con, history_dir, 0)
    return Night(0, history_dir, HISTORY_DATE, dict(history.row_counts), n)


def _plant(con: duckdb.DuckDBPyConnection, batch: int) -> None:
    """The answer key of the current ESI persons (gen_esi_person) as batch `batch`: their
    findings, finding ids, and whether an EMG study passes a prior_imaging finding."""
    con.execute(
        f"""
        insert into nk_planted
        select {batch}, p.e, p.q, p.scenario,
               gen_claim_id(gen_scn_index(p.e, f.claim_key)), f.line_number, f.rule_id,
               f.status, gen_data_source(p.q), null, null
        from gen_esi_person as p
        inner join tpl_finding as f on p.scenario = f.scenario
        order by p.e, f.claim_key, f.line_number, f.rule_id
        """
    )
    # finding_id as the contract defines it (computed here, not by the product's code)
    con.execute(
        f"""
        update nk_planted
        set finding_id = left(sha256(concat_ws(chr(31), coalesce(data_source, ''),
                coalesce(claim_id, ''), cast(claim_line_number as varchar), rule_id)), 16)
        where batch = {batch}
        """
    )
    # Policy 2.3 with imaging_accepts_emg: an EMG/NCS study (medical claim, not reversed,
    # or EHR procedure) in [service date - 730 days, service date].
    con.execute(
        f"""
        update nk_planted as p
        set emg_passes = exists (
            select 1 from nk_emg as x
            where x.q = p.q and x.study_date between s.service_date - 730 and s.service_date
        )
        from (
            select claim_id, claim_line_number, coalesce(line_start, claim_start) as service_date
            from nk_scn_medical
        ) as s
        where p.batch = {batch} and p.rule_id = 'prior_imaging'
            and s.claim_id = p.claim_id and s.claim_line_number = p.claim_line_number
        """
    )
    con.execute(
        f"update nk_planted set emg_passes = false where batch = {batch} and emg_passes is null"
    )


_EMG_STUDIES = """
    with med as (
        select q, hcpcs, coalesce(line_start, claim_start) as study_date, paid_amount
        from nk_scn_medical
    )
    select q, study_date from med
    where list_contains(getvariable('nk_emg_codes'), hcpcs) and paid_amount >= 0
        and not exists (
            select 1 from med as r
            where r.paid_amount < 0 and r.q = med.q and r.hcpcs = med.hcpcs
                and r.study_date = med.study_date and -r.paid_amount = med.paid_amount
        )
    union all
    select q, procedure_date from nk_scn_procedure
    where list_contains(getvariable('nk_emg_codes'), code)
"""


def _key(con: duckdb.DuckDBPyConnection, night: int) -> None:
    _set(con, nk_night=night)
    con.execute(_sql("night_key.sql"))
    con.execute("create or replace temp table nk_life as select * from nk_life_next")
    con.execute("drop table nk_life_next")


def _write_keys(con: duckdb.DuckDBPyConnection, night_dir: Path, night: int) -> int:
    n = write_csv(
        con,
        f"""
        select claim_id, claim_line_number, rule_id, status, data_source, finding_id
        from nk_expected where night = {night}
        order by claim_id, claim_line_number, rule_id
        """,
        night_dir / "expected_findings.csv",
    )
    if night >= 1:
        write_csv(
            con,
            """
            select finding_id, state, resolution, times_reopened, rule_id, status, data_source,
                   claim_id, claim_line_number, first_night, cause
            from nk_life
            order by first_night, claim_id, claim_line_number, rule_id
            """,
            night_dir / "expected_lifecycle.csv",
        )
        write_csv(
            con,
            f"""
            select night, event_kind as event, gen_person_id(q) as person_id, claim_id,
                   claim_line_number
            from nk_events where night = {night}
            order by event_kind, claim_id, claim_line_number
            """,
            night_dir / "expected_events.csv",
        )
    return n


# ------------------------------------------------------------ night k >= 1


def _night(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    k: int,
    fmt: str,
    plan: _Plan,
    scenarios: list[Scenario],
) -> Night:
    night_dir = out_dir / f"night-{k}"
    night_dir.mkdir()
    # the night's new ESI persons (a fresh range of person indices, same seed)
    _set(
        con,
        gen_esi_first=plan.esi_first(k),
        gen_esi_target=plan.n_persons,
        gen_esi_budget=2**40,
    )
    con.execute(_sql("esi_persons.sql"))
    con.execute(f"insert into nk_persons select {k}, e, q, scenario from gen_esi_person")
    con.execute(f"insert into nk_scn_medical select {k}, * from gen_scn_medical")
    con.execute(f"insert into nk_scn_procedure select {k}, * from gen_scn_procedure")
    con.execute("create or replace temp table nk_batch_medical as select * from gen_scn_medical")
    _plant(con, k)
    con.execute(f"insert into nk_params values ({k}, {str(is_parameter_night(k)).lower()})")
    # tonight's events and their lines
    _set(
        con,
        nk_night=k,
        nk_n_late=plan.n_events,
        nk_n_reversal=plan.n_events,
        nk_n_withdrawn=plan.n_events,
        nk_event_first=plan.esi_first(k) + plan.n_persons,
    )
    con.execute(_sql("night_events.sql"))
    con.execute(
        """
        create or replace temp table gen_scn_medical as
        select row_number() over (order by nk_src, nk_pos) - 1 as rec,
               * exclude (nk_src, nk_pos)
        from (
            select 0 as nk_src, rec as nk_pos, * exclude (rec) from nk_batch_medical
            union all
            select 1, row_number() over (), * from nk_event_medical
            union all
            select 2, row_number() over (), * from nk_redelivered_medical
        )
        order by rec
        """
    )
    first = plan.filler_first(k)
    _set(
        con,
        gen_n_scn_lines=_count(con, "gen_scn_medical"),
        gen_n_filler=plan.n_filler,
        gen_n_scn_fills=_count(con, "gen_scn_pharmacy"),
        gen_n_rx_filler=plan.n_rx_filler,
        gen_n_proc_filler=plan.n_proc_filler,
    )
    for view, column, n in (
        ("gen_filler_index", "i", plan.n_filler),
        ("gen_rx_index", "i", plan.n_rx_filler),
        ("gen_proc_index", "r", plan.n_proc_filler),
    ):
        con.execute(
            f"create or replace temp view {view} as "
            f"select range as {column} from range({first}, {first + n})"
        )
    # the night's eligibility file: its new persons' spans only
    con.execute(
        "create or replace temp view gen_eligibility_lines as "
        "select q, span_start, span_end from gen_scn_eligibility"
    )

    previous_dir = out_dir / f"night-{k - 1}"
    reissued = _link_previous(con, previous_dir, night_dir, k, fmt)
    new_rows = {}
    for table in NIGHT_TABLES:
        path = night_dir / table / f"{load_date(k).isoformat()}.{fmt}"
        path.parent.mkdir(exist_ok=True)
        new_rows[table] = copy_table(con, table, path, fmt)
    _key(con, k)
    n = _write_keys(con, night_dir, k)
    write_scenarios(con, scenarios, night_dir / "expected_scenarios.csv")
    config = None
    if is_parameter_night(k):
        config = night_dir / CONFIG_NAME
        config.write_text(PARAMETER_NIGHT_CONFIG)
    events = dict(
        con.execute(
            "select event_kind, count(*) from nk_events where night = ? group by 1 order by 1", [k]
        ).fetchall()
    )
    night = Night(k, night_dir, load_date(k), new_rows, n, events, config)
    (night_dir / "README.md").write_text(_night_readme(night, reissued, fmt))
    return night


def _link_previous(
    con: duckdb.DuckDBPyConnection, previous_dir: Path, night_dir: Path, k: int, fmt: str
) -> Path | None:
    """Every file of the previous night, hard-linked (copied where links are not possible),
    except the previous night's medical_claim file when tonight withdraws claims from it:
    that one is re-issued without them. Returns the re-issued file, if any."""
    withdrawn = con.execute(
        "select distinct claim_id from nk_events where night = ? and event_kind = 'withdrawn'", [k]
    ).fetchall()
    reissue = (
        previous_dir / "medical_claim" / f"{load_date(k - 1).isoformat()}.{fmt}"
        if withdrawn and k >= 2
        else None
    )
    for source in sorted(previous_dir.glob("*/*")):
        if not source.is_file() or source.parent.name not in LAYOUTS:
            continue
        target = night_dir / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source == reissue:
            _reissue(con, source, target, fmt, [w[0] for w in withdrawn])
            continue
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    return reissue and night_dir / "medical_claim" / reissue.name


def _reissue(
    con: duckdb.DuckDBPyConnection, source: Path, target: Path, fmt: str, claims: list[str]
) -> None:
    """`source` without the lines of `claims`, as a new file (rows keep their order and
    values; a row without a claim id stays)."""
    con.execute("create or replace temp table nk_withdrawn (claim_id varchar)")
    con.executemany("insert into nk_withdrawn values (?)", [(c,) for c in claims])
    if fmt == "parquet":
        reader = f"read_parquet({lit(str(source))})"
    else:
        columns = ", ".join(f"{lit(c)}: 'VARCHAR'" for c in LAYOUTS["medical_claim"])
        reader = (
            f"read_csv({lit(str(source))}, header = true, auto_detect = false, "
            f"delim = ',', quote = '\"', escape = '\"', columns = {{{columns}}})"
        )
    query = (
        f"select * from {reader} "
        "where claim_id is null or claim_id not in (select claim_id from nk_withdrawn)"
    )
    part = target.with_name(target.name + ".part")
    if fmt == "parquet":
        schema = pa.schema([(c, pa.string()) for c in LAYOUTS["medical_claim"]])
        with pq.ParquetWriter(part, schema, compression="zstd") as writer:
            for batch in con.sql(query).to_arrow_reader(PARQUET_BATCH_ROWS):
                writer.write_batch(batch.cast(schema))
    else:
        con.execute(f"copy ({query}) to {lit(str(part))} (format csv, header true)")
    part.replace(target)


# ------------------------------------------------------------ READMEs


def _night_readme(night: Night, reissued: Path | None, fmt: str) -> str:
    events = ", ".join(f"{name} {n}" for name, n in night.events.items()) or "none"
    new = ", ".join(f"{t} {n:,}" for t, n in night.new_rows.items())
    run = (
        f"claims-audit run --input night-{night.night} --out out/night-{night.night} "
        "--db out/audit.duckdb"
    )
    if night.config:
        run += f" --config night-{night.night}/{CONFIG_NAME}"
    lines = [
        f"# Synthetic claims-audit data: night {night.night} (load date {night.load_date})",
        "",
        "Synthetic data made by `claims-audit generate --nights`: nothing describes a real person.",
        "",
        f"- new files ({fmt}, load date {night.load_date}): {new}",
        f"- events: {events} (expected_events.csv)",
        f"- expected findings: {night.expected_findings:,} (expected_findings.csv); the "
        "lifecycle of every finding seen since night 0: expected_lifecycle.csv",
    ]
    if reissued is not None:
        lines.append(
            f"- re-issued: medical_claim/{reissued.name} (the previous night's file without "
            "the withdrawn claims)"
        )
    if night.config:
        lines.append(
            f"- run this night with `{CONFIG_NAME}` (imaging_accepts_emg = true); the next "
            "night runs with the defaults again"
        )
    lines += ["", "Run it after the previous nights, on the same database:", "", "```sh", run,
              "```", ""]  # fmt: skip
    return "\n".join(lines)


def _readme(out_dir: Path, lines: int, seed: int, fmt: str, nights: list[Night]) -> str:
    rows = "\n".join(
        f"| `night-{n.night}` | {n.load_date} | {n.new_rows.get('medical_claim', 0):,} | "
        f"{n.expected_findings:,} | "
        + (", ".join(f"{e} {c}" for e, c in n.events.items()) or "")
        + (f"; run with `{CONFIG_NAME}`" if n.config else "")
        + " |"
        for n in nights
    )
    runs = "\n".join(
        f"claims-audit run --input {out_dir.name}/night-{n.night} --out out/night-{n.night} "
        f"--db out/audit.duckdb"
        + (f" --config {out_dir.name}/night-{n.night}/{CONFIG_NAME}" if n.config else "")
        for n in nights
    )
    return f"""# Synthetic claims-audit nights

Made by `claims-audit generate --nights {len(nights) - 1}` (history of {lines:,} medical
lines, seed {seed}, {fmt}). Synthetic data: nothing describes a real person.

`night-0` is the history (the data set `claims-audit generate` writes for the same size
and seed, byte for byte, one folder per table); each later night holds every file of the
night before (hard links) plus one new load-date file per table. See each night's
README.md and its answer key (`expected_findings.csv`, `expected_lifecycle.csv`).

| night | load date | new medical lines | expected findings | events |
|---|---|---:|---:|---|
{rows}

Run them in order on one database:

```sh
{runs}
```
"""
