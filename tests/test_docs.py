"""Documentation stays true: every command has help with an example, the README
starts with the two commands and documents every command, option and table."""

from __future__ import annotations

import re
import zipfile

import pytest

from jobs.cli import EXAMPLES, _parser
from tests.conftest import REPO, run_cli

COMMANDS = ["run", "demo", "generate", "query", "rules", "sample", "estimate"]


def subparsers():
    parser = _parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_every_command_is_documented_with_an_example():
    choices = subparsers()
    assert sorted(choices) == sorted(COMMANDS)
    for name, sub in choices.items():
        assert sub.description, name
        assert name in EXAMPLES and f"claims-audit {name}" in EXAMPLES[name], name
        assert f"claims-audit {name}" in sub.format_help(), name


@pytest.mark.parametrize("command", COMMANDS)
def test_help_runs_from_the_installed_command(command):
    res = run_cli(command, "--help")
    assert res.returncode == 0, res.stderr
    assert "example" in res.stdout


def test_readme_starts_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    assert "claims-audit demo" in blocks[0] and "pip install" in blocks[0]
    assert blocks[1].strip() == ".ci/run"
    ci = (REPO / ".ci" / "run").read_text()
    assert "pytest" in ci and "apt-get" in ci


def test_readme_documents_every_command_and_option():
    text = (REPO / "README.md").read_text()
    for name, sub in subparsers().items():
        assert f"claims-audit {name}" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in text, f"{name} {flag} is not in the README"


def test_readme_lists_every_published_table(tmp_path):
    import duckdb

    out = tmp_path / "out"
    res = run_cli("run", "--input", REPO / "tests" / "fixtures" / "tuva-synthetic-10", "--out", out)
    assert res.returncode == 0, res.stderr[-2000:]
    con = duckdb.connect(str(out / "audit.duckdb"), read_only=True)
    names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    views = con.execute("select view_name from duckdb_views() where not internal").fetchall()
    names |= {r[0] for r in views}
    text = (REPO / "README.md").read_text()
    undocumented = sorted(n for n in names if not n.startswith("int_") and f"`{n}`" not in text)
    assert not undocumented, f"tables missing from the README: {undocumented}"


def test_the_wheel_ships_sql_expectations_and_reports(tmp_path):
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("claims_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("sql/rules", "sql/intermediate", "sql/value_sets", "expectations", "reports"):
        assert any(n.startswith(f"jobs/{folder}/") for n in names), folder
    rules = {n for n in names if n.startswith("jobs/sql/rules/") and n.endswith(".sql")}
    assert len(rules) == 9
