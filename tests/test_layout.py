"""Layouts: which one a letter is, its sections, and its items."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrkg.errors import LetterError
from imrkg.loader.layout import REFLOW_RULES, parse_layout
from imrkg.loader.read import SourceDocument, normalize
from tests.conftest import SAMPLE_NAMES, expected, sample_record

ITEM = (
    "{heading}: {outcome}\n"
    "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Massage therapy.\n"
    "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Massage therapy.\n"
    "Decision rationale: {rationale}\n"
)


def _layout(*pages: str) -> list[str]:
    nt = normalize(SourceDocument("x.txt", "text", pages), REFLOW_RULES)
    return [i.heading.value for i in parse_layout(nt).items]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_layouts(name: str) -> None:
    want = expected(name)
    for suffix in ("txt", "pdf"):
        record = sample_record(name, suffix)
        assert record.layout == want["layout"]
        assert [i.outcome for i in record.items] == [i["outcome"] for i in want["items"]]


def test_a_text_that_is_not_a_letter() -> None:
    nt = normalize(
        SourceDocument("notes.txt", "text", ("Shopping list: apples, pears.\nCall the dentist.",))
    )
    with pytest.raises(LetterError, match="not an IMR determination letter"):
        parse_layout(nt)


def test_a_letter_without_decided_items() -> None:
    text = (
        "HOW THE IMR FINAL DETERMINATION WAS MADE\nSome text.\nCLINICAL CASE SUMMARY\nA summary.\n"
    )
    with pytest.raises(LetterError, match="no decided items"):
        parse_layout(normalize(SourceDocument("x.txt", "text", (text,)), REFLOW_RULES))


def test_heading_glued_to_the_previous_rationale_is_cut_at_the_sentence() -> None:
    first = ITEM.format(
        heading="Massage x 8", outcome="Upheld", rationale="It is not medically necessary."
    )
    # the previous rationale ran to the margin, so the next heading was joined to it
    glued = (
        first.rstrip("\n")
        + " "
        + ITEM.format(heading="Acupuncture x 6", outcome="Overturned", rationale="Fine.")
    )
    text = "IMR ISSUES, DECISIONS AND RATIONALES\n" + glued
    assert _layout(text) == ["Massage x 8: Upheld", "Acupuncture x 6: Overturned"]


def test_a_partial_heading_keeps_its_first_sentences() -> None:
    heading = (
        "Massage x 12 was the original request. Massage x 6 was authorized by the Claims Administrator. "
        "The remaining IMR eligible portion of the original request, Massage x 6 is"
    )
    text = "IMR ISSUES, DECISIONS AND RATIONALES\n" + ITEM.format(
        heading=heading, outcome="Upheld", rationale="No."
    )
    assert _layout(text) == [heading + ": Upheld"]


def test_a_citation_line_at_the_top_of_two_pages_is_not_a_running_header() -> None:
    """Regression: a line standing first on two pages was once dropped as page furniture."""
    item = ITEM.format(
        heading="Massage x 8", outcome="Upheld", rationale="It is not medically necessary."
    )
    head, ca, rest = item.split("\n", 2)
    page1 = "IMR ISSUES, DECISIONS AND RATIONALES\n" + head
    page2 = ca + "\n" + rest + head.replace("Massage", "Traction")
    page3 = ca + "\n" + rest
    nt = normalize(SourceDocument("x.txt", "text", (page1, page2, page3)), REFLOW_RULES)
    items = parse_layout(nt).items
    assert len(items) == 2
    assert all(i.ca_guideline is not None for i in items)


def test_professional_items_are_matched_across_sections_by_number() -> None:
    record = sample_record("professional-lumbar-fusion", "pdf")
    assert [i.number for i in record.items] == [1, 2, 3, 4]
    assert all(i.rationale and i.imr_guidelines and i.imr_guideline_reliance for i in record.items)


def test_maximus_and_professional_list_their_documents(tmp_path: Path) -> None:
    for name in ("maximus-cervical-esi", "professional-shoulder-rehab"):
        record = sample_record(name, "pdf")
        assert len(record.documents_reviewed) == expected(name)["extra"]["documents_reviewed"]


def test_glued_heading_after_a_rationale_that_quotes_a_partial_heading() -> None:
    """Regression: a rationale quoting "... was the original request ..." made the next
    heading, glued to it, start inside the quote."""
    quoted = (
        'Given the above, the request for "Massage x 12 was the original request. Massage x 6 was '
        "authorized by the Claims Administrator. The remaining IMR eligible portion of the original "
        'request, Massage x 6" is not medically necessary.'
    )
    first = ITEM.format(heading="Massage x 6", outcome="Upheld", rationale=quoted)
    glued = (
        first.rstrip("\n")
        + " "
        + ITEM.format(heading="Ultram 50mg #90", outcome="Upheld", rationale="No.")
    )
    assert _layout("IMR ISSUES, DECISIONS AND RATIONALES\n" + glued) == [
        "Massage x 6: Upheld",
        "Ultram 50mg #90: Upheld",
    ]
