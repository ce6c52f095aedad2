"""Decision reasons from rationales: cue patterns, blocking, suppression, defaults, implications."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imrkg.loader.reasons import decide_reasons, reason_rules
from imrkg.loader.vocab import SCHEMES
from tests.conftest import CASES

REASON_CASES: list[dict[str, Any]] = json.loads(
    (CASES / "reasons.json").read_text(encoding="utf-8")
)
OUTCOME = SCHEMES["outcome"] + "/"
OPIOID = SCHEMES["treatment"] + "/opioid"


@pytest.mark.parametrize("case", REASON_CASES, ids=[c["rationale"][:50] for c in REASON_CASES])
def test_reasons_of_a_rationale(case: dict[str, Any]) -> None:
    codes, _ = decide_reasons(case["rationale"], OUTCOME + case["outcome"], [], over_limit=False)
    assert sorted(codes) == sorted(case["reasons"])


def test_the_codes_are_the_contracts() -> None:
    assert {r.code for r in reason_rules()} == {
        "EXCEEDS_GUIDELINE_QUANTITY",
        "NO_FUNCTIONAL_IMPROVEMENT",
        "NOT_ADJUNCT_TO_ACTIVE_THERAPY",
        "NOT_RECOMMENDED",
        "INSUFFICIENT_DOCUMENTATION",
        "TRANSITION_TO_HOME_PROGRAM",
        "OPIOID_CRITERIA_NOT_MET",
        "CONSERVATIVE_CARE_NOT_TRIED",
        "ALREADY_AUTHORIZED",
        "DEPENDS_ON_DENIED_SERVICE",
        "WITHIN_GUIDELINES",
    }


def test_opioid_items_that_are_upheld_fail_the_opioid_criteria() -> None:
    codes, _ = decide_reasons(
        "The request is not medically necessary.", OUTCOME + "upheld", [OPIOID], False
    )
    assert "OPIOID_CRITERIA_NOT_MET" in codes


def test_a_quantity_over_the_guideline_limit_exceeds_it_when_the_limit_is_invoked() -> None:
    rationale = "Massage should be limited to 4-6 visits. The request is not medically necessary."
    codes, _ = decide_reasons(rationale, OUTCOME + "upheld", [], over_limit=True)
    assert codes == ["EXCEEDS_GUIDELINE_QUANTITY"]
    silent = "There is no documentation of the response to prior sessions."
    codes, _ = decide_reasons(silent, OUTCOME + "upheld", [], over_limit=True)
    assert codes == ["INSUFFICIENT_DOCUMENTATION"]


def test_evidence_points_at_the_sentence() -> None:
    rationale = "Massage is an option. There is no documentation of functional improvement."
    _, evidence = decide_reasons(rationale, OUTCOME + "upheld", [], False)
    (stated,) = evidence
    assert (
        rationale[stated.start : stated.end]
        == "There is no documentation of functional improvement."
    )
