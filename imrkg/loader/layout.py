"""Find a letter's layout and cut its normalized text into sections and items.

Four layouts of IMR final determination letters are known:

``headerless``
    text that starts at "HOW THE IMR FINAL DETERMINATION WAS MADE" (the header
    page was stripped), then the credentials, CLINICAL CASE SUMMARY and
    IMR ISSUES, DECISIONS AND RATIONALES;
``header``
    the DWC's published PDFs: the header rows (Case Number, Date Assigned,
    Date of Injury, Decision Date, UR Denial Date, Priority, Application
    Received) and then the same sections;
``maximus``
    the "MAXIMUS FEDERAL SERVICES, INC. / Independent Medical Review" notice
    with DOCUMENTS REVIEWED and numbered items under
    "IMR DECISION(S) AND RATIONALE(S)";
``professional``
    the "MEDICAL PROFESSIONAL REVIEW" report, whose items are split across
    ISSUE AT DISPUTE (headings), the guidelines section (citations and why
    they were relied upon) and the rationale section, matched by number.

Parsing goes by structure — section titles, field labels and the
"<request>: Upheld|Overturned" outcome markers — never by fixed offsets.
Every piece found is a :class:`Field`: its text with blanks collapsed, and its
place in the normalized text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imrkg.errors import LetterError
from imrkg.loader import sentences
from imrkg.loader.read import NormalizedText, ReflowRules

# Labels that always begin a new line: header fields, citation lines, credentials.
_LABELS = (
    r"(?:IMR\s+)?Case\s+(?:Number|No\.?)",
    r"Date\s+Assigned",
    r"Date\s+of\s+Injury",
    r"Decision\s+Date",
    r"UR\s+Denial\s+Date",
    r"Date\s+of\s+UR\s+(?:Decision|Denial)",
    r"Priority",
    r"Application\s+Received",
    r"Dated",
    r"Claims?\s+Number",
    r"Employee\s+Name",
    r"Provider\s+Name",
    r"Treatment\(s\)\s+in\s+Dispute[^:\n]*",
    r"Final\s+Determination",
    r"State\(s\)\s+of\s+Licensure",
    r"Certification\(s\)\s*/\s*Specialty",
    r"Claims\s+Administrator\s+guideline",
    r"(?:MAXIMUS|IMR|Expert\s+Reviewer|Professional\s+Reviewer|Reviewer)\s+guideline",
    r"Decision\s+rationale",
    r"Why\s+relied\s+upon",
)
_ENTRY = r"^[ \t]*(?:\d{1,2}\.[ \t]+)?"
_CITATION_LABELS = {
    "ca": re.compile(_ENTRY + r"Claims\s+Administrator\s+guidelines?\s*:", re.I | re.M),
    "imr": re.compile(
        _ENTRY + r"(?:MAXIMUS|IMR|Expert\s+Reviewer|Professional\s+Reviewer|Reviewer)"
        r"\s+guidelines?\s*:",
        re.I | re.M,
    ),
    "rationale": re.compile(_ENTRY + r"Decision\s+rationale\s*:", re.I | re.M),
    "why": re.compile(_ENTRY + r"Why\s+relied\s+upon\s*:", re.I | re.M),
}
REFLOW_RULES = ReflowRules(
    block_start=re.compile(
        r"(?:(?:\d{1,2}\.\s+)?(?:" + "|".join(_LABELS) + r")\s*:|Dear\b|Sincerely\b|cc\s*:"
        r"|The\s+Expert\s+Reviewer\s+has\s+the\s+following\s+credentials"
        r"|The\s+Final\s+Determination\s+was\s+based\s+on\s+decisions)",
        re.I,
    ),
    block_end=re.compile(
        r"(?::\s*(?:Upheld|Overturned|UPHELD|OVERTURNED)\.?|set forth below:)\s*$"
    ),
    list_title=re.compile(r"^DOCUMENTS REVIEWED(?:\s+FOR\s+DETERMINATION)?:?$", re.I),
    content=re.compile(
        r"^(?:\d{1,2}\.\s+)?(?:Claims\s+Administrator\s+guideline|MAXIMUS\s+guideline|Decision\s+rationale"
        r"|The\s+Final\s+Determination)|:\s*(?:Upheld|Overturned)\.?\s*$",
        re.I,
    ),
)

_SECTIONS: dict[str, re.Pattern[str]] = {
    "determination": re.compile(r"HOW THE IMR FINAL DETERMINATION WAS MADE", re.I),
    "summary": re.compile(r"(?:CLINICAL\s+)?CASE SUMMARY", re.I),
    "decisions": re.compile(
        r"IMR ISSUES,?\s+DECISIONS,?\s+AND\s+RATIONALES|IMR DECISION\(?S\)?\s+AND\s+RATIONALE\(?S\)?",
        re.I,
    ),
    "documents": re.compile(r"DOCUMENTS REVIEWED(?:\s+FOR\s+DETERMINATION)?", re.I),
    "issues": re.compile(r"ISSUES?\s+(?:AT|IN)\s+DISPUTE", re.I),
    "guidelines": re.compile(
        r"MEDICAL TREATMENT GUIDELINE\(?S\)?\s+RELIED UPON BY (?:THE\s+)?PROFESSIONAL REVIEWER"
        r"(?:\s+AND\s+WHY)?",
        re.I,
    ),
    "rationales": re.compile(
        r"RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY", re.I
    ),
    "qualifications": re.compile(r"MEDICAL REVIEWER QUALIFICATIONS", re.I),
}
_TITLE_PROFESSIONAL = re.compile(r"^\s*MEDICAL PROFESSIONAL REVIEW\s*$", re.I | re.M)
_TITLE_MAXIMUS = re.compile(r"^\s*MAXIMUS FEDERAL SERVICES,?\s+INC\.?\s*$", re.I | re.M)

_OUTCOME = re.compile(r":[ \t]*(Upheld|Overturned|UPHELD|OVERTURNED)\b\.?[ \t]*(?=\n|$)")
_NUMBERED = re.compile(r"^[ \t]*(\d{1,2})\.[ \t]+", re.M)
_GLUE_PREFIX = re.compile(
    r"^\s*(?:Decision\s+rationale|Claims\s+Administrator\s+guideline|MAXIMUS\s+guideline"
    r"|The\s+Final\s+Determination\s+was\s+based)",
    re.I,
)
_RATIONALE_LABEL = re.compile(r"\s*Decision\s+rationale\s*:", re.I)
_ORIGINAL_REQUEST = re.compile(r"\bwas\s+the\s+original\s+request\b", re.I)

_DATE = r"(\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{2,4}|[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4})"
_HEADER_FIELDS: dict[str, re.Pattern[str]] = {
    "case_number": re.compile(r"\b(CM\d{2}-\d{4,8})\b"),
    "assigned": re.compile(r"Date\s+Assigned\s*:\s*" + _DATE, re.I),
    "decision": re.compile(
        r"(?:Decision\s+Date|Date\s+of\s+(?:Final\s+)?(?:Decision|Determination)|\bDated)\s*:\s*"
        + _DATE,
        re.I,
    ),
    "ur_denial": re.compile(
        r"(?:UR\s+Denial\s+Date|Date\s+of\s+UR\s+(?:Decision|Denial))\s*:\s*" + _DATE, re.I
    ),
    "application_received": re.compile(r"Application\s+Received\s*:\s*" + _DATE, re.I),
    "injury": re.compile(r"Date\s+of\s+Injury\s*:\s*" + _DATE, re.I),
    "priority": re.compile(r"Priority\s*:\s*(Standard|Expedited|Urgent)", re.I),
}


@dataclass(frozen=True)
class Field:
    """A piece of the letter: its text (blanks collapsed) and ``[start, end)``
    in the normalized text."""

    value: str
    start: int
    end: int


@dataclass
class ItemBlock:
    """The parts of one disputed item as the letter lays them out."""

    number: int
    heading: Field
    request: Field
    outcome: Field
    ca_guideline: Field | None = None
    imr_guideline: Field | None = None
    reliance: Field | None = None
    rationale: Field | None = None
    start: int = 0
    end: int = 0


@dataclass
class LetterLayout:
    """A letter cut into its parts."""

    name: str
    sections: dict[str, Field] = field(default_factory=dict)
    header: dict[str, Field] = field(default_factory=dict)
    licensure: Field | None = None
    specialties: Field | None = None
    credentials_prose: Field | None = None
    documents: list[Field] = field(default_factory=list)
    items: list[ItemBlock] = field(default_factory=list)


def make_field(text: str, start: int, end: int) -> Field | None:
    """The trimmed :class:`Field` of ``text[start:end]``, or None when it is blank."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    return Field(" ".join(text[start:end].split()), start, end)


def _lines(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _section_titles(text: str) -> list[tuple[str, int, int]]:
    """(section kind, title start, title end), in text order; a title may wrap over two lines."""
    found = []
    lines = _lines(text)
    skip_next = False
    for index, (start, end) in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        candidates = [(start, end)]
        if index + 1 < len(lines):
            candidates.append((start, lines[index + 1][1]))
        for cand_start, cand_end in candidates:
            line = " ".join(text[cand_start:cand_end].split()).rstrip(":").strip()
            if not line or len(line) > 160 or any(c.islower() for c in line):
                continue
            kind = next((k for k, p in _SECTIONS.items() if p.fullmatch(line)), None)
            if kind is not None:
                found.append((kind, cand_start, cand_end))
                skip_next = cand_end != end
                break
    return found


def parse_layout(nt: NormalizedText) -> LetterLayout:
    """Cut a normalized letter into its layout's parts.

    Raises :class:`LetterError` when the text is not an IMR determination letter
    or holds no decided item.
    """
    text = nt.text
    titles = _section_titles(text)
    kinds = {kind for kind, _, _ in titles}
    top_end = titles[0][1] if titles else len(text)
    top = text[:top_end]

    if _TITLE_PROFESSIONAL.search(top) or {"issues", "rationales"} <= kinds:
        name = "professional"
    elif _TITLE_MAXIMUS.search(top) and "decisions" in kinds:
        name = "maximus"
    elif "decisions" in kinds or "determination" in kinds:
        name = "header" if _HEADER_FIELDS["case_number"].search(top) else "headerless"
    else:
        raise LetterError(
            nt.document.path,
            "not an IMR determination letter (no 'HOW THE IMR FINAL DETERMINATION WAS MADE' "
            "or 'IMR ISSUES, DECISIONS AND RATIONALES' section)",
        )

    layout = LetterLayout(name)
    for index, (kind, _, title_end) in enumerate(titles):
        section_end = titles[index + 1][1] if index + 1 < len(titles) else len(text)
        section = make_field(text, title_end, section_end)
        if section is not None and kind not in layout.sections:
            layout.sections[kind] = section

    layout.header = _header_fields(text, 0, top_end)
    _credentials(text, layout)
    documents = layout.sections.get("documents")
    if documents is not None:
        layout.documents = _list_entries(text, documents)
    if name == "professional":
        layout.items = _professional_items(text, layout)
    else:
        decisions = layout.sections.get("decisions")
        if decisions is not None:
            layout.items = _decision_items(text, decisions.start, decisions.end)
    if not layout.items:
        raise LetterError(
            nt.document.path, "no decided items (no '<request>: Upheld|Overturned' heading)"
        )
    return layout


def _header_fields(text: str, start: int, end: int) -> dict[str, Field]:
    found: dict[str, Field] = {}
    region = text[start:end]
    for key, pattern in _HEADER_FIELDS.items():
        match = pattern.search(region)
        if match:
            f = make_field(text, start + match.start(1), start + match.end(1))
            if f is not None:
                found[key] = f
    return found


_LICENSURE = re.compile(r"State\(s\)\s+of\s+Licensure\s*:[ \t]*([^\n]*)", re.I)
_SPECIALTY = re.compile(r"Certification\(s\)\s*/\s*Specialty\s*:[ \t]*([^\n]*)", re.I)
_PROSE_CREDENTIALS = re.compile(
    r"(?:reviewer|He/she|physician)\s+(?:is|are)\s+(?:Board[- ]Certified|certified|licensed)"
    r"\s+in\s+[^.]*?\s+(?:and\s+)?(?:is\s+)?licensed\s+to\s+practice\s+in\s+[^.]+",
    re.I,
)


def _credentials(text: str, layout: LetterLayout) -> None:
    for key in ("determination", "qualifications"):
        section = layout.sections.get(key)
        if section is None:
            continue
        region = text[section.start : section.end]
        lic = _LICENSURE.search(region)
        if lic and layout.licensure is None:
            layout.licensure = make_field(
                text, section.start + lic.start(1), section.start + lic.end(1)
            )
        spec = _SPECIALTY.search(region)
        if spec and layout.specialties is None:
            layout.specialties = make_field(
                text, section.start + spec.start(1), section.start + spec.end(1)
            )
        prose = _PROSE_CREDENTIALS.search(region)
        if prose and layout.credentials_prose is None:
            layout.credentials_prose = make_field(
                text, section.start + prose.start(), section.start + prose.end()
            )


def _list_entries(text: str, section: Field) -> list[Field]:
    entries = []
    for start, end in _lines(text[section.start : section.end]):
        line = re.sub(
            r"^\s*(?:[-*]|\(?\d{1,2}[.)])\s*", "", text[section.start + start : section.start + end]
        )
        offset = section.start + end - len(line)
        f = make_field(text, offset, section.start + end)
        if f is not None:
            entries.append(f)
    return entries


def _heading_start(text: str, lower: int, marker: int) -> int:
    """Where the heading ending at ``marker`` begins: at its line's start,
    unless the line also holds the end of the block before it."""
    line_start = max(lower, text.rfind("\n", lower, marker) + 1)
    segment = text[line_start:marker]
    if _GLUE_PREFIX.match(segment) or "set forth below:" in segment:
        below = segment.rfind("set forth below:")
        floor = line_start + below + len("set forth below:") if below >= 0 else line_start
        start = max([floor, *sentences.breaks(text, floor, marker)])
        if re.match(r"\s*The\s+(?:remaining|original\s+request)", text[start:marker], re.I):
            # a partial-authorization heading: it begins with "<X> was the original request."
            originals = list(_ORIGINAL_REQUEST.finditer(text, floor, start))
            if originals:
                original = originals[-1]
                start = max([floor, *sentences.breaks(text, floor, original.start())])
        return start
    if not _ORIGINAL_REQUEST.search(segment) and re.search(
        r"IMR\s+eligible|original\s+request", segment, re.I
    ):
        # A partial-authorization heading whose first sentences stand on lines of their own.
        back = text.rfind("was the original request", lower, line_start)
        if back >= 0:
            prev_line = max(lower, text.rfind("\n", lower, back) + 1)
            return max([prev_line, *sentences.breaks(text, prev_line, back)])
    return line_start


def _split_heading(
    text: str, start: int, marker: re.Match[str]
) -> tuple[int, Field, Field, Field] | None:
    """(number, heading, request, outcome) of the heading from ``start`` to the outcome
    marker; None when no request stands before the marker ("2. : Upheld")."""
    number = 0
    numbered = _NUMBERED.match(text, start)
    if numbered and numbered.end() <= marker.start():
        number = int(numbered.group(1))
        start = numbered.end()
    heading = make_field(text, start, marker.end())
    request = make_field(text, start, marker.start())
    outcome = make_field(text, marker.start(1), marker.end(1))
    if heading is None or request is None or outcome is None:
        return None
    return number, heading, request, outcome


def _decision_items(text: str, start: int, end: int) -> list[ItemBlock]:
    markers = list(_OUTCOME.finditer(text, start, end))
    items: list[ItemBlock] = []
    lower = start
    starts = []
    for marker in markers:
        head = _heading_start(text, lower, marker.start())
        starts.append(head)
        lower = marker.end()
    for index, marker in enumerate(markers):
        item_end = starts[index + 1] if index + 1 < len(markers) else end
        parts = _split_heading(text, starts[index], marker)
        if parts is None:
            continue
        number, heading, request, outcome = parts
        block = ItemBlock(
            number or index + 1, heading, request, outcome, start=heading.start, end=item_end
        )
        _label_values(text, marker.end(), item_end, block)
        items.append(block)
    return items


def _label_values(text: str, start: int, end: int, block: ItemBlock) -> None:
    """Fill the citation lines, reliance and rationale of an item from ``text[start:end]``."""
    found = []
    for key, pattern in _CITATION_LABELS.items():
        for match in pattern.finditer(text, start, end):
            found.append((match.start(), match.end(), key))
    found.sort()
    for index, (_, value_start, key) in enumerate(found):
        value_end = found[index + 1][0] if index + 1 < len(found) else end
        value = make_field(text, value_start, value_end)
        if key == "ca" and block.ca_guideline is None:
            block.ca_guideline = value
        elif key == "imr" and block.imr_guideline is None:
            block.imr_guideline = value
        elif key == "why" and block.reliance is None:
            block.reliance = value
        elif key == "rationale" and block.rationale is None:
            block.rationale = value


def _numbered_entries(text: str, section: Field) -> dict[int, tuple[int, int, int]]:
    """Entries '1. ...', '2. ...' of a section, numbered in sequence:
    number -> (entry start, start after the number, end)."""
    entries: dict[int, tuple[int, int, int]] = {}
    expected = 1
    marks = []
    for match in _NUMBERED.finditer(text, section.start, section.end):
        if int(match.group(1)) == expected:
            marks.append((expected, match.start(), match.end()))
            expected += 1
    for index, (number, entry_start, body_start) in enumerate(marks):
        body_end = marks[index + 1][1] if index + 1 < len(marks) else section.end
        entries[number] = (entry_start, body_start, body_end)
    return entries


def _professional_items(text: str, layout: LetterLayout) -> list[ItemBlock]:
    issues = layout.sections.get("issues")
    if issues is None:
        return []
    items: list[ItemBlock] = []
    for number, (start, _, end) in _numbered_entries(text, issues).items():
        markers = list(_OUTCOME.finditer(text, start, end))
        if not markers:
            continue
        parts = _split_heading(text, start, markers[-1])
        if parts is None:  # an entry without a request (a fuzzing find: "4. :Upheld")
            continue
        _, heading, request, outcome = parts
        items.append(
            ItemBlock(number, heading, request, outcome, start=heading.start, end=heading.end)
        )
    by_number = {item.number: item for item in items}
    guidelines = layout.sections.get("guidelines")
    if guidelines is not None:
        for number, (start, _, end) in _numbered_entries(text, guidelines).items():
            if number in by_number:
                _label_values(text, start, end, by_number[number])
    rationales = layout.sections.get("rationales")
    if rationales is not None:
        for number, (_, body_start, end) in _numbered_entries(text, rationales).items():
            item = by_number.get(number)
            if item is None:
                continue
            label = _RATIONALE_LABEL.match(text, body_start)
            item.rationale = make_field(text, label.end() if label else body_start, end)
    return items
