"""Typeset the bundled sample IMR letters to PDF and to "as-extracted" text.

The project ships its own fictional determination letters (``examples/``) so
that tests never depend on the public corpus. Each letter is written once, as
a small source file, and rendered twice: to a PDF laid out like a published
letter (``render_pdf``) and to the plain text a PDF-to-text tool would emit
for it (``render_text``), artefacts included.

Source format (``examples/sources/NAME.letter``)
------------------------------------------------
A source file is a few option lines, a line holding only ``---``, then the
letter as blocks separated by blank lines::

    # comment lines are allowed among the options
    running_header: IMR Case Number: CM15-0123456
    double_lines: yes
    ---
    HOW THE IMR FINAL DETERMINATION WAS MADE

    MAXIMUS Federal Services sent the complete case file to an expert
    reviewer. ...

    | The Expert Reviewer has the following credentials:
    | State(s) of Licensure: California

Options (all optional; booleans are ``yes``/``no``):

``running_header``
    Text drawn at the top of every PDF page.
``page_numbers``
    ``yes`` (default) draws a "Page N of M" footer on every PDF page.
``title``
    The PDF's document title (metadata only).
``width``
    Text column width of ``render_text`` (default 96).
``double_lines``
    ``render_text`` follows every line with an empty line and marks a
    paragraph break with a line holding a single space.
``break_words``
    ``render_text`` breaks a word that does not fit across the line end with a
    hyphen ("electro-" / "acupuncture") instead of moving it down whole.
``header``
    ``no`` drops every block before the "HOW THE IMR FINAL DETERMINATION WAS
    MADE" title, in both renderings: the letter is "headerless".
``label_chars``
    Width in characters of a table's label column (default 16); a longer
    label wraps inside its cell, as "Application Received:" does in the
    published letters.

Blocks:

* A paragraph is any block whose lines do not start with ``| ``; its lines
  are joined and reflowed. A paragraph written entirely in capitals is a
  section title (bold and centred in the PDF).
* A block whose lines all start with ``| `` is verbatim: each line is kept as
  written (the ``| `` prefix is removed; a line holding only ``|`` is an empty
  line). A line written entirely in capitals is set bold in the PDF.
* A verbatim block in which some line holds a gap of two or more spaces is a
  header table: each line is a row of one or two cells separated by the gap,
  and each cell is ``Label: value`` (split at the first ``": "``). The PDF
  draws it as a ruled four-column table (label, value, label, value); the
  text shows it the way the PDF's text layer reads back, so a label longer
  than ``label_chars`` wraps there too.
* Inside any block, ``**text**`` is bold in the PDF and plain in the text.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

__all__ = [
    "FIRST_SECTION",
    "Block",
    "LetterSource",
    "Options",
    "main",
    "parse_source",
    "render_pdf",
    "render_text",
]

#: The section every letter layout has; a headerless letter starts here.
FIRST_SECTION = "HOW THE IMR FINAL DETERMINATION WAS MADE"

_SEPARATOR = "---"
_VERBATIM = "| "
_CELL_GAP = re.compile(r" {2,}")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_VOWELS = frozenset("aeiouy")
_HYPHENATION_ZONE = 5

_FONT = "Helvetica"
_FONT_BOLD = "Helvetica-Bold"
_SIZE = 10.0
_LEADING = 12.5
_MARGIN = 0.9 * inch
_FURNITURE_SIZE = 8.0

BlockKind = Literal["paragraph", "title", "lines", "table"]


@dataclass(frozen=True)
class Options:
    """Rendering options read from the head of a source file."""

    running_header: str | None = None
    page_numbers: bool = True
    title: str | None = None
    width: int = 96
    double_lines: bool = False
    break_words: bool = False
    header: bool = True
    label_chars: int = 16

    @classmethod
    def from_pairs(cls, pairs: dict[str, str]) -> Options:
        """Build options from ``key: value`` pairs, rejecting unknown keys."""
        unknown = set(pairs) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        default = cls()

        def flag(key: str, fallback: bool) -> bool:
            return _parse_bool(key, pairs[key]) if key in pairs else fallback

        def number(key: str, fallback: int) -> int:
            return int(pairs[key]) if key in pairs else fallback

        return cls(
            running_header=pairs.get("running_header") or None,
            page_numbers=flag("page_numbers", default.page_numbers),
            title=pairs.get("title") or None,
            width=number("width", default.width),
            double_lines=flag("double_lines", default.double_lines),
            break_words=flag("break_words", default.break_words),
            header=flag("header", default.header),
            label_chars=number("label_chars", default.label_chars),
        )


@dataclass(frozen=True)
class Block:
    """One block of a letter: a paragraph, a title, verbatim lines or a table."""

    kind: BlockKind
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The block's text with its lines joined by single spaces."""
        return " ".join(" ".join(line.split()) for line in self.lines)


@dataclass(frozen=True)
class LetterSource:
    """A parsed ``.letter`` source: its options and its blocks, in order."""

    options: Options = field(default_factory=Options)
    blocks: tuple[Block, ...] = ()
    name: str = "letter"

    @classmethod
    def from_path(cls, path: Path) -> LetterSource:
        """Read and parse a source file; the letter is named after its stem."""
        return parse_source(path.read_text(encoding="utf-8"), name=path.stem)

    def visible_blocks(self) -> tuple[Block, ...]:
        """The blocks both renderings show, honouring the ``header`` option."""
        if self.options.header:
            return self.blocks
        for index, block in enumerate(self.blocks):
            if block.kind == "title" and block.text == FIRST_SECTION:
                return self.blocks[index:]
        raise ValueError(f"{self.name}: header: no, but no {FIRST_SECTION!r} title")


def _parse_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"yes", "true", "1", "on"}:
        return True
    if lowered in {"no", "false", "0", "off"}:
        return False
    raise ValueError(f"option {key!r}: expected yes or no, got {value!r}")


def _is_caps(text: str) -> bool:
    letters = [c for c in _BOLD.sub(r"\1", text) if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _classify(lines: list[str]) -> Block:
    if all(line.startswith(_VERBATIM) or line == "|" for line in lines):
        body = tuple(line[len(_VERBATIM) :].rstrip() for line in lines)
        if not any(_CELL_GAP.search(b.strip()) for b in body):
            return Block("lines", body)
        for row in body:
            if len(_CELL_GAP.split(row.strip())) > 2:
                raise ValueError(f"table row with more than two cells: {row!r}")
        return Block("table", body)
    if any(line.startswith(_VERBATIM) for line in lines):
        raise ValueError(f"block mixes verbatim and paragraph lines: {lines[0]!r}")
    paragraph = Block("paragraph", tuple(line.strip() for line in lines))
    return Block("title", paragraph.lines) if _is_caps(paragraph.text) else paragraph


def parse_source(text: str, name: str = "letter") -> LetterSource:
    """Parse the text of a ``.letter`` source file (format in the module docstring)."""
    head, sep, body = text.partition(f"\n{_SEPARATOR}\n")
    if not sep:
        raise ValueError(f"{name}: no {_SEPARATOR!r} line between options and letter")
    pairs: dict[str, str] = {}
    for raw in head.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"{name}: option line without ':': {raw!r}")
        pairs[key.strip()] = value.strip()
    blocks: list[Block] = []
    current: list[str] = []
    for raw in [*body.splitlines(), ""]:
        if raw.strip():
            current.append(raw.rstrip())
        elif current:
            blocks.append(_classify(current))
            current = []
    return LetterSource(Options.from_pairs(pairs), tuple(blocks), name)


# --------------------------------------------------------------------------
# Plain text


def _plain(text: str) -> str:
    return _BOLD.sub(r"\1", text)


def _split_word(word: str, room: int) -> tuple[str, str] | None:
    """Split ``word`` so its head (hyphen included) fits in ``room`` columns."""
    # Prefer an existing hyphen, as in "electro-acupuncture": that is where
    # extraction tools most often break a word in the real letters.
    for pos in range(min(room, len(word) - 1), 1, -1):
        if word[pos - 1] == "-" and word[pos:].strip("-"):
            return word[:pos], word[pos:]
    # Otherwise only break plain words, never numbers, dates or case numbers,
    # and only between two consonants that stand between vowels ("ten-der",
    # "special-ties"): a crude rule, but it never yields "Guideli-nes".
    if not (word.isalpha() and len(word) >= 8):
        return None
    low = word.lower()
    for cut in range(min(room - 1, len(word) - 3), 2, -1):
        if (
            low[cut - 2] in _VOWELS
            and low[cut - 1] not in _VOWELS
            and low[cut] not in _VOWELS
            and low[cut + 1] in _VOWELS
        ):
            return word[:cut] + "-", word[cut:]
    return None


def _wrap(text: str, width: int, break_words: bool) -> list[str]:
    """Greedy wrap; every line but the last keeps a trailing space unless a
    word was broken across it, as PDF text layers do."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while word:
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= width:
                current, word = candidate, ""
                continue
            room = width - len(current) - 1
            # Like a word processor's hyphenation zone: only a gap this wide
            # at the line end is worth breaking a word for.
            if break_words and current and room >= _HYPHENATION_ZONE:
                split = _split_word(word, room)
                if split:
                    lines.append(f"{current} {split[0]}")
                    current, word = "", split[1]
                    continue
            if current:
                lines.append(current + " ")
                current = ""
                continue
            # A single word wider than the column: cut it hard.
            lines.append(word[: width - 1] + "-")
            word = word[width - 1 :]
    if current:
        lines.append(current)
    return lines


def _split_cell(cell: str) -> tuple[str, str]:
    label, sep, value = cell.partition(": ")
    if sep:
        return label + ":", value.strip()
    if cell.endswith(":"):
        return cell, ""
    return "", cell


def _table_text(row: str, label_chars: int) -> list[str]:
    """A table row as a PDF text layer reads it back.

    Text tools emit a cell's fragments in drawing order and start a new line
    whenever the baseline changes, so a label that wraps in its cell pushes
    the next cell's value onto a line of its own ("Application" /
    "Received:" / "12/23/2016").
    """
    fragments: list[tuple[int, str]] = []
    for cell in _CELL_GAP.split(row.strip()):
        label, value = _split_cell(_plain(cell))
        if label:
            for depth, part in enumerate(_wrap(label, label_chars, False)):
                fragments.append((depth, part.rstrip()))
        if value:
            fragments.append((0, value))
    lines: list[str] = []
    previous = -1
    for depth, part in fragments:
        if lines and depth == previous:
            lines[-1] += " " + part
        else:
            lines.append(part)
        previous = depth
    return [line + " " for line in lines[:-1]] + lines[-1:]


def _block_text(block: Block, opts: Options) -> list[str]:
    if block.kind in ("paragraph", "title"):
        return _wrap(_plain(block.text), opts.width, opts.break_words)
    if block.kind == "lines":
        return [_plain(line) for line in block.lines]
    return [out for row in block.lines for out in _table_text(row, opts.label_chars)]


def render_text(
    source: LetterSource,
    *,
    width: int | None = None,
    double_lines: bool | None = None,
    break_words: bool | None = None,
    header: bool | None = None,
) -> str:
    """Render the letter as a PDF-to-text tool would emit it.

    Keyword arguments override the source's options of the same name.
    """
    base = source.options
    opts = replace(
        base,
        width=base.width if width is None else width,
        double_lines=base.double_lines if double_lines is None else double_lines,
        break_words=base.break_words if break_words is None else break_words,
        header=base.header if header is None else header,
    )
    shown = replace(source, options=opts).visible_blocks()
    out: list[str] = []
    for index, block in enumerate(shown):
        lines = _block_text(block, opts)
        if opts.double_lines:
            # The seed texts put no " " spacer line between a section title
            # and its first paragraph, only between paragraphs.
            if index and shown[index - 1].kind != "title":
                out += [" ", ""]
            for line in lines:
                out += [line, ""]
        else:
            if index:
                out.append("")
            out += lines
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# PDF


def _markup(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", escape(text))


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    title: ParagraphStyle
    line: ParagraphStyle
    cell: ParagraphStyle
    cell_label: ParagraphStyle


def _styles() -> _Styles:
    body = ParagraphStyle(
        "body", fontName=_FONT, fontSize=_SIZE, leading=_LEADING, spaceAfter=_LEADING * 0.6
    )
    return _Styles(
        body=body,
        title=ParagraphStyle(
            "title",
            parent=body,
            fontName=_FONT_BOLD,
            alignment=TA_CENTER,
            spaceBefore=_LEADING * 0.4,
            keepWithNext=1,
        ),
        line=ParagraphStyle("line", parent=body, spaceAfter=0),
        cell=ParagraphStyle("cell", parent=body, spaceAfter=0, leading=_SIZE * 1.15),
        cell_label=ParagraphStyle(
            "cell_label", parent=body, fontName=_FONT_BOLD, spaceAfter=0, leading=_SIZE * 1.15
        ),
    )


def _table(block: Block, opts: Options, styles: _Styles, frame_width: float) -> Table:
    rows = [[_split_cell(c) for c in _CELL_GAP.split(r.strip())] for r in block.lines]
    # Size the label column to the widest label that the text rendering keeps
    # on one line, so both renderings wrap the same labels.
    fitting = [
        stringWidth(_plain(label), _FONT_BOLD, _SIZE)
        for row in rows
        for label, _ in row
        if label and len(label) <= opts.label_chars
    ]
    widest = max(fitting, default=stringWidth("n" * opts.label_chars, _FONT_BOLD, _SIZE))
    padding = 6.0
    label_width = widest + 2 * padding
    value_width = (frame_width - 2 * label_width) / 2
    data: list[list[Paragraph | str]] = []
    for row in rows:
        cells: list[Paragraph | str] = []
        for label, value in row:
            cells.append(Paragraph(_markup(label), styles.cell_label) if label else "")
            cells.append(Paragraph(_markup(value), styles.cell) if value else "")
        cells += [""] * (4 - len(cells))
        data.append(cells)
    table = Table(
        data,
        colWidths=[label_width, value_width, label_width, value_width],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), padding / 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), padding / 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def _flowables(source: LetterSource, frame_width: float) -> Iterator[Flowable]:
    styles = _styles()
    for block in source.visible_blocks():
        if block.kind == "paragraph":
            yield Paragraph(_markup(block.text), styles.body)
        elif block.kind == "title":
            yield Paragraph(_markup(block.text), styles.title)
        elif block.kind == "lines":
            for line in block.lines:
                text = _markup(line) if not _is_caps(line) else f"<b>{_markup(line)}</b>"
                yield Paragraph(text or "&nbsp;", styles.line)
            yield Spacer(1, styles.body.spaceAfter)
        else:
            yield _table(block, source.options, styles, frame_width)
            yield Spacer(1, styles.body.spaceAfter * 1.5)


def _build(source: LetterSource, target: Path | io.BytesIO, total_pages: int) -> int:
    """Lay the letter out once; returns the number of pages it took."""
    opts = source.options
    top = _MARGIN + (0.25 * inch if opts.running_header else 0)
    doc = BaseDocTemplate(
        target if isinstance(target, io.BytesIO) else str(target),
        pagesize=LETTER,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=top,
        bottomMargin=_MARGIN,
        title=opts.title or source.name,
        author="imr-kg sample letters",
        subject="Fictional Independent Medical Review determination letter",
        creator="imrkg.typeset",
        # invariant fixes the creation date and document ID, so one source
        # always yields byte-identical PDFs and the committed files stay stable.
        invariant=1,
    )

    width, height = LETTER

    def running_header(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if opts.running_header:
            canvas.saveState()
            canvas.setFont(_FONT, _FURNITURE_SIZE)
            canvas.drawString(_MARGIN, height - _MARGIN + 2, opts.running_header)
            canvas.setLineWidth(0.4)
            canvas.line(_MARGIN, height - _MARGIN - 2, width - _MARGIN, height - _MARGIN - 2)
            canvas.restoreState()

    # The footer is drawn when the page ends so that text tools, which read in
    # drawing order, find "Page N of M" after the page's body, as on paper.
    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        if opts.page_numbers:
            canvas.saveState()
            canvas.setFont(_FONT, _FURNITURE_SIZE)
            total = max(total_pages, doc.page)
            canvas.drawCentredString(width / 2, _MARGIN / 2, f"Page {doc.page} of {total}")
            canvas.restoreState()

    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates(
        [PageTemplate(id="page", frames=[frame], onPage=running_header, onPageEnd=footer)]
    )
    doc.build(list(_flowables(source, doc.width)))
    return int(doc.page)


def render_pdf(source: LetterSource, path: Path) -> None:
    """Render the letter to a Letter-size PDF at ``path``.

    The layout runs twice: the first pass only counts pages, so that the
    footer can say "Page N of M" without a canvas that buffers whole pages.
    """
    pages = _build(source, io.BytesIO(), 0)
    _build(source, path, pages)


# --------------------------------------------------------------------------
# Command line


def _examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


def main(argv: Sequence[str] | None = None) -> int:
    """Render every ``SOURCES/*.letter`` to ``OUT/NAME.txt`` and ``OUT/NAME.pdf``."""
    examples = _examples_dir()
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sources", type=Path, default=examples / "sources")
    parser.add_argument("--out", type=Path, default=examples / "letters")
    args = parser.parse_args(argv)
    sources = sorted(Path(args.sources).glob("*.letter"))
    if not sources:
        print(f"no .letter files in {args.sources}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in sources:
        letter = LetterSource.from_path(path)
        (out / f"{letter.name}.txt").write_text(render_text(letter), encoding="utf-8")
        render_pdf(letter, out / f"{letter.name}.pdf")
        print(f"{letter.name}: {out / letter.name}.txt, .pdf")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
