"""Member pseudonyms: a keyed hash, stable for one database, with a key kept out of the report."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import duckdb
import pytest
from report_fixtures import Rendered

from jobs.config import Config
from jobs.report import member_ids as report_ids
from jobs.report import render as report

PSEUDONYM = re.compile(r"m-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(report_ids.KEY_ENV, raising=False)


def test_key_file_is_created_beside_the_database_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    key = report_ids.member_key(db)
    path = tmp_path / "audit.member-key"
    assert path.exists() and len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert report_ids.member_key(db) == key  # read back, not replaced


def test_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(report_ids.KEY_ENV, "from-the-vault")
    assert report_ids.member_key(tmp_path / "audit.duckdb") == b"from-the-vault"
    assert not (tmp_path / "audit.member-key").exists()


def test_no_key_and_no_database_is_an_error() -> None:
    with pytest.raises(ValueError, match=report_ids.KEY_ENV):
        report_ids.member_key(None)


def test_pseudonyms_are_keyed_and_stable() -> None:
    a, b = report_ids.hasher(b"k1"), report_ids.hasher(b"k2")
    assert PSEUDONYM.fullmatch(a("MBR00000001"))
    assert a("MBR00000001") == report_ids.hasher(b"k1")("MBR00000001")
    assert a("MBR00000001") != b("MBR00000001")
    assert a("MBR00000001") != a("MBR00000002")
    assert a(None) == ""


def _pseudonyms(html: str) -> list[str]:
    return PSEUDONYM.findall(html)


def test_reports_of_one_database_share_pseudonyms(plain: Rendered, tmp_path: Path) -> None:
    """Without an explicit key, write_report uses the key file beside manifest['db']."""
    con = duckdb.connect(str(plain.built.db_path), read_only=True)
    try:
        first, second = tmp_path / "r1.html", tmp_path / "r2.html"
        report.write_report(con, plain.manifest, Config(), first)
        report.write_report(con, plain.manifest, Config(), second)
        other_db = {**plain.manifest, "db": str(tmp_path / "other.duckdb")}
        third = tmp_path / "r3.html"
        report.write_report(con, other_db, Config(), third)
    finally:
        con.close()
    one, two, three = (_pseudonyms(p.read_text()) for p in (first, second, third))
    assert one and one == two
    assert set(one).isdisjoint(three)  # another database, another key
    key = report_ids.key_path(plain.built.db_path).read_text().strip()
    assert key not in first.read_text()
