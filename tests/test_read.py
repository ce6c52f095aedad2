"""Reading letters: normalization cases, the offset map, and unreadable input."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from imrkg.errors import LetterError
from imrkg.loader.layout import REFLOW_RULES
from imrkg.loader.read import SourceDocument, normalize, read_document
from tests.conftest import CASES

NORMALIZE_CASES = sorted(p.name for p in (CASES / "normalize").iterdir())


@pytest.mark.parametrize("case", NORMALIZE_CASES)
def test_normalization_case(case: str) -> None:
    """Each folder holds a source text and the normalized text it must give."""
    folder = CASES / "normalize" / case
    text = normalize(read_document(folder / "source.txt"), REFLOW_RULES).text
    assert text == (folder / "normalized.txt").read_text(encoding="utf-8")


def test_every_character_maps_back_to_its_source() -> None:
    source = "Zeile\u00a0eins \u201cquoted\u201d \ufb01nal\n\nnext\fpage two text"
    doc = SourceDocument("x.txt", "text", tuple(source.split("\f")))
    nt = normalize(doc)
    assert nt.text == 'Zeile eins "quoted" final\nnext page two text'
    for start in range(len(nt.text)):
        span = nt.span(start, start + 1)
        original = doc.text[span.source_start : span.source_end]
        if nt.text[start].isalnum():
            assert nt.text[start] in original or original == "\ufb01", (start, original)
    page_two = nt.text.index("page")
    assert nt.span(page_two, page_two + 4).page == 2
    assert doc.text[nt.span(page_two, page_two + 4).source_start :].startswith("page two")


def test_ligature_expands_to_two_characters_of_one_source_character() -> None:
    doc = SourceDocument("x.txt", "text", ("\ufb01ne",))
    nt = normalize(doc)
    assert nt.text == "fine"
    assert nt.span(0, 2).source_start == 0 and nt.span(0, 2).source_end == 1


def test_cp1252_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_bytes("The worker\u2019s pain \u2013 rated 7/10.".encode("cp1252"))
    assert normalize(read_document(path)).text == "The worker's pain - rated 7/10."


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"\x00\x01\x02binary\x00" * 10, "binary file"),
    ],
)
def test_unreadable_files_name_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(LetterError) as caught:
        read_document(path)
    assert str(caught.value).startswith(f"{path}: {reason}")
    assert "\n" not in str(caught.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(LetterError, match="no such file"):
        read_document(tmp_path / "absent.pdf")
    with pytest.raises(LetterError, match="is a directory"):
        read_document(tmp_path)


def test_a_pdf_name_without_pdf_content(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_text("HOW THE IMR FINAL DETERMINATION WAS MADE", encoding="utf-8")
    with pytest.raises(LetterError, match="not a PDF"):
        read_document(path)


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = tmp_path / "whole.pdf"
    pdf = canvas.Canvas(str(whole))
    pdf.drawString(72, 720, "HOW THE IMR FINAL DETERMINATION WAS MADE")
    pdf.save()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[:300])
    with pytest.raises(LetterError, match="damaged or truncated PDF"):
        read_document(cut)


def test_image_only_pdf_has_no_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(72, 72, 300, 500, fill=1)
    pdf.save()
    with pytest.raises(LetterError, match="no text layer"):
        read_document(path)


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    pdf = canvas.Canvas(str(path), encrypt="secret")
    pdf.drawString(72, 720, "HOW THE IMR FINAL DETERMINATION WAS MADE")
    pdf.save()
    with pytest.raises(LetterError, match="encrypted PDF"):
        read_document(path)


def test_pdf_pages_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.drawString(72, 720, "first page")
    pdf.showPage()
    pdf.drawString(72, 720, "second page")
    pdf.save()
    doc = read_document(path)
    assert doc.kind == "pdf"
    assert [p.strip() for p in doc.pages] == ["first page", "second page"]
    nt = normalize(doc)
    second = nt.text.index("second")
    assert nt.span(second, second + 6).page == 2
