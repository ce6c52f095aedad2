"""The bundled sample letters extract to their hand-written records.

Data-driven: each ``examples/expected/NAME.json`` is checked against the
records of ``examples/letters/NAME.txt`` and ``NAME.pdf``, field by field,
with the gold reading rules (treatment and region keywords are matched as
case-insensitive substrings, ``a|b`` accepting either; guideline IDs as sets).
"""

from __future__ import annotations

from typing import Any

import pytest

from imrkg.record import Item, LetterRecord
from tests.conftest import SAMPLE_NAMES, expected, sample_record

CASES = [(name, suffix) for name in SAMPLE_NAMES for suffix in ("txt", "pdf")]


def found(keyword: str, texts: list[str]) -> bool:
    alternatives = [a.strip().lower() for a in keyword.split("|")]
    return any(a in " ".join(t.lower().split()) for a in alternatives for t in texts)


def f1(gold: set[str], got: set[str]) -> float:
    if not gold and not got:
        return 1.0
    hits = len(gold & got)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(got), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(params=CASES, ids=[f"{n}.{s}" for n, s in CASES])
def case(request: pytest.FixtureRequest) -> tuple[dict[str, Any], LetterRecord]:
    name, suffix = request.param
    return expected(name), sample_record(name, suffix)


def test_layout_and_header(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    assert rec.layout == exp["layout"]
    assert rec.case_number == exp["case_number"]
    for key, value in (exp.get("dates") or {}).items():
        assert rec.dates[key] == value, key


def test_reviewer(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    assert {s.lower() for s in rec.reviewer.licensure} == {
        s.lower() for s in exp["reviewer"]["licensure"]
    }
    assert len(rec.reviewer.specialties) == len(exp["reviewer"]["specialties"])
    for keyword in exp["reviewer"]["specialties"]:
        assert found(keyword, rec.reviewer.specialties), keyword


def test_worker_and_injury(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    assert rec.worker.age == exp["worker"]["age"]
    assert rec.worker.sex == exp["worker"]["sex"]
    assert rec.injury.date == exp["injury"]["date"]


def test_diagnoses_and_prior_treatments(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    diagnoses = [d.text for d in rec.diagnoses]
    for keyword in exp["diagnoses"]["keywords"]:
        assert found(keyword, diagnoses), keyword
    low, high = exp["diagnoses"]["count"]
    assert low <= len(diagnoses) <= high, diagnoses
    prior = [p.text for p in rec.prior_treatments]
    for keyword in exp["prior_treatments"]["keywords"]:
        assert found(keyword, prior), keyword
    for keyword in exp["prior_treatments"].get("absent", []):
        assert not found(keyword, prior), keyword


def _check_item(exp: dict[str, Any], item: Item) -> None:
    assert item.outcome == exp["outcome"]
    assert item.treatment is not None and found(exp["treatment"], [item.treatment.label]), (
        item.treatment
    )
    assert item.quantity == exp["quantity"], item.request
    regions = [r.label for r in item.body_regions]
    assert len(regions) == len(exp["body_regions"]), regions
    for keyword in exp["body_regions"]:
        assert found(keyword, regions), (keyword, regions)
    assert {c.guideline for c in item.ca_guidelines} == set(exp["ca_guidelines"])
    assert {c.guideline for c in item.imr_guidelines} == set(exp["imr_guidelines"])
    if exp.get("imr_pages"):
        assert exp["imr_pages"] in {c.pages for c in item.imr_guidelines}
    if "partial" in exp:
        assert item.partial is not None
        assert item.partial.requested_quantity == exp["partial"]["requested"]
        assert item.partial.authorized_quantity == exp["partial"]["authorized"]
    if exp.get("frequency_per_week") is not None:
        assert item.frequency is not None and item.frequency.per_week == exp["frequency_per_week"]
    if exp.get("duration_weeks") is not None:
        assert item.duration is not None and item.duration.weeks == pytest.approx(
            exp["duration_weeks"], abs=0.01
        )
    if "drug" in exp:
        assert item.dosage is not None
        assert item.dosage.strength == exp["drug"]["strength"]
        assert item.dosage.count == exp["drug"]["count"]


def test_items(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    assert len(rec.items) == len(exp["items"])
    for want, item in zip(exp["items"], rec.items, strict=True):
        _check_item(want, item)


def test_reasons_agree_with_the_rationales(case: tuple[dict[str, Any], LetterRecord]) -> None:
    """Reasons are read from free text: every item must share a reason with the
    expectation, and the letter as a whole must agree closely."""
    exp, rec = case
    scores = [
        f1(set(w["reasons"]), set(i.reasons)) for w, i in zip(exp["items"], rec.items, strict=True)
    ]
    assert min(scores) >= 0.5, scores
    assert sum(scores) / len(scores) >= 0.85, scores


def test_letter_level_extras(case: tuple[dict[str, Any], LetterRecord]) -> None:
    exp, rec = case
    extra = exp["extra"]
    assert rec.outcome == extra["letter_outcome"]
    if extra["mechanism"]:
        assert rec.injury.mechanism is not None and found(
            extra["mechanism"], [rec.injury.mechanism]
        )
    assert [p.value for p in rec.pain_scores] == extra["pain_scores"]
    for keyword in extra["medications"]:
        assert found(keyword, [m.text for m in rec.medications]), keyword
    assert rec.utilization_review.date == extra["ur_date"]
    if extra["documents_reviewed"] is not None:
        assert len(rec.documents_reviewed) == extra["documents_reviewed"]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_text_and_pdf_give_the_same_record(name: str) -> None:
    """Apart from where values stand, a letter reads the same from its text and its PDF."""
    from_text, from_pdf = sample_record(name, "txt"), sample_record(name, "pdf")

    def facts(rec: LetterRecord) -> list[Any]:
        return [
            rec.case_number,
            rec.dates,
            rec.reviewer.licensure,
            rec.reviewer.specialties,
            rec.worker.age,
            rec.worker.sex,
            rec.injury.date,
            rec.injury.mechanism,
            rec.outcome,
            [d.text for d in rec.diagnoses],
            [p.text for p in rec.prior_treatments],
            [(p.value, p.high) for p in rec.pain_scores],
            [m.text for m in rec.documents_reviewed],
            [
                (
                    i.request,
                    i.outcome,
                    i.quantity,
                    i.treatment.label if i.treatment else None,
                    [(r.label, r.laterality) for r in i.body_regions],
                    [
                        (c.guideline, c.edition, c.chapter, c.section, c.pages)
                        for c in i.ca_guidelines + i.imr_guidelines
                    ],
                    i.reasons,
                    i.rationale,
                )
                for i in rec.items
            ],
        ]

    assert facts(from_text) == facts(from_pdf)
