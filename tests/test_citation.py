"""Guideline citation lines, both generations of wording, read into citations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imrkg.loader.citation import read_citations
from tests.conftest import CASES

CITATION_CASES: list[dict[str, Any]] = json.loads(
    (CASES / "citations.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CITATION_CASES, ids=[c["line"][:50] for c in CITATION_CASES])
def test_citation_line(case: dict[str, Any]) -> None:
    cited = read_citations(case["line"])
    assert [c.guideline for c in cited] == [w["guideline"] for w in case["cited"]]
    for want, got in zip(case["cited"], cited, strict=True):
        for key, value in want.items():
            actual = getattr(got, key)
            if key == "chapter" and value is not None:
                assert actual is not None and value.lower() in actual.lower(), (key, actual)
            else:
                assert actual == value, (key, actual)


def test_edition_year_after_the_name_is_read_not_taken_for_pages() -> None:
    """Regression: the year after a guideline's name was once missed (an anchored
    pattern never matched mid-line) and '2004' became the pages."""
    (cited,) = read_citations("Decision based on MTUS Knee Complaints 2004.")
    assert cited.edition == 2004 and cited.pages is None


def test_offsets_point_at_the_guideline_name() -> None:
    line = "Decision based on MTUS Acupuncture Treatment 2007, and Chronic Pain Medical Treatment 2016."
    first, second = read_citations(line)
    assert "Acupuncture" in line[first.start : first.end]
    assert "Chronic Pain" in line[second.start : second.end]
