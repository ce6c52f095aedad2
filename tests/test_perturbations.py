"""Extraction does not depend on how a letter's text was laid out.

Real letters arrive with every line doubled by a blank line, with their header
page stripped, or wrapped at another width with words broken across lines.
Each such variant of a letter must give the same facts as the letter itself.
The variants are made from the bundled samples, and from the real PDFs when
``../shared/corpus`` is present.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from imrkg.loader.extract import build_record
from imrkg.loader.layout import REFLOW_RULES, parse_layout
from imrkg.loader.read import SourceDocument, normalize, read_document
from imrkg.loader.vocab import known_words
from imrkg.record import LetterRecord
from tests.conftest import EXAMPLES, SHARED, requires_shared


def facts(record: LetterRecord) -> dict[str, Any]:
    return {
        "items": [
            (
                i.outcome,
                i.treatment.label if i.treatment else None,
                i.quantity,
                sorted(r.label for r in i.body_regions),
                sorted({c.guideline for c in i.ca_guidelines}),
                sorted({c.guideline for c in i.imr_guidelines}),
                sorted(c.pages or "" for c in i.imr_guidelines),
                sorted(i.reasons),
            )
            for i in record.items
        ],
        "worker": (record.worker.age, record.worker.sex),
        "diagnoses": [d.text for d in record.diagnoses],
        "prior": [p.text for p in record.prior_treatments],
        "reviewer": (record.reviewer.licensure, record.reviewer.specialties),
    }


def _record(name: str, pages: list[str]) -> LetterRecord:
    nt = normalize(SourceDocument(name, "text", tuple(pages)), REFLOW_RULES, known_words())
    return build_record(nt, parse_layout(nt))


def doubled(pages: tuple[str, ...]) -> list[str]:
    """Every line followed by an empty line, as some text extractors write."""
    return ["\n".join(f"{line} \n" for line in page.split("\n")) for page in pages]


def stripped(pages: tuple[str, ...]) -> list[str]:
    """The header page cut off: the text starts at the first section."""
    text = "\f".join(pages)
    start = text.find("HOW THE IMR FINAL DETERMINATION WAS MADE")
    return text[max(start, 0) :].split("\f")


def rewrapped(path: Path, width: int, seed: int) -> list[str]:
    """The letter's blocks wrapped at another width, some long words broken by a hyphen."""
    rng = random.Random(seed)
    lines: list[str] = []
    for block in normalize(read_document(path), REFLOW_RULES, known_words()).text.split("\n"):
        wrapped = textwrap.wrap(block, width, break_long_words=False, break_on_hyphens=False) or [
            ""
        ]
        carry = ""
        for index, line in enumerate(wrapped):
            words = (f"{carry} {line}" if carry else line).split(" ")
            carry = ""
            last = words[-1]
            if (
                index + 1 < len(wrapped)
                and len(last) >= 9
                and last.isalpha()
                and last.islower()
                and rng.random() < 0.3
            ):
                cut = rng.randint(4, len(last) - 4)
                words[-1], carry = last[:cut] + "-", last[cut:]
            lines.append(" ".join(words) + " ")
    return ["\n".join(lines)]


def _check(path: Path) -> None:
    document = read_document(path)
    want = facts(_record(str(path), list(document.pages)))
    assert facts(_record(f"{path}:doubled", doubled(document.pages))) == want
    assert facts(_record(f"{path}:rewrapped", rewrapped(path, 84, seed=len(path.name)))) == want
    if "Case Number" in document.text:
        header_free = facts(_record(f"{path}:stripped", stripped(document.pages)))
        assert header_free == want


@pytest.mark.parametrize("path", sorted((EXAMPLES / "letters").glob("*.pdf")), ids=lambda p: p.stem)
def test_sample_letter_variants(path: Path) -> None:
    _check(path)


@requires_shared
def test_real_letter_variants() -> None:
    for path in sorted((SHARED / "corpus" / "pdfs").glob("*.pdf")):
        _check(path)
