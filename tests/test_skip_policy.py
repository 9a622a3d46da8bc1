"""No test may skip silently (issue 13): where .ci/run sets CLAIMS_AUDIT_NO_SKIP=1, a skip
fails the run with its reason; elsewhere it stays a skip, listed by `pytest -rs`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import NO_SKIP, REPO

TESTS = textwrap.dedent(
    """
    import pytest

    def test_runs():
        pass

    def test_skips():
        pytest.skip("no widget on this machine")

    @pytest.mark.skipif(True, reason="marked to skip")
    def test_marked():
        pass

    @pytest.mark.xfail(reason="a known failure", strict=True)
    def test_known_failure():
        assert False
    """
)


def run_pytest(folder, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != NO_SKIP}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
        env={**base, "PYTHONPATH": str(REPO), **env},
    )


def test_a_skip_fails_the_run_only_where_no_test_may_skip(tmp_path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import (  # noqa: F401\n"
        "    pytest_make_collect_report, pytest_runtest_makereport, pytest_sessionfinish,\n"
        "    pytest_terminal_summary)\n"
    )
    (tmp_path / "test_cases.py").write_text(TESTS)
    (tmp_path / "test_module_skip.py").write_text(
        "import pytest\n\npytest.importorskip('no_such_module_here')\n"
    )

    free = run_pytest(tmp_path)
    assert free.returncode == 0, free.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in free.stdout
    for reason in ("no widget on this machine", "marked to skip", "no_such_module_here"):
        assert reason in free.stdout  # -rs lists every skip with its reason

    strict = run_pytest(tmp_path, **{NO_SKIP: "1"})
    assert strict.returncode == 1, strict.stdout
    # a skip in setup (a skip mark) shows as an error, one in the test body as a failure
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error" in strict.stdout, strict.stdout
    for reason in ("no widget on this machine", "marked to skip"):
        assert f"skipped where no test may skip ({NO_SKIP}=1): {reason}" in strict.stdout
    assert f"modules skipped where no test may skip ({NO_SKIP}=1)" in strict.stdout
    assert "test_module_skip.py: could not import 'no_such_module_here'" in strict.stdout
