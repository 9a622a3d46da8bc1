"""The generator's own drug facts: the NDCs it plants in pharmacy fills, with their
ingredient and route, and the policy's conservative-care drugs (section 2.2).

Written for the generator, not read from the product's crosswalk
(sql/value_sets/ndc_crosswalk_starter.csv): the answer key and the test oracle must not
share what they check. A wrong row in the product's crosswalk, or a wrong NDC
normalizer in its loader, then makes the product disagree with the key
(tests/synthetic/test_roundtrip.py plants every NDC below).

NDCs are the 11-digit billing form (5-4-2, no dashes): the real package NDCs the starter
crosswalk documents (DailyMed / FDA NDC listings), restated here by how each product is
taken (tablets and capsules oral, gels topical, injections injected), apart from that file.
"""

from __future__ import annotations

# Policy section 2.2: conservative-care drugs by ingredient; NSAIDs count when oral or
# topical (policy 1.1), every other ingredient only when oral.
NSAIDS = (
    "ibuprofen",
    "naproxen",
    "diclofenac",
    "meloxicam",
    "celecoxib",
    "etodolac",
    "nabumetone",
)
OTHER_CONSERVATIVE_DRUGS = (
    "methylprednisolone",
    "prednisone",
    "dexamethasone",
    "gabapentin",
    "pregabalin",
    "cyclobenzaprine",
    "methocarbamol",
    "tizanidine",
    "baclofen",
    "carisoprodol",
    "duloxetine",
)

# ingredient -> NDCs, by how the product is taken
ORAL = {
    "ibuprofen": ("00536139047", "70000017201"),
    "naproxen": ("12634049800", "51316076270", "58602081907", "53943014402"),
    "meloxicam": ("61442012601", "61442012701", "71335188800"),
    "prednisone": ("00591505201", "00054981725", "63561012101"),
    "methylprednisolone": ("00603459315", "68084014901", "62135076021"),
    "gabapentin": ("65862019801", "31722022101", "65162010110", "25000010301"),
    "pregabalin": ("46708012130", "13668035801", "69097095405"),
    "cyclobenzaprine": ("53808063901", "52817033010"),
    "methocarbamol": ("00904705861", "59651034001"),
    "tizanidine": ("67877061405", "57664050389"),
    "baclofen": ("62135047390", "16714007204"),
    "duloxetine": ("61919048330", "31722058101"),
}
TOPICAL = {"diclofenac": ("65162083366", "53002464201")}
INJECTED = {"dexamethasone": ("63323016501", "81565020201")}


def _ndcs(table: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted(ndc for ndcs in table.values() for ndc in ndcs)


def counts(ingredient: str, route: str) -> bool:
    """Whether a fill of `ingredient` taken by `route` is conservative care (policy 2.2)."""
    if ingredient in NSAIDS:
        return route in ("oral", "topical")
    return ingredient in OTHER_CONSERVATIVE_DRUGS and route == "oral"


def facts() -> dict[str, tuple[str, str]]:
    """{ndc: (ingredient, route)} of every NDC the generator knows."""
    out = {}
    for route, table in (("oral", ORAL), ("topical", TOPICAL), ("injected", INJECTED)):
        for ingredient, ndcs in table.items():
            for ndc in ndcs:
                out[ndc] = (ingredient, route)
    return dict(sorted(out.items()))


def planted_lists() -> dict[str, list[str]]:
    """The NDC lists the generator draws fills from: oral and topical conservative-care
    drugs (they count), injected ones (they do not), all of them (general persons), and
    the labelers they use (fills meant to be unlisted avoid them)."""
    known = facts()
    return {
        "oral": [n for n, (i, r) in known.items() if r == "oral" and counts(i, r)],
        "topical": [n for n, (i, r) in known.items() if r == "topical" and counts(i, r)],
        "injectable": _ndcs(INJECTED),
        "all": list(known),
        "labelers": sorted({n[:5] for n in known}),
    }
