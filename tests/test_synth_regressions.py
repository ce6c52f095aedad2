"""Regressions found by the synthetic letters (imrkg.synth): each test builds the
smallest letter, or takes the synthetic letter, that showed the bug."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from imrkg.loader.extract import extract_letter
from imrkg.loader.icd10 import description_words
from imrkg.loader.layout import REFLOW_RULES
from imrkg.loader.read import SourceDocument, normalize, read_document
from imrkg.loader.reasons import decide_reasons
from imrkg.loader.vocab import SCHEMES, known_words
from imrkg.synth import iter_letters
from imrkg.typeset import parse_source, render_pdf, render_text

UPHELD = SCHEMES["outcome"] + "/upheld"
OPIOID = [SCHEMES["treatment"] + "/opioid", SCHEMES["treatment"] + "/pharmaceutical"]
SEED = 7


def _letters(count: int) -> list[tuple[str, str, dict[str, Any]]]:
    return list(iter_letters(count, seed=SEED))


def _outcomes(path: Path) -> list[str]:
    return [item.outcome for item in extract_letter(path).items]


# ------------------------------------------------ one-page PDFs: "Page 1 of 1"


def test_a_one_item_letter_as_a_one_page_pdf_extracts(tmp_path: Path) -> None:
    name, source, want = next(letter for letter in _letters(40) if len(letter[2]["items"]) == 1)
    path = tmp_path / f"{name}.pdf"
    render_pdf(parse_source(source, name), path)
    document = read_document(path)
    assert len(document.pages) == 1 and "Page 1 of 1" in document.text
    record = extract_letter(path)  # was: "truncated letter ... 'Page 1 of 1'"
    assert [item.outcome for item in record.items] == [i["outcome"] for i in want["items"]]
    assert record.items[0].rationale is not None
    assert "Page 1" not in record.items[0].rationale


def test_a_one_page_document_drops_its_own_page_number_only() -> None:
    def text(*lines: str) -> str:
        return normalize(SourceDocument("x.pdf", "pdf", ("\n".join(lines),))).text

    assert text("A HEADING", "The rationale ends here.", "Page 1 of 1") == (
        "A HEADING\nThe rationale ends here."
    )
    assert text("- 1 -", "A HEADING", "The rationale ends here.").startswith("A HEADING")
    # another number on a single page may be content, and stays
    assert text("A HEADING", "The count is", "12").endswith("12")


# ------------------------------------------------ an outcome alone on its line


@pytest.mark.parametrize("word", ["UPHELD", "OVERTURNED", "Upheld"])
def test_an_outcome_wrapped_onto_a_line_of_its_own_is_read(tmp_path: Path, word: str) -> None:
    name, source, want = next(
        letter for letter in _letters(40) if letter[2]["layout"] in ("maximus", "professional")
    )
    text = render_text(parse_source(source, name))
    outcome = "Overturned" if word.lower() == "overturned" else "Upheld"
    heading = re.compile(r"^(.+?):[ \t]*" + outcome + r"[ \t]*$", re.M)
    found = heading.search(text)
    if found is None:  # the letter decides no item that way: decide its first one so
        found = re.search(r"^(.+?):[ \t]*(?:Upheld|Overturned)[ \t]*$", text, re.M)
    assert found is not None
    wrapped = text[: found.start()] + f"{found.group(1)}: \n{word}" + text[found.end() :]
    path = tmp_path / f"{name}.txt"
    path.write_text(wrapped, encoding="utf-8")
    outcomes = _outcomes(path)
    assert len(outcomes) == len(want["items"])
    assert word.lower() in outcomes


def test_the_example_heading_of_the_bug_report(tmp_path: Path) -> None:
    name, source, _ = next(letter for letter in _letters(40) if letter[2]["layout"] == "maximus")
    text = render_text(parse_source(source, name))
    first = re.search(r"^(.+?):[ \t]*(?:Upheld|Overturned)[ \t]*$", text, re.M)
    assert first is not None
    request = "Physical therapy 2 times a week for 6 weeks for the lumbar spine"
    path = tmp_path / "letter.txt"
    path.write_text(text[: first.start()] + f"{request}: \nUPHELD" + text[first.end() :])
    record = extract_letter(path)
    assert record.items[0].request == request
    assert record.items[0].outcome == "upheld"


# ------------------------------------------------ the restated request states no reason

_RESTATED = [
    ("Urine drug testing", "OPIOID_CRITERIA_NOT_MET"),
    ("Lumbar spine surgery", "DEPENDS_ON_DENIED_SERVICE"),
    ("Lumbar decompression procedure", "DEPENDS_ON_DENIED_SERVICE"),
    ("Home exercise kit", "TRANSITION_TO_HOME_PROGRAM"),
    ("Xanax 1mg, unspecified quantity", "INSUFFICIENT_DOCUMENTATION"),
]


@pytest.mark.parametrize(("request_text", "code"), _RESTATED)
def test_a_restated_request_adds_no_reason(request_text: str, code: str) -> None:
    rationale = (
        "The guidelines recommend this treatment for specific indications. "
        "There is no documentation of objective functional improvement. "
        f"Therefore, the request for {request_text} is not medically necessary."
    )
    codes, _ = decide_reasons(rationale, UPHELD, [], False, (request_text,))
    assert codes == ["NO_FUNCTIONAL_IMPROVEMENT"]
    # the same words outside the verdict still state their reason
    stated = f"The reviewer notes: {request_text} is not medically necessary, as before. "
    assert code in decide_reasons(stated + rationale, UPHELD, [], False)[0]


def test_a_reason_stated_beside_a_restated_request_still_counts() -> None:
    rationale = "The request for Home exercise kit is not medically necessary; a home exercise program will do."
    codes, _ = decide_reasons(rationale, UPHELD, [], False, ("Home exercise kit",))
    assert codes == ["TRANSITION_TO_HOME_PROGRAM"]


# ------------------------------------------------ opioid criteria are not implied for every opioid


def test_an_opioid_denied_with_its_surgery_is_not_judged_on_opioid_criteria() -> None:
    rationale = (
        "As the requested surgery is not medically necessary, this associated service is "
        "not medically necessary either. Therefore, the request is not medically necessary."
    )
    codes, _ = decide_reasons(rationale, UPHELD, OPIOID, False)
    assert codes == ["DEPENDS_ON_DENIED_SERVICE"]


def test_an_opioid_duplicating_an_approved_request_is_not_judged_on_opioid_criteria() -> None:
    rationale = "This request duplicates a request that was already approved."
    codes, _ = decide_reasons(rationale, UPHELD, OPIOID, False)
    assert codes == ["ALREADY_AUTHORIZED"]


def test_an_opioid_denied_on_its_merits_still_gets_the_opioid_criteria() -> None:
    rationale = "There is no documentation of objective functional improvement."
    codes, _ = decide_reasons(rationale, UPHELD, OPIOID, False)
    assert codes == ["NO_FUNCTIONAL_IMPROVEMENT", "OPIOID_CRITERIA_NOT_MET"]


# ------------------------------------------------ words hyphenated at a line break


def _joined(first: str, second: str) -> str:
    lines = (
        "CLINICAL CASE SUMMARY",
        f"The patient was seen again this month for ongoing pain and {first}",
        f"{second} and the records were reviewed by the reviewer in full today.",
    )
    doc = SourceDocument("x.txt", "text", ("\n".join(lines),))
    return normalize(doc, REFLOW_RULES, known_words(), description_words()).text


@pytest.mark.parametrize(
    ("first", "second", "word"),
    [
        ("consis-", "ted of physical therapy", "consisted"),
        ("thera-", "py sessions", "therapy"),
        ("con-", "junction with exercise", "conjunction"),
        ("tender-", "ness of the spine", "tenderness"),
        ("occur-", "red at work", "occurred"),
        ("non-", "opioid medication", "non-opioid"),
        ("follow-", "up visits", "follow-up"),
        ("x-", "ray findings", "x-ray"),
        ("Cycloben-", "zaprine tablets", "Cyclobenzaprine"),
    ],
)
def test_a_word_hyphenated_at_a_line_break(first: str, second: str, word: str) -> None:
    assert f" {word} " in _joined(first, second)


def test_prior_treatment_that_consis_ted_of_is_read(tmp_path: Path) -> None:
    name, source, want = next(
        letter
        for letter in _letters(60)
        if "Prior treatment has consisted of" in letter[1] and want_prior(letter[2])
    )
    text = render_text(parse_source(source, name))
    broken = re.sub(r"has\s+consisted\s+of", "has consis-\nted of", text, count=1)
    assert broken != text
    path = tmp_path / f"{name}.txt"
    path.write_text(broken, encoding="utf-8")
    prior = " ".join(p.text for p in extract_letter(path).prior_treatments).lower()
    for keyword in want["prior_treatments"]["keywords"]:
        assert any(alt.lower() in prior for alt in keyword.split("|")), keyword


def want_prior(want: dict[str, Any]) -> bool:
    return bool(want["prior_treatments"]["keywords"])
