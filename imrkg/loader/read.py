"""Read a letter (PDF or text) and normalize its text, keeping an offset map.

Reading gives a :class:`SourceDocument`: the text of each page, as pypdfium2
extracts it from a PDF or as a text file holds it (UTF-16 or UTF-32 when it
starts with a byte-order mark, else UTF-8, else cp1252; form feeds split
pages). Its *source text* is the pages joined by form feeds. Files over
:data:`MAX_FILE_BYTES` and texts over :data:`MAX_TEXT_CHARS` are refused.

:func:`normalize` turns the source text into the :class:`NormalizedText` that
the layout parser reads, and remembers for every normalized character the
source offset it came from, so that every extracted value can name its page
and offset in the source. It

- folds NBSP, ligatures, smart quotes, dashes and other look-alikes to ASCII;
- drops the empty line that text extractors put after every line (the "seed"
  artefact), keeping the real paragraph breaks;
- drops page furniture: page numbers and lines repeated at the top or bottom
  of the pages;
- re-joins words hyphenated across lines and pages;
- joins lines wrapped inside a paragraph, a heading or a labelled field into
  one line, and keeps a line break wherever a new block starts (a heading, a
  labelled field, a list entry, a new paragraph).

>>> doc = SourceDocument("x.txt", "text", ("AN IMR HEADING \\n\\nA sentence that \\n\\nwraps. \\n\\n",))
>>> normalize(doc).text
'AN IMR HEADING\\nA sentence that wraps.'
"""

from __future__ import annotations

import bisect
import re
import stat
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from imrkg.errors import LetterError
from imrkg.record import Span

# A hyphen that the PDF marked as a line-break hyphen (pdfium gives U+FFFE,
# some producers a soft hyphen): whether it stays depends on the word.
_SOFT_HYPHEN = "\x1f"

_FOLD: dict[str, str] = {
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\t": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u3000": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\ufeff": "",
    "\u2060": "",
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\ufe58": "-",
    "\ufe63": "-",
    "\uff0d": "-",
    "\u2022": "-",
    "\u25cf": "-",
    "\u25aa": "-",
    "\u2023": "-",
    "\u2043": "-",
    "\u2026": "...",
    "\u00d7": "x",
    "\ufffe": _SOFT_HYPHEN,
    "\u00ad": _SOFT_HYPHEN,
}

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_BULLET = re.compile(r"^(?:[-*]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*\d+(?:\s*(?:of|/)\s*\d+)?|-\s*\d+\s*-|\d+\s*(?:of|/)\s*\d+|\d{1,3})$", re.I
)
_WORD = re.compile(r"[A-Za-z]+")
# Prefixes English writes with a hyphen ("anti-anxiety", "re-evaluation").
_PREFIXES = frozenset(
    [
        "anti",
        "non",
        "pre",
        "post",
        "re",
        "self",
        "co",
        "semi",
        "multi",
        "well",
        "ex",
        "sub",
        "inter",
        "intra",
        "extra",
        "ultra",
        "over",
        "under",
        "counter",
        "cross",
        "mid",
        "bi",
        "tri",
    ]
)


@dataclass(frozen=True)
class SourceDocument:
    """A letter as read from disk: the text of each of its pages."""

    path: str
    kind: Literal["pdf", "text"]
    pages: tuple[str, ...]

    @cached_property
    def text(self) -> str:
        """The source text: the pages joined by form feeds."""
        return "\f".join(self.pages)

    @cached_property
    def page_starts(self) -> list[int]:
        starts, offset = [], 0
        for page in self.pages:
            starts.append(offset)
            offset += len(page) + 1
        return starts

    def page_at(self, offset: int) -> int:
        """The 1-based page holding a source offset."""
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class NormalizedText:
    """The normalized text of a letter and, per character, its source offset."""

    text: str
    origins: array[int] = field(repr=False)
    document: SourceDocument = field(repr=False)

    def span(self, start: int, end: int) -> Span:
        """The :class:`Span` of ``text[start:end]``, mapped back to the source."""
        if not self.text:
            return Span(start, end, 1, 0, 0)
        first = self.origins[min(start, len(self.text) - 1)]
        last = self.origins[min(max(end - 1, start), len(self.text) - 1)]
        source_end = last + 1 if end > start else first
        return Span(start, end, self.document.page_at(first), first, source_end)


@dataclass(frozen=True)
class ReflowRules:
    """What the layout knows about block boundaries: a line matching
    ``block_start`` begins a new block (a labelled field or a section title);
    a line matching ``block_end`` ends one (an item heading's outcome); a line
    matching ``content`` is never taken for a running header or footer; under
    a title matching ``list_title`` every line is an entry of its own, up to
    the next title."""

    block_start: re.Pattern[str] | None = None
    block_end: re.Pattern[str] | None = None
    content: re.Pattern[str] | None = None
    list_title: re.Pattern[str] | None = None


# ---------------------------------------------------------------- reading


# Limits on what is taken for a letter. Real IMR letters are 2 to 15 pages: at
# most about 100 KB as PDFs and 60,000 characters of text. The limits leave a
# hundredfold margin and keep the cost of a hostile or mistaken input bounded:
# a bigger file is refused from its size alone, before a byte of it is read,
# and normalizing the longest text allowed takes about a second.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000
MAX_PDF_PAGES = 500


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _too_large(path: str | Path, size: int | None) -> LetterError:
    actual = _megabytes(size) if size is not None else f"more than {_megabytes(MAX_FILE_BYTES)}"
    return LetterError(
        path,
        f"too large for a letter ({actual}; the limit is {_megabytes(MAX_FILE_BYTES)}, "
        "real IMR letters are well under 1 MB)",
    )


def _too_long(path: str | Path, what: str) -> LetterError:
    return LetterError(
        path,
        f"too long for a letter ({what}; the limit is {MAX_TEXT_CHARS:,} characters "
        f"and {MAX_PDF_PAGES} pages, real IMR letters have under 100,000 and 20)",
    )


def check_file(path: str | Path) -> int:
    """The size of a letter file, after checking from its metadata alone that it can be
    one: it exists, is a regular file (not a folder, pipe or device, which could block
    or never end) and is no bigger than :data:`MAX_FILE_BYTES`. Raises
    :class:`LetterError` otherwise. Cheap: nothing of the file is read.
    """
    try:
        status = Path(path).stat()
    except FileNotFoundError:
        raise LetterError(path, "no such file") from None
    except OSError as exc:
        raise LetterError(path, f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(status.st_mode):
        raise LetterError(path, "is a directory, not a letter file")
    if not stat.S_ISREG(status.st_mode):
        raise LetterError(path, "not a regular file (a pipe, socket or device)")
    if status.st_size > MAX_FILE_BYTES:
        raise _too_large(path, status.st_size)
    return status.st_size


def read_document(path: str | Path) -> SourceDocument:
    """Read a PDF or text letter from disk.

    Raises :class:`LetterError` with a one-line reason for anything that is
    not a readable letter file (missing, empty, too large, binary, encrypted,
    image-only, damaged). A file is a PDF when it starts with ``%PDF-``,
    whatever its name says; otherwise it is text, unless it is named ``.pdf``.
    """
    p = Path(path)
    check_file(p)
    try:
        with p.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # bounded: the file may grow under us
    except FileNotFoundError:
        raise LetterError(path, "no such file") from None
    except IsADirectoryError:
        raise LetterError(path, "is a directory, not a letter file") from None
    except OSError as exc:
        raise LetterError(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, None)
    if not data.strip():
        raise LetterError(path, "empty file")
    if data.lstrip()[:5] == b"%PDF-":
        return SourceDocument(str(path), "pdf", _pdf_pages(path, data))
    if p.suffix.lower() == ".pdf":
        raise LetterError(path, "not a PDF (no %PDF header); damaged or mislabelled file")
    text = _decode_text(path, data)
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(path, f"{len(text):,} characters")
    return SourceDocument(str(path), "text", tuple(text.split("\f")))


def _pdf_pages(path: str | Path, data: bytes) -> tuple[str, ...]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise LetterError(path, "encrypted PDF (password required)") from None
        raise LetterError(path, f"damaged or truncated PDF ({exc})") from None
    except Exception as exc:  # the binding's own checks on malformed input, beside PdfiumError
        raise LetterError(path, f"damaged or truncated PDF ({type(exc).__name__})") from None
    try:
        count = len(pdf)
        if count > MAX_PDF_PAGES:
            raise _too_long(path, f"{count:,} pages")
        pages: list[str] = []
        chars = 0
        for index in range(count):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append(text)
            chars += len(text)
            if chars > MAX_TEXT_CHARS:
                raise _too_long(path, f"more than {MAX_TEXT_CHARS:,} characters")
    except LetterError:
        raise
    except pdfium.PdfiumError as exc:
        raise LetterError(path, f"damaged PDF page ({exc})") from None
    except Exception as exc:  # pypdfium2 asserts on some malformed text (buffer sizes)
        raise LetterError(path, f"damaged PDF page ({type(exc).__name__}: {exc})") from None
    finally:
        pdf.close()
    if not pages:
        raise LetterError(path, "PDF has no pages")
    if not any(page.strip() for page in pages):
        raise LetterError(path, "no text layer (image-only PDF; OCR is not supported)")
    return tuple(page.replace("\r\n", "\n").replace("\r", "\n") for page in pages)


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _decode_text(path: str | Path, data: bytes) -> str:
    """Text by its byte-order mark (UTF-16/32), else UTF-8, else Windows-1252."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is not None:
        try:
            text = data.decode(encoding)  # the codec drops the mark
        except UnicodeDecodeError:
            raise LetterError(
                path, f"binary file, not a letter (a {encoding.upper()} mark, then invalid text)"
            ) from None
    else:
        if b"\x00" in data[:65536]:
            raise LetterError(path, "binary file, not a letter (NUL bytes; not text or PDF)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:65536]) // 100) or "\x00" in text:
        raise LetterError(path, "binary file, not a letter (control characters; not text or PDF)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------ normalizing


@dataclass
class _Line:
    chars: list[str]
    origins: list[int]
    page: int
    raw_empty: bool

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _source_lines(doc: SourceDocument) -> Iterator[_Line]:
    offset = 0
    for page_index, page in enumerate(doc.pages):
        for raw in page.split("\n"):
            if _PRINTABLE_ASCII.fullmatch(raw):  # most lines: nothing to fold, one to one
                yield _Line(list(raw), list(range(offset, offset + len(raw))), page_index, not raw)
                offset += len(raw) + 1
                continue
            chars: list[str] = []
            origins: list[int] = []
            for i, ch in enumerate(raw):
                for out in _fold(ch):
                    chars.append(out)
                    origins.append(offset + i)
            yield _Line(chars, origins, page_index, raw_empty=not raw)
            offset += len(raw) + 1


# Characters _fold keeps as they are; none of them is in _FOLD.
_PRINTABLE_ASCII = re.compile(r"[ -~]*")


def _fold(ch: str) -> str:
    if ch in _FOLD:
        return _FOLD[ch]
    if ch < "\x80":
        return "" if ch < " " else ch
    if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn"):
        return ""
    return unicodedata.normalize("NFKC", ch)


def _clean(line: _Line) -> _Line:
    """Trim the line and collapse runs of blanks, keeping each kept character's origin."""
    chars: list[str] = []
    origins: list[int] = []
    for ch, origin in zip(line.chars, line.origins, strict=True):
        if ch == " " and (not chars or chars[-1] == " "):
            continue
        chars.append(ch)
        origins.append(origin)
    if chars and chars[-1] == " ":
        chars.pop()
        origins.pop()
    return _Line(chars, origins, line.page, line.raw_empty)


def _drop_seed_blank_lines(lines: list[_Line]) -> list[_Line | None]:
    """Blank lines become paragraph breaks (None), except the empty line after
    every line that some extractors emit, which goes."""
    filled = [i for i, ln in enumerate(lines) if ln.chars]
    doubled = sum(1 for i in filled if i + 1 < len(lines) and lines[i + 1].raw_empty)
    seeded = len(filled) >= 3 and doubled >= 0.7 * len(filled)
    # the page of the nearest line with text before and after each line, in two passes
    before: list[int | None] = []
    last: int | None = None
    for ln in lines:
        before.append(last)
        if ln.chars:
            last = ln.page
    after: list[int | None] = [None] * len(lines)
    last = None
    for index in range(len(lines) - 1, -1, -1):
        after[index] = last
        if lines[index].chars:
            last = lines[index].page
    out: list[_Line | None] = []
    for index, ln in enumerate(lines):
        if ln.chars:
            out.append(ln)
        elif seeded and ln.raw_empty:
            continue
        elif out and out[-1] is not None and before[index] == ln.page == after[index]:
            # a blank line between one page's text and the next says nothing about paragraphs
            out.append(None)
    return out


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _drop_page_furniture(
    lines: list[_Line | None], keep: re.Pattern[str] | None
) -> list[_Line | None]:
    """Drop page numbers and the running header/footer lines: a line standing
    first (or last) on at least half of the pages, two at the least, with its
    digits ignored. Lines the layout claims as content (``keep``) stay."""
    pages: dict[int, list[int]] = {}
    for i, ln in enumerate(lines):
        if ln is not None:
            pages.setdefault(ln.page, []).append(i)
    if len(pages) < 2:
        # No repetition to see on a single page, but its own number ("Page 1 of 1")
        # is still furniture; a lone number other than 1 may be content.
        return _drop_first_page_number(lines, pages)
    drop: set[int] = set()
    for pick in (slice(0, 1), slice(-1, None)):
        edges = [i for idx in pages.values() for i in idx[pick]]
        counts = Counter(_furniture_key(_text(lines[i])) for i in edges)
        needed = max(2, (len(pages) + 1) // 2)
        for i in edges:
            text = _text(lines[i])
            if keep is not None and keep.search(text):
                continue
            if counts[_furniture_key(text)] >= needed:
                drop.add(i)
    for idx in pages.values():
        for i in idx[:2] + idx[-2:]:
            if _PAGE_NUMBER.match(_text(lines[i])):
                drop.add(i)
    return [ln for i, ln in enumerate(lines) if i not in drop]


def _drop_first_page_number(
    lines: list[_Line | None], pages: dict[int, list[int]]
) -> list[_Line | None]:
    """Drop the page-number lines ('Page 1 of 1', '- 1 -') among the first and last
    two lines of a one-page document: only those numbering it page 1 of 1."""
    drop = {
        i
        for idx in pages.values()
        for i in idx[:2] + idx[-2:]
        if _PAGE_NUMBER.match(_text(lines[i])) and set(re.findall(r"\d+", _text(lines[i]))) == {"1"}
    }
    return [ln for i, ln in enumerate(lines) if i not in drop] if drop else lines


def _text(line: _Line | None) -> str:
    return line.text if line is not None else ""


def _is_caps_heading(text: str) -> bool:
    # str.isupper: at least one cased character and no lower-case one
    return (
        text.isupper()
        and sum(c.isalpha() for c in text) >= 4
        and all(c.isupper() for c in text if c.isalpha())
    )


def _lexicon(lines: list[_Line | None], extra: frozenset[str]) -> set[str]:
    """Words the letter uses twice or more (a fragment of a broken word occurs
    once), the hyphenated words it writes inside a line (a line-break hyphen is
    never inside one, so once is proof enough), and the caller's known words."""
    counts: Counter[str] = Counter()
    compounds: set[str] = set()
    for ln in lines:
        if ln is not None:
            text = ln.text.replace(_SOFT_HYPHEN, " ")
            counts.update(w.lower() for w in _WORD.findall(text))
            compounds.update(w.lower() for w in re.findall(r"[A-Za-z]+-[A-Za-z]+", text))
    return {w for w, n in counts.items() if n >= 2} | compounds | extra


# Endings that only ever finish a word, never begin one: after a whole word they
# make one word of it ("tender-ness", "treat-ment"), not a compound.
_SUFFIXES = frozenset(["ness", "ment", "ments", "less", "ful", "ings", "ship"])


def _is_ending(left: str, right: str) -> bool:
    """Whether ``right`` is an ending of the word ``left``: a suffix ('tender-ness')
    or an inflection that doubles the last consonant ('occur-red', 'submit-ted')."""
    low, rest = left.lower(), right.lower()
    if rest in _SUFFIXES:
        return True
    doubled = low[-1:] not in "aeiouy" and rest[:1] == low[-1:]
    return doubled and rest[1:] in ("ed", "ing", "er", "ers")


def _keep_hyphen(
    left: str, right: str, lexicon: set[str], dictionary: frozenset[str] = frozenset()
) -> bool:
    """Whether a word hyphenated at a line break keeps its hyphen.

    It stays after a single letter ("x-ray", "S-shaped") and where the letter
    writes the hyphenated form; it goes where the letter writes the joined
    word, and before an ending of the word ("tender-ness", "occur-red"). It
    stays after a prefix ("non-opioid"), before a short word after a word
    ("follow-up"), and between two words ("low-back"); a part that is no word is a fragment of a broken word
    ("Cycloben-zaprine", "consis-ted", "con-junction"): the words a letter
    repeats are no dictionary, so "ted" or "junction" being a word proves
    nothing while the other part is none.
    """
    joined = (left + right).lower()
    hyphenated = f"{left}-{right}".lower()
    if len(left) <= 1 or left.isupper() or hyphenated in lexicon:
        return True
    if len(right) <= 2 and (joined not in lexicon or left.lower() in dictionary):
        # a short word after a word ("follow-up", even where "followup" is known too),
        # unlike a word's last syllable after a fragment ("thera-py")
        return True
    if joined in lexicon or _is_ending(left, right):
        return False
    if left.lower() in _PREFIXES:
        return True
    return right.lower() in lexicon and (left.lower() in lexicon or left.lower() in dictionary)


def normalize(
    doc: SourceDocument,
    rules: ReflowRules | None = None,
    known_words: frozenset[str] = frozenset(),
    dictionary: frozenset[str] = frozenset(),
) -> NormalizedText:
    """Normalize a document's text (see the module docstring). ``known_words``
    (lower case) help decide whether a word hyphenated at a line break is one
    word or two; ``dictionary`` (lower case) only whether its first part is a
    word at all: a dictionary in another style ("nonopioid") must not decide
    how the letter writes a word ("non-opioid")."""
    rules = rules or ReflowRules()
    cleaned = _drop_seed_blank_lines([_clean(ln) for ln in _source_lines(doc)])
    lines = _drop_page_furniture(cleaned, rules.content)
    lexicon = _lexicon(lines, known_words)
    lengths = sorted(len(ln.chars) for ln in lines if ln is not None)
    width = max(40, lengths[int(0.9 * (len(lengths) - 1))]) if lengths else 80

    out_chars: list[str] = []
    out_origins: list[int] = []
    previous: _Line | None = None
    in_list = False
    for line in lines:
        if line is None:
            previous = None
            continue
        chars, origins = line.chars, line.origins
        if previous is not None and out_chars:
            joint = _joint(previous, line, rules, width, lexicon, dictionary)
            if (
                in_list
                and joint == " "
                and (len(previous.chars) < 0.8 * width or line.text[:1].isupper())
            ):
                # a list entry per line; an entry starts with a capital, so a line that
                # ran to the margin and goes on in lower case or digits was wrapped
                joint = "\n"
            if joint == "hyphen-drop":
                out_chars.pop()
                out_origins.pop()
            elif out_chars[-1] == _SOFT_HYPHEN:
                out_chars[-1] = "-"
            if joint in (" ", "\n"):
                out_chars.append(joint)
                out_origins.append(previous.origins[-1] + 1)
        elif out_chars:
            out_chars.append("\n")
            out_origins.append(out_origins[-1] + 1)
        out_chars.extend(chars)
        out_origins.extend(origins)
        previous = line
        text = line.text
        if _is_caps_heading(text):
            in_list = rules.list_title is not None and bool(rules.list_title.match(text))

    _resolve_inline_soft_hyphens(out_chars, out_origins, lexicon, dictionary)
    return NormalizedText("".join(out_chars), array("q", out_origins), doc)


def _joint(
    a: _Line,
    b: _Line,
    rules: ReflowRules,
    width: int,
    lexicon: set[str],
    dictionary: frozenset[str] = frozenset(),
) -> str:
    """How line ``a`` joins line ``b``: '\\n', ' ', '' (glued) or 'hyphen-drop'."""
    at, bt = a.text, b.text
    if at[-1] in "-" + _SOFT_HYPHEN and len(at) >= 2:
        if at[-2].isalpha() and bt[:1].islower():
            left = _WORD.findall(at[:-1])[-1] if _WORD.findall(at[:-1]) else ""
            right_match = _WORD.match(bt)
            right = right_match.group(0) if right_match else ""
            return "" if _keep_hyphen(left, right, lexicon, dictionary) else "hyphen-drop"
        if at[-2].isdigit() and bt[:1].isdigit():
            return ""
    if (
        rules.block_end is not None
        and not rules.block_end.search(at)
        and not rules.block_end.search(bt)
        and rules.block_end.search(f"{at} {bt}")
    ):
        # A heading wrapped just before its block-ending word ("...: \nUPHELD"): the
        # word alone in capitals would otherwise pass for a heading of its own.
        return " "
    if _is_caps_heading(at) or _is_caps_heading(bt):
        return "\n"
    if rules.block_end is not None and rules.block_end.search(at):
        return "\n"
    if rules.block_start is not None and rules.block_start.match(bt):
        return "\n"
    ends_sentence = bool(_SENTENCE_END.search(at))
    short = len(at) < 0.75 * width
    if _BULLET.match(bt) and (ends_sentence or at.endswith(":") or short):
        return "\n"
    if ends_sentence and short:
        return "\n"
    if len(at) < 0.6 * width and bt[:1].isupper() and not at.endswith((",", "-", "/", "&")):
        # A line that stops well short of the margin ends something: a list
        # entry, a title, a field. Wrapped prose runs to the margin.
        return "\n"
    if at.endswith(":") and len(at) < 0.6 * width and bt[:1].isupper():
        return "\n"
    return " "


def _resolve_inline_soft_hyphens(
    chars: list[str], origins: list[int], lexicon: set[str], dictionary: frozenset[str]
) -> None:
    """Soft hyphens the PDF left inside a line (pdfium joins a word broken at a
    line end and marks the break): keep the hyphen or glue the word."""
    i = len(chars) - 1
    while i >= 0:
        if chars[i] == _SOFT_HYPHEN:
            j = i
            while j > 0 and chars[j - 1].isalpha():
                j -= 1
            k = i + 1
            while k < len(chars) and chars[k].isalpha():
                k += 1
            left, right = "".join(chars[j:i]), "".join(chars[i + 1 : k])
            if left and right and not _keep_hyphen(left, right, lexicon, dictionary):
                del chars[i]
                del origins[i]
            else:
                chars[i] = "-"
        i -= 1
