"""A letter record as RDF: the triples of one named graph per letter.

:func:`letter_graph` maps a :class:`~imrkg.record.LetterRecord` to an
:class:`rdflib.Graph` whose identifier is the letter's named-graph IRI. IRIs
are deterministic: they are made from the case number (or, for a letter
without one, from the hash of its text) and the positions of things in the
letter, so mapping the same letter twice gives the same graph.

The terms come from the imr-kg ontology (``ontology/imr.ttl``), PROV-O
(every fact ``prov:wasDerivedFrom`` its letter; the extraction is a
``prov:Activity`` of a versioned ``prov:SoftwareAgent``), Dublin Core terms
(the letter's decision metadata), schema.org (ICD-10-CM codes as
``schema:MedicalCode``) and the W3C Web Annotation vocabulary (the text span
behind a fact, as a ``oa:SpecificResource`` with a ``oa:TextPositionSelector``
and a ``oa:TextQuoteSelector`` on the letter's normalized text).

IRI layout, under ``https://w3id.org/imr-kg/``:

- ``graph/KEY``: the letter's named graph; KEY is the case number
  (``CM16-0213037``) or ``sha256-`` and 16 hex digits of the source text's hash;
- ``id/letter/KEY`` (the letter), ``id/case/KEY`` (the IMR case) and the things
  below them: ``.../item/3``, ``.../item/3/citation/imr/1``, ``.../diagnosis/2``;
- ``.../span/FIELD``: the text behind a fact;
- ``id/guideline-section/GUIDELINE/EDITION/CHAPTER/SLUG``: a guideline section,
  shared by every letter that cites it (CHAPTER is ``-`` for a guideline cited
  without one);
- ``id/extraction/KEY`` and ``id/software/imrkg/VERSION``: provenance.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV

from imrkg import __version__
from imrkg.record import (
    ConceptRef,
    Dosage,
    GuidelineCitation,
    Item,
    LetterRecord,
    PainScore,
    Span,
)

BASE = "https://w3id.org/imr-kg/"


class TermNamespace(Namespace):
    """A namespace that makes each of its terms once: rdflib checks an IRI every time it
    makes one, which was a third of the time spent mapping a letter."""

    def term(self, name: str) -> URIRef:
        made = _TERMS.get((self, name))
        if made is None:
            made = _TERMS[(self, name)] = super().term(name)
        return made


_TERMS: dict[tuple[str, str], URIRef] = {}

IMR = TermNamespace(BASE + "ontology#")
ID = BASE + "id/"
GRAPH = BASE + "graph/"
VOCAB = BASE + "vocab/"
# The highest sampling level of a similarity key (imr:similarityKeyLevel1 to ...Level10):
# enough for keys of 64 * 4**10 items, read a few dozen at a time (see similarity_keys).
SIMILARITY_LEVELS = 10
OA = TermNamespace("http://www.w3.org/ns/oa#")
SCHEMA = TermNamespace("https://schema.org/")
ICD10CM = Namespace("http://purl.bioontology.org/ontology/ICD10CM/")

# The prefixes exports and query results use.
PREFIXES = {
    "imr": str(IMR),
    "id": ID,
    "oa": str(OA),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": str(SCHEMA),
    "icd10cm": str(ICD10CM),
}

MAXIMUS = URIRef(ID + "organization/maximus-federal-services")
DWC = URIRef(ID + "organization/california-dwc")
CLAIMS_ADMINISTRATOR = IMR.claimsAdministrator
IMR_REVIEWER = IMR.imrReviewer

_QUOTE_CONTEXT = 32
# The case's dates: record key -> the evidence field of their text spans.
_DATE_FIELDS = {
    "decision": "decision_date",
    "ur_denial": "ur_denial_date",
    "assigned": "date_assigned",
    "application_received": "application_received_date",
}


def letter_key(record: LetterRecord) -> str:
    """The key that names a letter's graph and resources: its case number, else a content hash.

    >>> from imrkg.record import LetterRecord
    >>> letter_key(LetterRecord(source="x.txt", layout="header", case_number="CM16-0213037"))
    'CM16-0213037'
    >>> letter_key(LetterRecord(source="x.txt", layout="headerless", text="HOW THE IMR ..."))
    'sha256-532d1b415f506807'

    The hash is of the letter's words, blanks ignored, so that the same letter
    read from its text file and from its PDF gets the same key.
    """
    if record.case_number:
        return record.case_number
    words = " ".join(record.text.split())
    return f"sha256-{hashlib.sha256(words.encode('utf-8')).hexdigest()[:16]}"


def graph_iri(record: LetterRecord) -> URIRef:
    """The IRI of the letter's named graph."""
    return URIRef(GRAPH + letter_key(record))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "unnamed"


def section_iri(
    guideline: str, edition: int | None, chapter_iri: str | None, section: str
) -> URIRef:
    """The IRI of a guideline section, the same in every letter that cites it; the
    chapter is part of it, since chapters share section names ("Special Studies")."""
    chapter = _slug(chapter_iri.rstrip("/").rsplit("/", 1)[-1]) if chapter_iri else "-"
    return URIRef(
        f"{ID}guideline-section/{guideline}/{edition or 'any'}/{chapter}/{_slug(section)}"
    )


Triple = tuple[URIRef, URIRef, URIRef | Literal]


class LetterTriples(set[Triple]):
    """The triples of one letter's named graph, as a plain set: building an
    :class:`rdflib.Graph` costs three times as much as finding the triples, and a build
    only needs them written out (:meth:`nquads`).

    >>> from imrkg.record import LetterRecord
    >>> triples = letter_triples(LetterRecord(source="x.txt", layout="header", case_number="CM16-0213037"))
    >>> str(triples.identifier), len(triples) == len(triples.graph())
    ('https://w3id.org/imr-kg/graph/CM16-0213037', True)
    """

    def __init__(self, identifier: URIRef) -> None:
        super().__init__()
        self.identifier = identifier

    def graph(self) -> Graph:
        """The triples as an rdflib graph named by the letter's graph IRI."""
        graph = Graph(identifier=self.identifier)
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        graph.addN((s, p, o, graph) for s, p, o in self)
        return graph

    def nquads(self) -> bytes:
        """The triples in N-Quads, in the letter's graph, one line per triple in a stable order."""
        name = f"<{self.identifier}>"
        cache: dict[URIRef | Literal, str] = {}
        lines = []
        for triple in self:
            terms = []
            for term in triple:
                written = cache.get(term)
                if written is None:
                    written = cache[term] = _nt_term(term)
                terms.append(written)
            lines.append(f"{terms[0]} {terms[1]} {terms[2]} {name} .\n")
        lines.sort()
        return "".join(lines).encode("utf-8")


# N-Triples' escapes for a string literal; any other character is written as itself (UTF-8).
_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _nt_term(term: URIRef | Literal) -> str:
    r"""A term as N-Triples writes it.

    >>> print(_nt_term(Literal('say "hi"', lang="en")), _nt_term(Literal(3)))
    "say \"hi\""@en "3"^^<http://www.w3.org/2001/XMLSchema#integer>
    """
    if isinstance(term, Literal):
        lexical = f'"{str(term).translate(_NT_ESCAPES)}"'
        if term.language:
            return f"{lexical}@{term.language}"
        if term.datatype is not None and term.datatype != XSD.string:
            return f"{lexical}^^<{term.datatype}>"
        return lexical
    return f"<{term}>"


class _Mapper:
    """Finds one letter's triples; holds what the helpers share."""

    def __init__(self, record: LetterRecord) -> None:
        self.record = record
        self.key = letter_key(record)
        self.graph = LetterTriples(graph_iri(record))
        self.letter = URIRef(f"{ID}letter/{self.key}")
        self.case = URIRef(f"{ID}case/{self.key}")
        self.text_resource = URIRef(f"{self.letter}/text")

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal | None) -> None:
        if o is not None:
            self.graph.add((s, p, o))

    def fact(self, node: URIRef, cls: URIRef, label: str | None = None) -> URIRef:
        """Type a node and say it came from the letter."""
        self.graph.add((node, RDF.type, cls))
        self.graph.add((node, PROV.wasDerivedFrom, self.letter))
        if label:
            self.graph.add((node, RDFS.label, Literal(label)))
        return node

    def span(self, node: URIRef, field: str, span: Span | None, value: object = None) -> None:
        """The text behind a fact, as a Web Annotation specific resource on the letter's
        text; ``value`` is the fact in words, so that a span says what it is evidence of."""
        if span is None:
            return
        text = self.record.text
        target = URIRef(f"{node}/span/{field}")
        position = URIRef(f"{target}/position")
        quote = URIRef(f"{target}/quote")
        g = self.graph
        g.add((node, IMR.textEvidence, target))
        g.add((target, RDF.type, OA.SpecificResource))
        g.add((target, OA.hasSource, self.text_resource))
        g.add((target, IMR.evidenceField, Literal(field)))
        if value is not None and str(value):
            g.add((target, IMR.evidenceValue, Literal(str(value))))
        g.add((target, OA.hasSelector, position))
        g.add((target, OA.hasSelector, quote))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, Literal(span.start)))
        g.add((position, OA.end, Literal(span.end)))
        g.add((position, IMR.page, Literal(span.page)))
        g.add((position, IMR.sourceStart, Literal(span.source_start)))
        g.add((position, IMR.sourceEnd, Literal(span.source_end)))
        g.add((quote, RDF.type, OA.TextQuoteSelector))
        g.add((quote, OA.exact, Literal(text[span.start : span.end])))
        if text:
            g.add(
                (quote, OA.prefix, Literal(text[max(0, span.start - _QUOTE_CONTEXT) : span.start]))
            )
            g.add((quote, OA.suffix, Literal(text[span.end : span.end + _QUOTE_CONTEXT])))


def _date(value: str | None) -> Literal | None:
    return Literal(value, datatype=XSD.date) if value else None


def _text(value: str | None) -> Literal | None:
    return Literal(value) if value else None


def _int(value: int | None) -> Literal | None:
    return Literal(value, datatype=XSD.integer) if value is not None else None


def _decimal(value: float | None) -> Literal | None:
    """A decimal in its shortest form ('2', '0.25'), as a store writes it back, so that
    a graph read back from the store equals the one written.

    >>> _decimal(2.0), _decimal(30 / 7)
    (rdflib.term.Literal('2', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#decimal')), rdflib.term.Literal('4.2857', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#decimal')))
    """
    if value is None:
        return None
    lexical = format(Decimal(str(round(value, 4))).normalize(), "f")
    return Literal(lexical, datatype=XSD.decimal)


def _iri(value: str | None) -> URIRef | None:
    return URIRef(value) if value else None


def _with_concept(text: str, concept: ConceptRef | None) -> str:
    return f"{text} ({concept.label})" if concept is not None and concept.iri else text


def _number(value: float) -> str:
    return f"{value:g}"


def _pain(pain: PainScore) -> str:
    high = f"-{_number(pain.high)}" if pain.high is not None else ""
    return f"{_number(pain.value)}{high}/{pain.scale}"


def _per_week(value: float | None) -> str | None:
    return f"{_number(value)} per week" if value is not None else None


def _weeks(value: float | None) -> str | None:
    return f"{_number(value)} weeks" if value is not None else None


def _dosage(dosage: Dosage) -> str:
    parts = [dosage.drug, dosage.strength or "", f"#{dosage.count}" if dosage.count else ""]
    return " ".join(p for p in parts if p)


def _citation(cited: GuidelineCitation) -> str:
    """'MTUS-CPMTG 2016, Opioids, criteria for use': guideline, edition, chapter, section or pages."""
    head = f"{cited.guideline} {cited.edition}" if cited.edition else cited.guideline
    rest = [cited.chapter, cited.section, f"page(s) {cited.pages}" if cited.pages else None]
    return ", ".join([head, *(r for r in rest if r)])


def letter_graph(record: LetterRecord) -> Graph:
    """The triples of one letter, as an rdflib graph named by the letter's graph IRI."""
    return letter_triples(record).graph()


def letter_triples(record: LetterRecord) -> LetterTriples:
    """The triples of one letter, with the IRI of its named graph."""
    m = _Mapper(record)
    _letter(m)
    _case(m)
    _reviewer(m)
    for index, item in enumerate(record.items, start=1):
        _item(m, item, index)
    return m.graph


def _letter(m: _Mapper) -> None:
    r, letter, g = m.record, m.letter, m.graph
    m.fact(letter, IMR.DeterminationLetter, f"IMR final determination {m.key}")
    m.add(letter, DCTERMS.identifier, Literal(r.case_number or m.key))
    m.add(letter, DCTERMS.type, IMR.FinalDetermination)
    m.add(letter, DCTERMS.issued, _date(r.dates.get("decision")))
    m.add(letter, DCTERMS.creator, MAXIMUS)
    m.add(letter, DCTERMS.publisher, DWC)
    for organization, name in (
        (MAXIMUS, "MAXIMUS Federal Services, Inc."),
        (DWC, "California Division of Workers' Compensation"),
    ):
        g.add((organization, RDF.type, PROV.Organization))
        g.add((organization, RDFS.label, Literal(name)))
    m.add(letter, DCTERMS.language, Literal("en"))
    m.add(letter, DCTERMS.coverage, Literal("US-CA"))
    m.add(letter, IMR.layout, Literal(r.layout))
    m.add(letter, IMR.pageCount, _int(r.pages))
    m.add(letter, IMR.sourceFileName, Literal(re.split(r"[\\/]", r.source)[-1]))
    m.add(letter, IMR.sourceSha256, _text(r.source_sha256))
    m.add(letter, IMR.concerns, m.case)
    m.span(letter, "case_number", r.spans.get("case_number"), r.case_number)
    if r.outcome:
        m.add(letter, IMR.letterOutcome, URIRef(f"{VOCAB}outcome/letter-{_slug(r.outcome)}"))
    m.add(letter, IMR.textResource, m.text_resource)
    g.add((m.text_resource, RDF.type, IMR.LetterText))
    g.add((m.text_resource, PROV.wasDerivedFrom, letter))
    g.add((m.text_resource, DCTERMS.format, Literal("text/plain")))
    g.add(
        (
            m.text_resource,
            IMR.textSha256,
            Literal(hashlib.sha256(r.text.encode("utf-8")).hexdigest()),
        )
    )
    g.add((m.text_resource, IMR.characterCount, Literal(len(r.text), datatype=XSD.integer)))
    for index, document in enumerate(r.documents_reviewed, start=1):
        node = m.fact(URIRef(f"{letter}/document/{index}"), IMR.ReviewedDocument, document.text)
        g.add((letter, IMR.documentReviewed, node))
        m.span(node, "document", document.span, document.text)
    # provenance of the graph itself: which run of which software made it from which letter
    activity = URIRef(f"{ID}extraction/{m.key}")
    software = URIRef(f"{ID}software/imrkg/{__version__}")
    g.add((activity, RDF.type, IMR.Extraction))
    g.add((activity, RDFS.label, Literal(f"extraction of {m.key} by imrkg {__version__}")))
    g.add((activity, PROV.used, letter))
    g.add((activity, PROV.wasAssociatedWith, software))
    g.add((software, RDF.type, PROV.SoftwareAgent))
    g.add((software, RDFS.label, Literal(f"imrkg {__version__}")))
    g.add((software, SCHEMA.softwareVersion, Literal(__version__)))
    graph = URIRef(str(g.identifier))
    g.add((graph, PROV.wasGeneratedBy, activity))
    g.add((graph, PROV.wasDerivedFrom, letter))


def _case(m: _Mapper) -> None:
    r, case, g = m.record, m.case, m.graph
    m.fact(case, IMR.IMRCase, f"IMR case {r.case_number or m.key}")
    m.add(case, DCTERMS.identifier, _text(r.case_number))
    m.add(case, IMR.dateAssigned, _date(r.dates.get("assigned")))
    m.add(case, IMR.decisionDate, _date(r.dates.get("decision")))
    m.add(case, IMR.urDenialDate, _date(r.dates.get("ur_denial")))
    m.add(case, IMR.applicationReceivedDate, _date(r.dates.get("application_received")))
    m.add(case, IMR.dateOfInjury, _date(r.injury.date))
    m.add(case, IMR.priority, _text(r.priority))
    for key, field in _DATE_FIELDS.items():
        m.span(case, field, r.spans.get(f"dates.{key}"), r.dates.get(key))
    m.span(case, "priority", r.spans.get("priority"), r.priority)

    worker = m.fact(URIRef(f"{case}/worker"), IMR.InjuredWorker)
    g.add((case, IMR.injuredWorker, worker))
    m.add(worker, IMR.age, _int(r.worker.age))
    m.add(worker, IMR.sex, _text(r.worker.sex))
    m.span(worker, "age", r.worker.spans.get("age"), r.worker.age)
    m.span(worker, "sex", r.worker.spans.get("sex"), r.worker.sex)

    injury = m.fact(URIRef(f"{case}/injury"), IMR.Injury)
    g.add((case, IMR.injury, injury))
    g.add((worker, IMR.sustained, injury))
    m.add(injury, DCTERMS.date, _date(r.injury.date))
    m.add(injury, IMR.mechanism, _text(r.injury.mechanism))
    m.span(injury, "injury_date", r.injury.spans.get("date"), r.injury.date)
    m.span(injury, "mechanism", r.injury.spans.get("mechanism"), r.injury.mechanism)

    for index, diagnosis in enumerate(r.diagnoses, start=1):
        node = m.fact(URIRef(f"{case}/diagnosis/{index}"), IMR.Diagnosis, diagnosis.text)
        g.add((case, IMR.hasDiagnosis, node))
        g.add((node, IMR.diagnosisText, Literal(diagnosis.text)))
        if diagnosis.icd10:
            code = ICD10CM[diagnosis.icd10]
            g.add((node, IMR.icd10Code, code))
            g.add((code, RDF.type, IMR.ICD10Code))
            g.add((code, SCHEMA.codeValue, Literal(diagnosis.icd10)))
            g.add((code, SCHEMA.codingSystem, Literal("ICD-10-CM")))
            m.add(code, RDFS.label, _text(diagnosis.icd10_label))
        m.span(
            node,
            "diagnosis",
            diagnosis.span,
            f"{diagnosis.text} ({diagnosis.icd10})" if diagnosis.icd10 else diagnosis.text,
        )
    for index, prior in enumerate(r.prior_treatments, start=1):
        node = m.fact(URIRef(f"{case}/prior-treatment/{index}"), IMR.PriorTreatment, prior.text)
        g.add((case, IMR.priorTreatment, node))
        m.add(node, IMR.treatment, _iri(prior.concept.iri) if prior.concept else None)
        m.span(node, "prior_treatment", prior.span, _with_concept(prior.text, prior.concept))
    for index, medication in enumerate(r.medications, start=1):
        node = m.fact(URIRef(f"{case}/medication/{index}"), IMR.Medication, medication.text)
        g.add((case, IMR.currentMedication, node))
        m.add(node, IMR.treatment, _iri(medication.concept.iri) if medication.concept else None)
        m.span(
            node, "medication", medication.span, _with_concept(medication.text, medication.concept)
        )
    for index, pain in enumerate(r.pain_scores, start=1):
        node = m.fact(URIRef(f"{case}/pain-score/{index}"), IMR.PainScore)
        g.add((case, IMR.painScore, node))
        m.add(node, IMR.painValue, _decimal(pain.value))
        m.add(node, IMR.painHigh, _decimal(pain.high))
        g.add((node, IMR.painScale, Literal(pain.scale, datatype=XSD.integer)))
        m.add(node, IMR.painContext, _text(pain.context))
        m.span(node, "pain_score", pain.span, _pain(pain))

    ur = r.utilization_review
    review = m.fact(URIRef(f"{case}/utilization-review"), IMR.UtilizationReview)
    g.add((case, IMR.utilizationReview, review))
    m.add(review, DCTERMS.date, _date(ur.date))
    m.span(review, "ur_date", ur.spans.get("date"), ur.date)
    for index, action in enumerate(ur.actions, start=1):
        node = m.fact(
            URIRef(f"{review}/action/{index}"),
            IMR.UtilizationReviewAction,
            f"{action.action}: {action.request}",
        )
        g.add((review, IMR.action, node))
        g.add((node, IMR.actionTaken, Literal(action.action)))
        g.add((node, IMR.requestText, Literal(action.request)))
        m.span(node, "ur_action", action.span, f"{action.action}: {action.request}")


def _reviewer(m: _Mapper) -> None:
    r, g = m.record, m.graph
    reviewer = m.fact(URIRef(f"{m.letter}/reviewer"), IMR.Reviewer, "IMR expert reviewer")
    g.add((m.letter, IMR.reviewedBy, reviewer))
    for ref in r.reviewer.licensure_concepts:
        if ref.iri:
            g.add((reviewer, IMR.licensedIn, URIRef(ref.iri)))
        else:
            g.add((reviewer, IMR.licensureText, Literal(ref.label)))
    for ref in r.reviewer.specialty_concepts:
        m.add(reviewer, IMR.specialty, _iri(ref.iri))
        g.add((reviewer, IMR.specialtyText, Literal(ref.text or ref.label)))
    m.span(
        reviewer,
        "licensure",
        r.reviewer.spans.get("licensure"),
        ", ".join(ref.label for ref in r.reviewer.licensure_concepts),
    )
    m.span(
        reviewer,
        "specialty",
        r.reviewer.spans.get("specialties"),
        ", ".join(ref.label for ref in r.reviewer.specialty_concepts),
    )


def similarity_keys(
    item: str, treatment: str, regions: Iterable[str], codes: Iterable[str]
) -> tuple[list[str], int]:
    """The keys that similar-cases finds an item by, and the item's sampling level.

    The keys are its treatment concept with each body region it names, with the category
    (first three characters) of each ICD-10-CM code of its case, and alone ("any"). Two items
    share a region or a diagnosis category exactly when they share its key.

    The sampling level is half the number of trailing zero bits of a hash of the item's IRI,
    at most :data:`SIMILARITY_LEVELS`: about one item in 4**l has level l or more. An item
    states each key with imr:similarityKey and again with imr:similarityKeyLevel1 up to its
    level, so that similar-cases can read a key's items at the level that holds a few dozen
    of them, whatever the size of the store (the items per key are counted in the cells).

    >>> item = "https://w3id.org/imr-kg/id/letter/CM00-00001/item/1"
    >>> keys, level = similarity_keys(item, VOCAB + "treatment/acupuncture",
    ...                               [VOCAB + "body-region/lumbar-spine"], ["M54.16", "M54.5"])
    >>> keys  # doctest: +NORMALIZE_WHITESPACE
    ['treatment/acupuncture|any', 'treatment/acupuncture|body-region/lumbar-spine',
     'treatment/acupuncture|icd10-category/M54']
    >>> 0 <= level <= SIMILARITY_LEVELS
    True
    """
    concept = treatment.removeprefix(VOCAB)
    keys = {f"{concept}|any"}
    keys.update(f"{concept}|{region.removeprefix(VOCAB)}" for region in regions)
    keys.update(f"{concept}|icd10-category/{code[:3]}" for code in codes)
    digest = int.from_bytes(hashlib.sha256(item.encode()).digest()[:8], "big")
    zeros = (digest & -digest).bit_length() - 1 if digest else 64
    return sorted(keys), min(zeros // 2, SIMILARITY_LEVELS)


def _item(m: _Mapper, item: Item, index: int) -> None:
    g = m.graph
    label = item.partial.disputed if item.partial and item.partial.disputed else item.request
    node = m.fact(URIRef(f"{m.letter}/item/{index}"), IMR.DisputedItem, label)
    g.add((m.letter, IMR.hasItem, node))
    g.add((node, IMR.itemNumber, Literal(index, datatype=XSD.integer)))
    g.add((node, IMR.requestText, Literal(item.request)))
    m.add(node, IMR.headingText, _text(item.heading))
    g.add((node, IMR.outcome, URIRef(f"{VOCAB}outcome/{item.outcome}")))
    m.span(node, "item", item.spans.get("heading") or item.span, label)
    m.span(node, "outcome", item.spans.get("outcome"), item.outcome)
    m.span(node, "request", item.spans.get("request"), item.request)
    treatment = item.treatment
    if treatment is not None:
        m.add(node, IMR.treatment, _iri(treatment.iri))
        g.add((node, IMR.treatmentText, Literal(treatment.text or treatment.label)))
        m.span(node, "treatment", treatment.span, treatment.label)
    m.add(node, IMR.quantity, _int(item.quantity))
    m.span(node, "quantity", item.spans.get("quantity"), item.quantity)
    if item.exceeds_guideline_limit():
        # stated here, once per letter, so that over-guideline-limit reads these few items
        # instead of walking every item's treatment up to its limits at query time
        g.add((node, IMR.exceedsGuidelineLimit, Literal(True)))
    if treatment is not None and treatment.iri:
        regions = [region.iri for region in item.body_regions if region.iri]
        codes = [diagnosis.icd10 for diagnosis in m.record.diagnoses if diagnosis.icd10]
        keys, level = similarity_keys(str(node), treatment.iri, regions, codes)
        for key in keys:
            g.add((node, IMR.similarityKey, Literal(key)))
            for sampled in range(1, level + 1):
                g.add((node, IMR[f"similarityKeyLevel{sampled}"], Literal(key)))
    for number, region in enumerate(item.body_regions, start=1):
        mention = m.fact(URIRef(f"{node}/region/{number}"), IMR.BodyRegionMention, region.text)
        g.add((node, IMR.regionMention, mention))
        if region.iri:
            g.add((node, IMR.bodyRegion, URIRef(region.iri)))
            g.add((mention, IMR.bodyRegion, URIRef(region.iri)))
        if region.laterality:
            g.add((mention, IMR.laterality, URIRef(f"{VOCAB}laterality/{region.laterality}")))
        m.span(
            mention,
            "body_region",
            region.span,
            f"{region.label} ({region.laterality})" if region.laterality else region.label,
        )
    if item.frequency is not None:
        m.add(node, IMR.frequencyPerWeek, _decimal(item.frequency.per_week))
        m.add(node, IMR.frequencyText, _text(item.frequency.text))
        m.span(node, "frequency", item.frequency.span, _per_week(item.frequency.per_week))
    if item.duration is not None:
        m.add(node, IMR.durationWeeks, _decimal(item.duration.weeks))
        m.add(node, IMR.durationText, _text(item.duration.text))
        m.span(node, "duration", item.duration.span, _weeks(item.duration.weeks))
    if item.dosage is not None:
        dosage = m.fact(URIRef(f"{node}/dosage"), IMR.Dosage, item.dosage.drug)
        g.add((node, IMR.dosage, dosage))
        m.add(dosage, IMR.strength, _text(item.dosage.strength))
        m.add(dosage, IMR.strengthValue, _decimal(item.dosage.strength_value))
        m.add(dosage, IMR.strengthUnit, _text(item.dosage.strength_unit))
        m.add(dosage, IMR.unitCount, _int(item.dosage.count))
        m.span(dosage, "dosage", item.dosage.span, _dosage(item.dosage))
    if item.partial is not None:
        p = item.partial
        partial = m.fact(URIRef(f"{node}/partial-authorization"), IMR.PartialAuthorization)
        g.add((node, IMR.partialAuthorization, partial))
        g.add((partial, IMR.partialForm, Literal(p.form)))
        m.add(partial, IMR.requestedText, _text(p.requested))
        m.add(partial, IMR.requestedQuantity, _int(p.requested_quantity))
        m.add(partial, IMR.authorizedText, _text(p.authorized))
        m.add(partial, IMR.authorizedQuantity, _int(p.authorized_quantity))
        m.add(partial, IMR.disputedText, _text(p.disputed))
        m.add(partial, IMR.disputedQuantity, _int(p.disputed_quantity))
        for field in ("requested", "authorized", "disputed"):
            m.span(partial, field, p.spans.get(field), getattr(p, field))
    _citations(m, node, "ca", item.ca_guidelines)
    _citations(m, node, "imr", item.imr_guidelines)
    m.add(node, IMR.guidelineReliance, _text(item.imr_guideline_reliance))
    m.span(
        node,
        "guideline_reliance",
        item.spans.get("imr_guideline_reliance"),
        item.imr_guideline_reliance,
    )
    if item.rationale:
        g.add((node, IMR.rationale, Literal(item.rationale)))
        m.span(node, "rationale", item.spans.get("rationale"), item.outcome)
    for number, reason in enumerate(item.reason_evidence, start=1):
        if not reason.iri:
            continue
        g.add((node, IMR.reason, URIRef(reason.iri)))
        statement = m.fact(URIRef(f"{node}/reason/{number}"), IMR.ReasonStatement, reason.label)
        g.add((node, IMR.reasonStatement, statement))
        g.add((statement, IMR.reason, URIRef(reason.iri)))
        m.span(statement, "reason", reason.span, reason.label)


def _citations(m: _Mapper, item: URIRef, who: str, citations: Iterable[GuidelineCitation]) -> None:
    g = m.graph
    for number, cited in enumerate(citations, start=1):
        node = m.fact(URIRef(f"{item}/citation/{who}/{number}"), IMR.GuidelineCitation, cited.text)
        g.add((item, IMR.citation, node))
        g.add((node, IMR.citedBy, CLAIMS_ADMINISTRATOR if who == "ca" else IMR_REVIEWER))
        m.add(node, IMR.citesGuideline, _iri(cited.guideline_iri))
        m.add(node, IMR.editionYear, _int(cited.edition))
        m.add(node, IMR.citesChapter, _iri(cited.chapter_iri))
        m.add(node, IMR.pages, _text(cited.pages))
        m.add(node, IMR.citationText, _text(cited.text))
        if cited.section:
            section = section_iri(cited.guideline, cited.edition, cited.chapter_iri, cited.section)
            g.add((node, IMR.citesSection, section))
            g.add((section, RDF.type, IMR.GuidelineSection))
            g.add((section, RDFS.label, Literal(cited.section)))
            m.add(section, IMR.sectionOf, _iri(cited.chapter_iri) or _iri(cited.guideline_iri))
            m.add(section, IMR.editionYear, _int(cited.edition))
        m.span(node, "citation", cited.span, _citation(cited))
