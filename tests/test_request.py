"""Item headings: the decided portion, quantities, frequency, duration, strength."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrkg.loader.request import (
    Piece,
    decided_request,
    read_duration,
    read_frequency,
    read_quantity,
    read_strength,
)
from tests.conftest import CASES


def _quantity_cases() -> list[tuple[str, int | None, str]]:
    rows = []
    for line in Path(CASES / "quantities.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            heading, quantity, rule = line.split("\t")
            rows.append((heading, None if quantity == "-" else int(quantity), rule))
    return rows


@pytest.mark.parametrize(
    ("heading", "quantity", "rule"), _quantity_cases(), ids=lambda v: str(v)[:40]
)
def test_quantity(heading: str, quantity: int | None, rule: str) -> None:
    assert read_quantity(heading).value == quantity, rule


def _piece(text: str) -> Piece:
    return Piece(text, 100, 100 + len(text))


def test_remaining_portion_heading() -> None:
    text = (
        "Acupuncture 18 sessions was the original request. Acupuncture 6 sessions was authorized "
        "by the Claims Administrator. The remaining IMR eligible portion of the original request, "
        "Acupuncture 12 sessions is"
    )
    decided = decided_request(_piece(text))
    assert decided.form == "remaining_portion"
    assert decided.decided.text == "Acupuncture 12 sessions"
    assert decided.requested is not None and decided.requested.text == "Acupuncture 18 sessions"
    assert decided.authorized is not None and decided.authorized.text == "Acupuncture 6 sessions"
    assert (
        text[decided.decided.start - 100 : decided.decided.end - 100] == "Acupuncture 12 sessions"
    )


def test_original_request_heading() -> None:
    text = (
        "Partial Hospitalization day treatment was the original request. The Claims Administrator "
        "authorized an Evaluation only for a Partial Hospitalization day treatment, leaving the "
        "original request IMR eligible. The original request, Partial Hospitalization day treatment is"
    )
    decided = decided_request(_piece(text))
    assert decided.form == "original_request"
    assert decided.decided.text == "Partial Hospitalization day treatment"
    assert decided.authorized is not None
    assert (
        decided.authorized.text == "an Evaluation only for a Partial Hospitalization day treatment"
    )


def test_plain_heading_is_decided_whole() -> None:
    decided = decided_request(_piece("MRI of the lumbar spine"))
    assert decided.form is None and decided.decided.text == "MRI of the lumbar spine"


def test_frequency_and_duration() -> None:
    frequency = read_frequency("Physical therapy 2-3 times a week for 6 weeks")
    duration = read_duration("for 6 weeks")
    assert frequency is not None and (frequency.low, frequency.high, frequency.period) == (
        2,
        3,
        "week",
    )
    assert duration is not None and (duration.high, duration.period) == (6, "week")
    assert read_frequency("twice weekly") is not None
    assert read_frequency("MRI of the knee") is None


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("Ultram 50mg #30", "50 mg"),
        ("Norco 10/325mg", "10/325 mg"),
        ("Lidoderm 5% patch", "5%"),
        ("Diclofenac sodium 3% 300mg/g #1", "3%"),
        ("Gabapentin 600 mg", "600 mg"),
    ],
)
def test_strength(text: str, strength: str) -> None:
    found = read_strength(text)
    assert found is not None and found.text == strength
