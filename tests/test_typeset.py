"""The sample letters are built from their sources: the committed files are what the sources give."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrkg.typeset import LetterSource, render_pdf, render_text
from tests.conftest import EXAMPLES

SOURCES = sorted((EXAMPLES / "sources").glob("*.letter"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_letters_match_their_sources(source: Path, tmp_path: Path) -> None:
    letter = LetterSource.from_path(source)
    text = (EXAMPLES / "letters" / f"{source.stem}.txt").read_text(encoding="utf-8")
    assert render_text(letter) == text
    pdf = tmp_path / f"{source.stem}.pdf"
    render_pdf(letter, pdf)
    assert pdf.read_bytes() == (EXAMPLES / "letters" / f"{source.stem}.pdf").read_bytes()


def test_every_sample_has_a_source_and_an_expectation() -> None:
    stems = {p.stem for p in SOURCES}
    assert stems == {p.stem for p in (EXAMPLES / "expected").glob("*.json")}
    assert len(stems) >= 8
