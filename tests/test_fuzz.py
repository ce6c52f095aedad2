"""Fuzzing the reader and the extractor: mangled letters are read or refused, never crash.

The sample letters are mutated -- lines deleted, duplicated, swapped and
shuffled, the text cut anywhere, random text and letter keywords inserted,
random bytes (control characters, invalid UTF-8) spliced into the file, PDFs
truncated and bytes flipped -- and each mutant goes through
:func:`~imrkg.loader.extract.extract_letter` and the mapping to RDF. Either a
record comes out or an :class:`~imrkg.errors.ImrKgError` with a one-line
message; any other exception is a bug. The runs are derandomized (the same
cases every time) and modest; ``scripts/fuzz.py`` is the long run, and
``IMRKG_FUZZ_EXAMPLES=N`` runs N fresh random cases per property here.

Every bug the fuzzing found has a regression test below, named after it.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from imrkg.errors import ImrKgError
from imrkg.graph import letter_graph
from imrkg.loader.extract import build_record, extract_letter
from imrkg.loader.layout import REFLOW_RULES, parse_layout
from imrkg.loader.read import normalize, read_document
from imrkg.loader.vocab import known_words
from imrkg.record import record_to_json
from tests.conftest import EXAMPLES, SAMPLE_NAMES

TEXTS = {
    name: (EXAMPLES / "letters" / f"{name}.txt").read_text(encoding="utf-8")
    for name in SAMPLE_NAMES
}
PDFS = {name: (EXAMPLES / "letters" / f"{name}.pdf").read_bytes() for name in SAMPLE_NAMES}


def _plain_pdf(text: str) -> bytes:
    """The letter drawn line by line into an uncompressed PDF: flipped bytes land in the
    text operators themselves, not in a compressed stream that then fails as a whole."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pageCompression=0, invariant=1)
    for start in range(0, len(text.splitlines()), 64):
        for row, line in enumerate(text.splitlines()[start : start + 64]):
            pdf.setFont("Helvetica", 8)
            pdf.drawString(40, 760 - 11 * row, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


PLAIN_PDFS = {name: _plain_pdf(TEXTS[name]) for name in SAMPLE_NAMES}

# Words that steer the mutants into the parser's corners: titles, labels, outcomes, numbers.
KEYWORDS = [
    "HOW THE IMR FINAL DETERMINATION WAS MADE",
    "IMR DECISION(S) AND RATIONALE(S)",
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "CLINICAL CASE SUMMARY",
    "DOCUMENTS REVIEWED",
    "ISSUE AT DISPUTE",
    "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY",
    ": Upheld",
    ": Overturned",
    "1. ",
    "2. ",
    "Decision rationale:",
    "Claims Administrator guideline: Decision based on MTUS",
    "MAXIMUS guideline: Decision based on Non-MTUS Citation ODG",
    "Section(s):",
    "Page(s): 60-",
    "was the original request.",
    "The remaining IMR eligible portion of the request is",
    "IMR Case Number:",
    "Date of Injury: 99/99/9999",
    "#",
    "x 0",
    "#999999999999999999999999",
    "times per week for 0 weeks",
    "2-1 times a week for 6-",
    "(",
    ")",
    "-",
    "\f",
    "\r",
    "\x00",
    "\ufffe",
    "\u00ad",
    "\u00a0",
    "\ufb01",
    "Page 1 of 2",
    "a 0-year-old female",
    "rated 11/10",
]

# IMRKG_FUZZ_EXAMPLES=5000 runs that many cases per property, on fresh random choices.
_EXAMPLES = os.environ.get("IMRKG_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 120,
    deadline=None,
    database=None,
    derandomize=_EXAMPLES is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def extracts_or_refuses(path: Path) -> None:
    """The property: a record (that maps to RDF) or a one-line ImrKgError, nothing else."""
    try:
        record = extract_letter(path)
    except ImrKgError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: "), message
        assert "\n" not in message
        _build_anyway(path)
        return
    assert record.items
    json.dumps(record_to_json(record), ensure_ascii=False).encode("utf-8")  # what extract prints
    letter_graph(record)


def _build_anyway(path: Path) -> None:
    """Build and map the record of a letter refused only as incomplete (truncated), so
    that the record builder meets every mutant the layout parser accepts."""
    try:
        nt = normalize(read_document(path), REFLOW_RULES, known_words())
        layout = parse_layout(nt)
    except ImrKgError:
        return
    letter_graph(build_record(nt, layout))


# Lines worth aiming at: numbered entries, outcome headings, capital titles, labelled fields.
_MARKED = re.compile(r"^\s*\d{1,2}\.|:\s*(?:Upheld|Overturned)|^[^a-z]{8,}$|^[^:]{1,60}:", re.I)
_PARTS = re.compile(r"^(\s*(?:\d{1,2}\.\s*)?)(.*?)(:\s*\S*\s*)$")
OPS = ["delete", "duplicate", "swap", "shuffle", "cut", "insert", "splice", "erase", "gut"]


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A sample letter with its lines deleted, duplicated, swapped, shuffled, cut, added to,
    or with words taken out of them; half the time aimed at a heading, title or label."""
    lines = TEXTS[draw(st.sampled_from(SAMPLE_NAMES))].split("\n")
    for op in draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=6)):
        if not lines:
            break
        marked = [k for k, line in enumerate(lines) if _MARKED.search(line)]
        if draw(st.booleans()) and marked:
            i = draw(st.sampled_from(marked))
        else:
            i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i : i + draw(st.integers(1, 8))]
        elif op == "duplicate":
            lines[i:i] = lines[i : i + draw(st.integers(1, 8))]
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "shuffle":
            j = draw(st.integers(i, min(len(lines), i + 30)))
            lines[i:j] = draw(st.permutations(lines[i:j]))
        elif op == "cut":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
        elif op == "insert":
            lines.insert(i, draw(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=60))))
        elif op == "erase":
            start = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:start] + lines[i][start + draw(st.integers(1, 40)) :]
        elif op == "gut":  # "2. Spinal cord stimulator trial: Upheld" -> "2. <...>: Upheld"
            parts = _PARTS.match(lines[i])
            if parts:
                middle = draw(
                    st.one_of(st.just(""), st.sampled_from(KEYWORDS), st.text(max_size=20))
                )
                lines[i] = parts.group(1) + middle + parts.group(3)
        else:  # splice a keyword or random text inside a line
            pos = draw(st.integers(0, len(lines[i])))
            piece = draw(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=20)))
            lines[i] = lines[i][:pos] + piece + lines[i][pos:]
    return "\n".join(lines)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """A sample letter's UTF-8 bytes with random bytes (controls, invalid UTF-8) spliced in."""
    data = bytearray(TEXTS[draw(st.sampled_from(SAMPLE_NAMES))].encode("utf-8"))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data)))
        data[pos:pos] = draw(
            st.one_of(
                st.binary(min_size=1, max_size=16),
                st.sampled_from([b"\xff", b"\xc3", b"\xe2\x80", b"\x00", b"\x1b[31m", b"\r"]),
            )
        )
    return bytes(data)


@st.composite
def mutated_pdf(draw: st.DrawFn) -> bytes:
    """A sample PDF truncated, with bytes flipped, or with a stretch of it repeated."""
    name = draw(st.sampled_from(SAMPLE_NAMES))
    data = bytearray((PLAIN_PDFS if draw(st.booleans()) else PDFS)[name])
    op = draw(st.sampled_from(["truncate", "flip", "repeat"]))
    if op == "truncate":
        del data[draw(st.integers(0, len(data))) :]
    elif op == "flip":
        for _ in range(draw(st.integers(1, 20))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] ^= draw(st.integers(1, 255))
    else:
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 2000)))
        data[end:end] = data[start:end]
    return bytes(data)


@FUZZ
@given(text=mutated_text())
def test_mutated_letter_text(scratch: Path, text: str) -> None:
    path = scratch / "mutant.txt"
    path.write_text(text, encoding="utf-8")
    extracts_or_refuses(path)


@FUZZ
@given(data=mutated_bytes())
def test_random_bytes_spliced_into_a_letter_file(scratch: Path, data: bytes) -> None:
    path = scratch / "bytes.txt"
    path.write_bytes(data)
    extracts_or_refuses(path)


@FUZZ
@given(data=mutated_pdf())
def test_mangled_pdf(scratch: Path, data: bytes) -> None:
    path = scratch / "mutant.pdf"
    path.write_bytes(data)
    extracts_or_refuses(path)


@settings(FUZZ, max_examples=60)
@given(data=st.binary(max_size=2000), pdf=st.booleans())
def test_pure_noise(scratch: Path, data: bytes, pdf: bool) -> None:
    path = scratch / ("noise.pdf" if pdf else "noise.txt")
    path.write_bytes((b"%PDF-1.4\n" if pdf else b"") + data)
    extracts_or_refuses(path)


# ------------------------------------------------------------ regressions


def test_professional_issue_without_a_request_is_skipped(tmp_path: Path) -> None:
    # Bug found by scripts/fuzz.py (its first 10,000-case runs): in a MEDICAL PROFESSIONAL REVIEW
    # letter an ISSUE AT DISPUTE entry with nothing before its outcome ("2. : Upheld") raised
    # ValueError("empty heading") out of layout._professional_items; the other layouts
    # skipped such a heading. Now every layout skips it and keeps the other items.
    text = TEXTS["professional-lumbar-fusion"].replace(
        "2. Spinal cord stimulator trial: Upheld", "2. : Upheld"
    )
    path = tmp_path / "letter.txt"
    path.write_text(text, encoding="utf-8")
    record = extract_letter(path)
    assert [item.number for item in record.items] == [1, 3, 4]
    assert record.items[1].rationale is not None


def test_the_shrunk_fuzz_case_of_that_bug_is_refused_cleanly(tmp_path: Path) -> None:
    # The minimal mutant scripts/fuzz.py saved for it: every issue gutted, no rationale.
    path = tmp_path / "minimal.txt"
    path.write_text(
        "MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE\n1. d\n2. d\n3. O\n4. :Upheld",
        encoding="utf-8",
    )
    with pytest.raises(ImrKgError, match="no decided items"):
        extract_letter(path)
