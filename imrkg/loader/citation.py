"""Read a guideline citation line into the guidelines it cites.

Citation lines ("Claims Administrator guideline:", "MAXIMUS guideline:") are
made of sentences "Decision based on MTUS <guideline or chapter> [year][,
Section(s): ...][ Page(s): ...]" and "Decision based on Non-MTUS Citation
<source>, <chapter>, <topic>", and MTUS sentences chain several guidelines
with ", and": "MTUS Chronic Pain Medical Treatment 2016, Section(s):
Compound drugs, and Opioid Treatment 2016, Section(s): 3.3 ...". Two
generations of wording exist: 2013-2015 ("MTUS Chronic Pain Treatment
Guidelines 9792.20 - 9792.26 Page(s): 60") and 2016 on ("... 2016,
Section(s): Opioids ...").

Which words name which guideline, edition and chapter comes from
``ontology/vocab/guidelines.ttl``: a guideline is a top concept whose
skos:notation is its ID (MTUS-CPMTG, ODG, ...); editions and chapters are its
narrower concepts. A name opens a new citation where a sentence starts or
after ", and"; a name met inside a section list is part of that section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import rdflib

from imrkg.loader.vocab import IMR, Concept, LabelMatcher, Match, load_vocabulary

NO_EVIDENCE = re.compile(r"did\s+not\s+cite\s+any\s+(?:medical\s+)?evidence", re.I)
_DECISION_BASED = re.compile(r"Decision\s+based\s+on\s*", re.I)
_PREAMBLE = re.compile(
    r"The\s+(?:Claims\s+Administrator|Expert\s+Reviewer|Professional\s+Reviewer|reviewer)\s+based\s+"
    r"(?:their|its|his/her)\s+decision\s+on\s+recommendation\(?s?\)?\s+outside\s+of\s+the\s+MTUS(?:\s+Guidelines?)?\.?",
    re.I,
)
_NON_MTUS = re.compile(r"\s*Non[-\s]?MTUS(?:\s+Citation)?\s*:?\s*", re.I)
_MTUS = re.compile(r"\s*(?:CA\s+|California\s+)?MTUS\b\s*:?\s*", re.I)
_PIECE_BREAK = re.compile(
    r"(?:^|[.;]\s*|,?\s+(?:and|&)\s+(?:the\s+)?|,\s+|\band\s+Other\s+Medical\s+Treatment\s+Guidelines?\s+)$",
    re.I,
)
_YEAR = re.compile(r"\s*,?\s*\(?((?:19|20)\d{2})\)?\b")
_SECTION = re.compile(r"Section\(s\)\s*:?\s*(?P<section>.*)$", re.I | re.S)
_PAGES = re.compile(
    r"(?:Page\(s\)\s*:?\s*|\bpages?\s+|\bpg\.?\s*|\bp\.?\s+)(?P<pages>\d+(?:\s*[-,]\s*\d+)*)", re.I
)
# What precedes a topic in ODG citations: "Chapter, ", "Section/", "(updated 12/20/16), "
_SECTION_NOISE = re.compile(
    r"^(?:\s|[,;:/-]|(?:chapters?|sections?|topics?)\b|\((?:updated\s+[\d/]+|acute\s*(?:&|and)\s*chronic|online\s+version)\))+",
    re.I,
)
_SECTION_TAIL = re.compile(r"[\s,;:/-]*\b(?:topic|chapter|section)\s*$", re.I)
_SIDE_BY_SIDE = re.compile(r"[\s()]*(?:(?:https?://)?www\.)?", re.I)
_OTHER_GUIDELINES = re.compile(r"\bOther\s+Medical\s+Treatment\s+Guidelines?\b", re.I)
_CCR_RANGE = re.compile(r"\b9792\.\d+(?:\.\d+)?\s*(?:-\s*9792\.\d+(?:\.\d+)?)?")


@dataclass
class Cited:
    """One guideline named on a citation line, with offsets into the line."""

    guideline: str
    guideline_iri: str | None
    start: int
    end: int
    edition: int | None = None
    chapter: str | None = None
    chapter_iri: str | None = None
    section: str | None = None
    pages: str | None = None


@dataclass(frozen=True)
class GuidelineIndex:
    """The guideline vocabulary, arranged for reading citations."""

    ids: dict[str, str]  # concept IRI -> guideline ID, for every guideline concept
    tops: dict[str, str]  # guideline ID -> IRI of the guideline concept
    top_iris: frozenset[str]
    years: dict[str, int]  # concept IRI -> edition year
    mtus: LabelMatcher = field(repr=False)
    everything: LabelMatcher = field(repr=False)
    other_id: str = "OTHER"

    def is_top(self, concept: Concept) -> bool:
        return concept.iri in self.top_iris


@cache
def guideline_index() -> GuidelineIndex:
    vocabulary = load_vocabulary()
    concepts = vocabulary.in_scheme("guideline")
    tops = {c.notation: c.iri for c in concepts if c.notation and not c.broader}
    top_ids = {iri: gid for gid, iri in tops.items()}
    ids: dict[str, str] = {}
    years: dict[str, int] = {}
    for concept in concepts:
        lineage = [concept.iri, *vocabulary.ancestors(concept.iri)]
        for iri in lineage:
            if iri in top_ids:
                ids[concept.iri] = top_ids[iri]
                break
        for value in vocabulary.graph.objects(rdflib.URIRef(concept.iri), IMR.editionYear):
            match = re.match(r"\d{4}", str(value))
            if match:
                years[concept.iri] = int(match.group(0))
    mtus = [c for c in concepts if ids.get(c.iri, "").startswith("MTUS")]
    return GuidelineIndex(
        ids=ids,
        tops=dict(tops),
        top_iris=frozenset(tops.values()),
        years=years,
        mtus=LabelMatcher(mtus),
        everything=LabelMatcher([c for c in concepts if c.iri in ids]),
    )


def _segments(line: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each 'Decision based on ...' sentence of the line."""
    matches = list(_DECISION_BASED.finditer(line))
    if not matches:
        preamble = _PREAMBLE.search(line)
        return [(preamble.end() if preamble else 0, len(line))]
    ends = [m.start() for m in matches[1:]]
    return list(zip([m.end() for m in matches], [*ends, len(line)], strict=True))


def _opens_piece(line: str, previous_end: int, match: Match, in_section: bool) -> bool:
    before = line[previous_end : match.start]
    if in_section:
        # inside "Section(s): ..." only ", and <Guideline> <year>" opens a new citation
        return bool(re.search(r",?\s+and\s+$", before)) and bool(_YEAR.match(line[match.end :]))
    return not before.strip(" ,:;") or bool(_PIECE_BREAK.search(before))


def read_citations(line: str) -> list[Cited]:
    """The guidelines a citation line cites (empty when it cites no evidence)."""
    if NO_EVIDENCE.search(line):
        return []
    index = guideline_index()
    cited: list[Cited] = []
    for seg_start, seg_end in _segments(line):
        non_mtus = _NON_MTUS.match(line, seg_start)
        mtus = None if non_mtus else _MTUS.match(line, seg_start)
        body_start = non_mtus.end() if non_mtus else mtus.end() if mtus else seg_start
        matcher = index.mtus if mtus else index.everything
        pieces: list[Cited] = []
        for match in matcher.find_all(line, body_start, seg_end):
            gid = index.ids.get(match.concept.iri, index.other_id)
            if non_mtus and gid.startswith("MTUS"):
                gid = index.other_id  # an MTUS source cited as non-MTUS is another edition of it
            top = index.is_top(match.concept)
            current = pieces[-1] if pieces else None
            if current is None:
                pieces.append(_new_piece(index, gid, match, top))
                continue
            in_section = "section(s)" in line[current.end : match.start].lower()
            if not top and not in_section and gid == current.guideline and current.chapter is None:
                # "MTUS ACOEM Chapter 12 Low Back Complaints", "ODG Low Back": the named guideline's chapter
                _set_chapter(index, current, match)
                current.end = match.end
            elif (
                top
                and gid == current.guideline
                and _SIDE_BY_SIDE.fullmatch(line, current.end, match.start)
            ):
                # two names of one source side by side: "Official Disability Guidelines (ODG)",
                # "Other Medical Treatment Guidelines www.mdguidelines.com"
                current.end = match.end
            elif _opens_piece(line, current.end, match, in_section):
                pieces.append(_new_piece(index, gid, match, top))
        if not pieces:
            text = line[body_start:seg_end].strip(" .;,")
            if not text:
                continue
            pieces.append(
                Cited(index.other_id, index.tops.get(index.other_id), body_start, body_start)
            )
        for i, piece in enumerate(pieces):
            detail_end = pieces[i + 1].start if i + 1 < len(pieces) else seg_end
            _details(line, piece, detail_end)
        for extra in _OTHER_GUIDELINES.finditer(line, seg_start, seg_end):
            if not any(p.guideline == index.other_id and p.start >= extra.start() for p in pieces):
                pieces.append(
                    Cited(index.other_id, index.tops.get(index.other_id), extra.start(), seg_end)
                )
        cited.extend(pieces)
    return cited


def _new_piece(index: GuidelineIndex, gid: str, match: Match, top: bool) -> Cited:
    piece = Cited(gid, index.tops.get(gid), match.start, match.end)
    piece.edition = index.years.get(match.concept.iri)
    if not top and gid != index.other_id:
        _set_chapter(index, piece, match)
    return piece


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _set_chapter(index: GuidelineIndex, piece: Cited, match: Match) -> None:
    piece.chapter = match.concept.label
    piece.chapter_iri = match.concept.iri
    if piece.edition is None:
        piece.edition = index.years.get(match.concept.iri)


def _details(line: str, piece: Cited, end: int) -> None:
    """Edition year, section and pages from the words after the guideline's name."""
    rest_start = piece.end
    year = _YEAR.match(line, rest_start, end)
    if year:
        piece.edition = int(year.group(1))
        rest_start = year.end()
    rest = line[rest_start:end]
    rest = re.sub(r"^\s*(?:Guidelines?\b)?\s*", "", rest)
    rest = _CCR_RANGE.sub("", rest)
    pages = _PAGES.search(rest)
    if pages:
        piece.pages = re.sub(r"\s+", "", pages.group("pages"))
        rest = rest[: pages.start()] + rest[pages.end() :]
    section = _SECTION.search(rest)
    text = section.group("section") if section else rest
    text = re.sub(r",?\s+and\s*$", "", text.strip())
    previous = None
    while text != previous:  # peel noise, stray brackets and wrapping brackets until none is left
        previous = text
        text = _SECTION_NOISE.sub("", text).strip(" .,;:-")
        text = _SECTION_TAIL.sub("", text).strip(" .,;:-")
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1].strip()  # "(Trigger point impedance imaging)"
        if (
            text.startswith(")")
            or text.endswith("(")
            or (text.endswith(")") and text.count(")") > text.count("("))
        ):
            # the rest of a chapter name the vocabulary matched only in part: ") Chapter, ..."
            text = text[1:] if text.startswith(")") else text[:-1]
    text = re.sub(
        r"^\(?(?:ODG|Acute\s*(?:&|and)\s*Chronic)\)?\s*[,:-]?\s*", "", text, flags=re.I
    ).strip(" .,;:-")
    if re.fullmatch(r"\d+(?:\s*-\s*\d+)?", text) and piece.pages is None:
        piece.pages = re.sub(r"\s+", "", text)
        text = ""
    piece.section = " ".join(text.split()) or None
