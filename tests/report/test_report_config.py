"""The [report] settings of the configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import Config, load_config
from jobs.errors import InputError


def test_report_settings_and_defaults(tmp_path: Path) -> None:
    assert Config().max_drilldown_lines == 10_000
    assert Config().max_lines_per_provider == 200 and Config().min_provider_lines == 10
    path = tmp_path / "audit.toml"
    path.write_text(
        "[report]\nmember_ids = 'raw'\nmax_lines_per_provider = 50\n"
        "min_provider_lines = 20\nmax_drilldown_lines = 2500\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert (cfg.member_ids, cfg.max_lines_per_provider) == ("raw", 50)
    assert (cfg.min_provider_lines, cfg.max_drilldown_lines) == (20, 2500)


@pytest.mark.parametrize("value", ["0", "-5", "'many'", "true"])
def test_max_drilldown_lines_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    path = tmp_path / "audit.toml"
    path.write_text(f"[report]\nmax_drilldown_lines = {value}\n", encoding="utf-8")
    with pytest.raises(InputError, match="max_drilldown_lines must be a positive integer"):
        load_config(path)
