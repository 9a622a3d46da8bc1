"""Fixtures of the rule tests; the helpers live in rule_harness.py."""

from __future__ import annotations

import pytest
from rule_harness import Audit


@pytest.fixture
def audit() -> Audit:
    return Audit()
