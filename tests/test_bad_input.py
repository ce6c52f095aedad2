"""Bad input, tried: a corpus of broken, hostile and odd files, made by the test itself.

Every file of the corpus is either a letter that must come out right (odd
typography, another encoding, a PDF under a .txt name, a locked-but-readable
PDF, the same letter twice, an item without a readable quantity) or a file
that must be refused with one line naming it and the reason (empty, random
bytes, not a letter, truncated, encrypted, image-only, 50 MB, a text under a
.pdf name, no decided items). ``imrkg extract`` and ``imrkg build`` must print
every good letter, name every bad file once, exit 1, never show a traceback,
and count every input in their summary.

No binary fixture is committed: PDFs are drawn with reportlab here, the big
files are sparse, the random bytes are seeded.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from imrkg.errors import LetterError
from imrkg.loader.extract import extract_letter
from imrkg.loader.read import MAX_FILE_BYTES, check_file, read_document
from tests.conftest import EXAMPLES

FIFTY_MB = 50 * 1024 * 1024


def _sample(name: str, suffix: str = "txt") -> Path:
    return EXAMPLES / "letters" / f"{name}.{suffix}"


def _text(name: str) -> str:
    return _sample(name).read_text(encoding="utf-8")


def _recased(name: str, old: str, new: str) -> str:
    """A sample letter's text under another case number, so that it is a letter of its own."""
    text = _text(name)
    assert old in text
    return text.replace(old, new)


def _typographic(text: str) -> str:
    """The letter as a word processor would write it: NBSP after labels' colons, ligatures,
    smart quotes and apostrophes, en dashes between dates."""
    text = text.replace(": ", ":\u00a0").replace("fi", "\ufb01").replace("fl", "\ufb02")
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    text = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    return text.replace(" to ", " \u2013 ", 1)


def _cp1252(text: str) -> bytes:
    """Windows-1252 bytes, with the characters that make them invalid UTF-8 (smart quotes, NBSP)."""
    text = text.replace(": ", ":\u00a0")
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    return data


def _draw_text_pdf(path: Path, text: str, encrypt: str | StandardEncryption | None = None) -> None:
    """A plain PDF with ``text`` drawn line by line (a text layer, no layout)."""
    pdf = canvas.Canvas(str(path), encrypt=encrypt, invariant=1)
    y = 750.0
    for line in text.splitlines():
        if y < 60:
            pdf.showPage()
            y = 750.0
        pdf.setFont("Helvetica", 8)
        pdf.drawString(40, y, line)
        y -= 11
    pdf.save()


def _scanned_pdf(path: Path, text: str) -> None:
    """An image-only PDF: the letter's first lines drawn into a picture, no text layer."""
    image = Image.new("L", (850, 1100), color=255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(text.splitlines()[:60]):
        draw.text((40, 40 + 17 * index), line, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, width=612, height=792)
    pdf.save()


def _sparse(path: Path, head: bytes, size: int) -> None:
    """A file of ``size`` bytes starting with ``head``, made without writing them all."""
    with path.open("wb") as out:
        out.write(head)
        out.truncate(size)


@dataclass
class Corpus:
    folder: Path
    extra: list[Path]  # named on the command line beside the folder
    good: dict[str, str | None] = field(default_factory=dict)  # file -> case number
    bad: dict[str, str] = field(default_factory=dict)  # file -> the reason its line must give
    # letters that extract but whose graph violates a shape: build quarantines them
    quarantined: dict[str, str] = field(default_factory=dict)  # file -> case number

    @property
    def inputs(self) -> int:
        return len(self.good) + len(self.bad) + len(self.quarantined)

    def args(self) -> list[str]:
        return [str(self.folder), *(str(p) for p in self.extra)]


def make_corpus(root: Path) -> Corpus:
    folder = root / "letters"
    folder.mkdir()
    corpus = Corpus(folder, [root / "letter.docx", root / "absent.txt"])

    def good(name: str, case: str | None, data: bytes | str) -> None:
        target = folder / name
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
        corpus.good[name] = case

    def bad(name: str, reason: str, data: bytes | str | None = None) -> Path:
        target = folder / name
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        elif data is not None:
            target.write_bytes(data)
        corpus.bad[name] = reason
        return target

    carpal = _text("maximus-carpal-tunnel")
    # good letters, some in odd clothes
    good("letter.txt", "CM14-0061937", carpal)
    good("same-letter-again.txt", "CM14-0061937", carpal)  # the same letter under two names
    good("letter.pdf", "CM13-0028154", _sample("maximus-cervical-esi", "pdf").read_bytes())
    good("pdf-named.txt", "CM17-0034518", _sample("header-knee-postop", "pdf").read_bytes())
    good(
        "typography.txt",
        "CM17-0029641",
        _typographic(_text("header-lumbar-partial")),
    )
    good(
        "windows-1252.txt",
        "CM16-0251873",
        _cp1252(_text("header-multimodality")),
    )
    good(
        "utf-16.txt",
        "CM14-0061901",
        _recased("maximus-carpal-tunnel", "CM14-0061937", "CM14-0061901").encode("utf-16"),
    )
    good(
        "several-sessions.txt",
        "CM14-0061902",
        _recased("maximus-carpal-tunnel", "CM14-0061937", "CM14-0061902").replace(
            "2. Post-operative occupational therapy for the right wrist, 3 times a week for 4 weeks: Upheld",
            "2. Several sessions of post-operative occupational therapy for the right wrist: Upheld",
        ),
    )
    locked = folder / "print-locked.pdf"  # an owner password only: readable, as DWC PDFs may be
    _draw_text_pdf(
        locked,
        _recased("maximus-carpal-tunnel", "CM14-0061937", "CM14-0061903"),
        StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0),
    )
    corpus.good[locked.name] = "CM14-0061903"

    # extracts, but its decision date comes before its assignment: build quarantines it
    dates = re.sub(
        r"Decision Date: \d\d/\d\d/\d{4}",
        "Decision Date: 01/01/2017",
        _recased("header-lumbar-partial", "CM17-0029641", "CM17-0029699"),
    )
    (folder / "dates-out-of-order.txt").write_text(dates, encoding="utf-8")
    corpus.quarantined["dates-out-of-order.txt"] = "CM17-0029699"

    # bad files
    noise = random.Random(20240501)
    bad("empty.txt", "empty file", b"")
    bad("empty.pdf", "empty file", b" \n")
    bad("random.txt", "binary file", noise.randbytes(4096))
    bad("random.pdf", "not a PDF", noise.randbytes(4096))
    _draw_text_pdf(
        bad("invoice.pdf", "not an IMR determination letter"),
        "INVOICE 2024-117\nAcme Medical Supply\n3 boxes of gauze: $27.00\nTotal due: $27.00\n",
    )
    cut = carpal.index("Because the carpal tunnel release is not")  # item 2's rationale
    bad("truncated-mid-item.txt", "truncated", carpal[: cut + 30])
    bad(
        "truncated.pdf",
        "damaged or truncated PDF",
        _sample("maximus-cervical-esi", "pdf").read_bytes()[:2500],
    )
    _draw_text_pdf(bad("encrypted.pdf", "encrypted PDF"), carpal, encrypt="secret")
    _scanned_pdf(bad("scanned.pdf", "no text layer (image-only PDF; OCR is not supported)"), carpal)
    _sparse(bad("huge.txt", "too large"), carpal.encode(), FIFTY_MB)
    _sparse(bad("huge.pdf", "too large"), b"%PDF-1.4\n", FIFTY_MB)
    bad("text-named.pdf", "not a PDF", carpal)
    bad(
        "no-items.txt",
        "no decided items",
        re.sub(r": (?:Upheld|Overturned)\n", ".\n", carpal),
    )
    (folder / "notes.docx").write_bytes(b"skipped: not a letter suffix")  # a folder holds more
    with zipfile.ZipFile(root / "letter.docx", "w") as docx:
        docx.writestr("word/document.xml", "<w:document/>")
    corpus.bad["letter.docx"] = "binary file"
    corpus.bad["absent.txt"] = "no such file"
    return corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_corpus(tmp_path_factory.mktemp("bad-input"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imrkg", *args], capture_output=True, text=True, timeout=600
    )


def _lines_naming(stderr: str, corpus: Corpus, name: str) -> list[str]:
    path = next((p for p in corpus.extra if p.name == name), corpus.folder / name)
    return [line for line in stderr.splitlines() if f"{path}:" in line]


def _check_errors(stderr: str, corpus: Corpus, failing: dict[str, str]) -> None:
    """Each failing file named on exactly one line, an error line giving its reason; no error
    line for any other file, and no traceback."""
    assert "Traceback" not in stderr
    for name, reason in failing.items():
        lines = _lines_naming(stderr, corpus, name)
        assert len(lines) == 1, (name, lines)
        assert lines[0].startswith("imrkg: error: "), lines[0]
        assert reason in lines[0], (name, reason, lines[0])
    for name in {*corpus.good, *corpus.quarantined} - set(failing):
        lines = _lines_naming(stderr, corpus, name)
        assert not [line for line in lines if line.startswith("imrkg: error:")], (name, lines)
    errors = [line for line in stderr.splitlines() if line.startswith("imrkg: error:")]
    assert len(errors) == len(failing), errors


def test_extract_names_every_bad_file_and_prints_every_good_letter(corpus: Corpus) -> None:
    run = _run("extract", "--no-text", *corpus.args())
    assert run.returncode == 1, run.stderr
    _check_errors(run.stderr, corpus, corpus.bad)
    records = {Path(r["source"]).name: r for r in map(json.loads, run.stdout.splitlines())}
    extractable = {**corpus.good, **corpus.quarantined}  # extract does not validate
    assert set(records) == set(extractable)
    for name, case in extractable.items():
        assert records[name]["case_number"] == case, name
        assert records[name]["items"], name
    summary = re.search(r"imrkg extract: (\d+) letters: (\d+) extracted, (\d+) failed", run.stderr)
    assert summary is not None, run.stderr
    total, extracted, failed = map(int, summary.groups())
    assert extracted + failed == total == corpus.inputs
    assert (extracted, failed) == (len(extractable), len(corpus.bad))


def test_build_loads_every_good_letter_and_accounts_for_every_input(
    corpus: Corpus, tmp_path: Path
) -> None:
    from imrkg.store import KnowledgeStore

    store_path = tmp_path / "store"
    run = _run("build", *corpus.args(), "--store", str(store_path))
    assert run.returncode == 1, run.stderr
    _check_errors(
        run.stderr, corpus, {**corpus.bad, **dict.fromkeys(corpus.quarantined, "quarantined: ")}
    )
    summary = re.search(
        r"imrkg build: (\d+) letters read: (\d+) loaded.*?, (\d+) quarantined, (\d+) failed",
        run.stdout,
    )
    assert summary is not None, run.stdout
    read, loaded, quarantined, failed = map(int, summary.groups())
    assert read == corpus.inputs
    assert loaded + quarantined + failed == read
    assert (loaded, quarantined, failed) == (
        len(corpus.good),
        len(corpus.quarantined),
        len(corpus.bad),
    )
    store = KnowledgeStore(store_path, read_only=True)
    graphs = {iri.rsplit("/", 1)[-1] for iri in store.letter_graphs()}
    # every good letter is in the store, the same letter under two names as one graph
    assert graphs == {case for case in corpus.good.values() if case}
    quarantine = {Path(e["source"]).name: e for e in store.read_quarantine().values()}
    assert set(quarantine) == set(corpus.quarantined)
    assert all(entry["violations"] for entry in quarantine.values())


# ------------------------------------------------- the files one at a time


def test_odd_typography_and_encodings_extract_as_the_plain_letter(corpus: Corpus) -> None:
    for variant, original in [
        ("typography.txt", "header-lumbar-partial"),
        ("windows-1252.txt", "header-multimodality"),
        ("utf-16.txt", "maximus-carpal-tunnel"),
        ("print-locked.pdf", "maximus-carpal-tunnel"),
    ]:
        odd = extract_letter(corpus.folder / variant)
        plain = extract_letter(_sample(original))
        assert odd.case_number == corpus.good[variant]
        assert [(i.request, i.outcome, i.quantity) for i in odd.items] == [
            (i.request, i.outcome, i.quantity) for i in plain.items
        ], variant
        assert odd.dates == plain.dates, variant


def test_an_item_without_a_readable_quantity_has_none(corpus: Corpus) -> None:
    # the corpus' reading rules: "no number is null" -- the letter is fine, the quantity unknown
    record = extract_letter(corpus.folder / "several-sessions.txt")
    item = record.items[1]
    assert item.request.startswith("Several sessions of post-operative occupational therapy")
    assert item.quantity is None
    assert item.treatment is not None and "therapy" in item.treatment.label.lower()


def test_a_big_file_is_refused_before_it_is_read(corpus: Corpus) -> None:
    started = time.perf_counter()
    for name in ("huge.txt", "huge.pdf"):
        with pytest.raises(LetterError, match=r"too large for a letter \(50\.0 MB"):
            read_document(corpus.folder / name)
    assert time.perf_counter() - started < 1.0
    assert MAX_FILE_BYTES < FIFTY_MB


def test_a_text_too_long_for_a_letter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 600_000, encoding="utf-8")  # 3 MB: under the size cap
    with pytest.raises(LetterError, match="too long for a letter"):
        read_document(path)


def test_a_letter_cut_between_sentences_of_its_last_rationale_is_not_taken_for_truncated(
    tmp_path: Path,
) -> None:
    text = _text("maximus-carpal-tunnel")
    cut = text.index("In any event")  # item 2's rationale ends with a whole sentence here
    path = tmp_path / "cut.txt"
    path.write_text(text[:cut], encoding="utf-8")
    assert len(extract_letter(path).items) == 2


@pytest.mark.parametrize(
    ("cut_after", "reason"),
    [
        ("2. Post-operative occupational", "no decided items|truncated"),
        ("3 times a week for 4 weeks: Upheld", "truncated"),
        ("MAXIMUS guideline: Decision based on MTUS Postsurgical", "truncated"),
        ("Because the carpal tunnel release is not", "truncated"),
    ],
)
def test_a_letter_truncated_inside_its_last_item_is_refused(
    tmp_path: Path, cut_after: str, reason: str
) -> None:
    text = _text("maximus-carpal-tunnel")
    path = tmp_path / "cut.txt"
    path.write_text(text[: text.index(cut_after) + len(cut_after)], encoding="utf-8")
    with pytest.raises(LetterError, match=reason) as caught:
        extract_letter(path)
    assert "\n" not in str(caught.value)


def test_a_professional_letter_truncated_in_its_rationales_is_refused(tmp_path: Path) -> None:
    text = _text("professional-lumbar-fusion")
    path = tmp_path / "cut.txt"
    rationales = text.index("RATIONALE FOR WHY THE REQUESTED TREATMENT")
    start = text.index("2. Decision rationale", rationales)
    path.write_text(text[: start + 60], encoding="utf-8")
    with pytest.raises(LetterError, match="truncated"):
        extract_letter(path)


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "letter.txt"
    os.mkfifo(fifo)  # opening it to read would block until something writes to it
    with pytest.raises(LetterError, match="not a regular file"):
        read_document(fifo)
    with pytest.raises(LetterError, match="not a regular file"):
        check_file(fifo)


def test_check_file_needs_only_the_metadata(corpus: Corpus, tmp_path: Path) -> None:
    assert check_file(corpus.folder / "letter.txt") > 0
    with pytest.raises(LetterError, match="too large"):
        check_file(corpus.folder / "huge.pdf")
    with pytest.raises(LetterError, match="is a directory"):
        check_file(tmp_path)
    with pytest.raises(LetterError, match="no such file"):
        check_file(tmp_path / "absent.pdf")
