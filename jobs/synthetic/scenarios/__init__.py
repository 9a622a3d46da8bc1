"""The catalog of ESI person scenarios planted by the synthetic data generator.

Each ESI person of a generated data set lives exactly one scenario: a small
claims history (injection claims, physical therapy, imaging, drug fills, EHR
procedures, enrollment spans) laid out in days relative to the person's first
injection (day 0, the anchor). A scenario is compliant with the audit policy
(the audit policy, default parameters of its section 6) except for what it
plants, and it states the findings the audit must produce. Those statements are
the answer key (`expected_findings.csv`); they are written here from the policy
text, never computed by running the rules. (tests/synthetic/test_generate.py checks
them against a separate executable reading of the policy.)

Day offsets are exact where a boundary is tested; elsewhere they are ranges
(lo, hi) that every draw within keeps the outcome unchanged. Code choices are
option lists of equivalent codes, drawn per person.

Conventions the expectations rely on (policy section in brackets):
- conservative care passes iff some evidence lies in [day-180, day-42] [2.2]
  (evidence in the window [day-180, day) whose earliest is >= 42 days before);
- imaging passes iff a cervical MRI/CT/myelogram lies in [day-730, day] [2.3];
- persons are continuously enrolled over every look-back window unless the
  scenario says otherwise, so failures are `fail`, not `insufficient_history` [4];
- claims of one scenario never interact with another person's.

One module per section of the policy (compliant.py, qualifying_dx.py, ...), each a list
of scenarios, one block each, and policy_1_1.py for what policy 1.1 added; catalog.py puts
them in their fixed order.
"""

from __future__ import annotations

from jobs.synthetic.scenarios.catalog import anchor_range, catalog, check, template_rows
from jobs.synthetic.scenarios.model import (
    ADDON_PRIMARY,
    ESI_CODES,
    GUIDANCE_CODES,
    RULES,
    STATUSES,
    Scenario,
)

__all__ = [
    "ADDON_PRIMARY",
    "ESI_CODES",
    "GUIDANCE_CODES",
    "RULES",
    "STATUSES",
    "Scenario",
    "anchor_range",
    "catalog",
    "check",
    "template_rows",
]
