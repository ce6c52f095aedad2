"""Letter records go to JSON and back unchanged; every span quotes its value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imrkg.record import record_from_json, record_to_json
from tests.conftest import SAMPLE_NAMES, sample_record


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_json_round_trip(name: str) -> None:
    record = sample_record(name, "pdf")
    assert record_from_json(json.loads(json.dumps(record_to_json(record)))) == record


def test_contract_keys_come_first() -> None:
    data = record_to_json(sample_record(SAMPLE_NAMES[0], "txt"))
    assert list(data)[:10] == [
        "source",
        "layout",
        "case_number",
        "dates",
        "reviewer",
        "worker",
        "injury",
        "diagnoses",
        "prior_treatments",
        "items",
    ]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_spans_quote_their_values(name: str) -> None:
    record = sample_record(name, "txt")
    text = record.text

    def squash(value: str) -> str:
        return " ".join(value.split())

    for item in record.items:
        assert item.span is not None and item.heading is not None
        assert squash(text[item.spans["heading"].start : item.spans["heading"].end]) == item.heading
        if item.rationale:
            assert (
                squash(text[item.spans["rationale"].start : item.spans["rationale"].end])
                == item.rationale
            )
        for region in item.body_regions:
            assert (
                region.span is not None and text[region.span.start : region.span.end] == region.text
            )
        for cited in item.ca_guidelines + item.imr_guidelines:
            assert cited.span is not None and cited.text is not None
            assert squash(text[cited.span.start : cited.span.end]) == cited.text
    for diagnosis in record.diagnoses:
        assert diagnosis.span is not None
        assert squash(text[diagnosis.span.start : diagnosis.span.end]) == diagnosis.text
    if record.case_number:
        span = record.spans["case_number"]
        assert text[span.start : span.end] == record.case_number


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_source_offsets_point_at_the_same_words(name: str) -> None:
    """The source offsets of a value hold the same words in the letter file."""
    record = sample_record(name, "txt")
    source = Path(record.source).read_text(encoding="utf-8")
    for item in record.items:
        span = item.spans["outcome"]
        assert source[span.source_start : span.source_end] == record.text[span.start : span.end]
