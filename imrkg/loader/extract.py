"""From a letter file to its :class:`~imrkg.record.LetterRecord`.

:func:`extract_letter` reads the file, normalizes its text, finds its layout
and sections, and fills the record: header fields, reviewer, worker, injury,
the case summary's diagnoses, treatments, medications, pain scores and
utilization review, and each disputed item with its treatment concept,
quantity, regions, partial authorization, guideline citations, rationale and
reasons. Every value carries the span of the words it was read from.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import rdflib

from imrkg import __version__
from imrkg.errors import LetterError
from imrkg.loader import citation, icd10, request, summary
from imrkg.loader.layout import REFLOW_RULES, Field, ItemBlock, LetterLayout, parse_layout
from imrkg.loader.read import NormalizedText, normalize, read_document
from imrkg.loader.reasons import decide_reasons
from imrkg.loader.values import parse_date
from imrkg.loader.vocab import IMR, SCHEMES, Concept, Match, known_words, load_vocabulary, matcher
from imrkg.record import (
    BodyRegion,
    ConceptRef,
    Diagnosis,
    Dosage,
    Duration,
    Frequency,
    GuidelineCitation,
    Item,
    LetterRecord,
    Medication,
    Mention,
    PainScore,
    PartialAuthorization,
    PriorTreatment,
    Reason,
    Reviewer,
    Treatment,
    UtilizationReview,
    UtilizationReviewAction,
    Worker,
    counts_units,
)

OUTCOME_BASE = SCHEMES["outcome"] + "/"
_PHARMACEUTICAL = SCHEMES["treatment"] + "/pharmaceutical"


def extract_letter(path: str | Path) -> LetterRecord:
    """Read one letter file into its record (raises :class:`~imrkg.errors.LetterError`)."""
    document = read_document(path)
    text = normalize(document, REFLOW_RULES, known_words(), icd10.description_words())
    layout = parse_layout(text)
    check_complete(text, layout)
    return build_record(text, layout)


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


def check_complete(nt: NormalizedText, layout: LetterLayout) -> None:
    """Raise :class:`LetterError` when the letter stops inside its last item.

    Every item of a whole letter ends with its decision rationale, and the
    rationale with a full sentence ("... is not medically necessary."): so it
    is in all the real letters. A last item without a rationale, or whose
    rationale breaks off mid-sentence, is a truncated file. (A letter cut
    exactly between two sentences cannot be told from a whole one.)
    """
    last = layout.items[-1]
    where = f"item {last.number} ({_shorten(last.request.value)})"
    if last.rationale is None:
        raise LetterError(nt.document.path, f"truncated letter: {where} has no decision rationale")
    if not _SENTENCE_END.search(last.rationale.value):
        raise LetterError(
            nt.document.path,
            f"truncated letter: the rationale of {where} stops mid-sentence "
            f"('{_shorten(last.rationale.value, left=True)}')",
        )


def _shorten(text: str, width: int = 40, left: bool = False) -> str:
    """The text on one line, cut to its first (or, ``left``, last) ``width`` characters."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return "..." + text[-width:] if left else text[:width] + "..."


def build_record(nt: NormalizedText, layout: LetterLayout) -> LetterRecord:
    """Fill a record from a letter's normalized text and layout."""
    record = LetterRecord(
        source=nt.document.path,
        layout=layout.name,
        text=nt.text,
        pages=len(nt.document.pages),
        source_sha256=hashlib.sha256(nt.document.text.encode("utf-8")).hexdigest(),
        extractor=f"imrkg {__version__}",
    )
    _header(nt, layout, record)
    record.reviewer = _reviewer(nt, layout)
    summary_field = layout.sections.get("summary")
    if summary_field is not None:
        _case_summary(nt, summary_field, record)
    record.documents_reviewed = [
        Mention(f.value, nt.span(f.start, f.end)) for f in layout.documents
    ]
    record.items = [_item(nt, block) for block in layout.items]
    outcomes = {item.outcome for item in record.items}
    record.outcome = (
        "Upheld"
        if outcomes == {"upheld"}
        else "Overturned"
        if outcomes == {"overturned"}
        else "Partially Overturned"
    )
    if record.utilization_review.date is None and record.dates.get("ur_denial"):
        record.utilization_review.date = record.dates["ur_denial"]
        if "ur_denial" in record.spans:
            record.utilization_review.spans["date"] = record.spans["ur_denial"]
    return record


# ----------------------------------------------------------------- header


def _header(nt: NormalizedText, layout: LetterLayout, record: LetterRecord) -> None:
    header = layout.header
    case = header.get("case_number")
    if case is not None:
        record.case_number = case.value
        record.spans["case_number"] = nt.span(case.start, case.end)
    for key in ("assigned", "decision", "ur_denial", "application_received"):
        f = header.get(key)
        if f is not None:
            record.dates[key] = parse_date(f.value)
            record.spans[f"dates.{key}"] = nt.span(f.start, f.end)
    injury = header.get("injury")
    if injury is not None and parse_date(injury.value):
        record.injury.date = parse_date(injury.value)
        record.injury.spans["date"] = nt.span(injury.start, injury.end)
    priority = header.get("priority")
    if priority is not None:
        record.priority = priority.value.capitalize()
        record.spans["priority"] = nt.span(priority.start, priority.end)


# --------------------------------------------------------------- reviewer


@cache
def _specialty_labels() -> dict[str, Concept]:
    labels: dict[str, Concept] = {}
    for concept in load_vocabulary().in_scheme("specialty"):
        for label in concept.labels:
            labels.setdefault(" ".join(label.lower().split()), concept)
    return labels


def _specialty(text: str) -> Concept | None:
    """The specialty an entry names, tolerating typos ('Sports Medicinea')."""
    found = matcher("specialty").find_all(text)
    if found and (found[0].end - found[0].start) >= 0.6 * len(text.strip()):
        return found[0].concept
    labels = _specialty_labels()
    close = difflib.get_close_matches(
        " ".join(text.lower().split()), list(labels), n=1, cutoff=0.85
    )
    return labels[close[0]] if close else None


def _concept_ref(
    concept: Concept | None, text: str, nt: NormalizedText, start: int, end: int
) -> ConceptRef:
    label = concept.label if concept is not None else " ".join(text.split())
    return ConceptRef(
        label, concept.iri if concept else None, " ".join(text.split()), nt.span(start, end)
    )


def _reviewer(nt: NormalizedText, layout: LetterLayout) -> Reviewer:
    reviewer = Reviewer()
    text = nt.text
    licensure: list[tuple[int, int]] = []
    specialties: list[tuple[int, int]] = []
    if layout.licensure is not None:
        licensure = summary.split_on(
            text, layout.licensure.start, layout.licensure.end, r",|;|\s+and\s+"
        )
        reviewer.spans["licensure"] = nt.span(layout.licensure.start, layout.licensure.end)
    if layout.specialties is not None:
        specialties = summary.split_on(
            text, layout.specialties.start, layout.specialties.end, r",|;"
        )
        reviewer.spans["specialties"] = nt.span(layout.specialties.start, layout.specialties.end)
    prose = layout.credentials_prose
    if prose is not None and (not licensure or not specialties):
        match = re.search(
            r"\bin\s+(?P<spec>.+?)\s+(?:and\s+)?(?:is\s+)?licensed\s+to\s+practice\s+in\s+(?P<states>.+)$",
            text[prose.start : prose.end],
            re.I | re.S,
        )
        if match:
            if not specialties:
                s, e = prose.start + match.start("spec"), prose.start + match.end("spec")
                found = matcher("specialty").find_all(text, s, e)
                specialties = [(m.start, m.end) for m in found] or summary.split_on(
                    text, s, e, r",|\s+and\s+"
                )
                reviewer.spans["specialties"] = nt.span(s, e)
            if not licensure:
                s, e = prose.start + match.start("states"), prose.start + match.end("states")
                licensure = summary.split_on(text, s, e, r",|\s+and\s+")
                reviewer.spans["licensure"] = nt.span(s, e)
    states = matcher("us-state")
    for s, e in licensure:
        found = states.find_all(text, s, e)
        ref = _concept_ref(found[0].concept if found else None, text[s:e], nt, s, e)
        if ref.label not in reviewer.licensure:
            reviewer.licensure.append(ref.label)
            reviewer.licensure_concepts.append(ref)
    for s, e in specialties:
        # The letter's words are kept (they say "Pain Medicine" where the DWC list says
        # "Pain Management"); the concept they name goes alongside. An entry that runs
        # on past the specialty it starts with ("Pain Medicine The reviewer has been...")
        # is cut back to it.
        found = matcher("specialty").find_all(text, s, e)
        if found and found[0].start == s and len(text[found[0].end : e].split()) > 2:
            e = found[0].end
        words = " ".join(text[s:e].split())
        if words not in reviewer.specialties:
            reviewer.specialties.append(words)
            reviewer.specialty_concepts.append(_concept_ref(_specialty(words), words, nt, s, e))
    return reviewer


# ----------------------------------------------------------- case summary


def _case_summary(nt: NormalizedText, section: Field, record: LetterRecord) -> None:
    text, start, end = nt.text, section.start, section.end
    age, sex = summary.age_and_sex(text, start, end)
    worker = Worker()
    if age is not None and 14 <= int(age.text) <= 100:
        worker.age = int(age.text)
        worker.spans["age"] = nt.span(age.start, age.end)
    if sex is not None:
        worker.sex = "female" if sex.text == "female" else "male"
        worker.spans["sex"] = nt.span(sex.start, sex.end)
    record.worker = worker
    if record.injury.date is None:
        injury_date = summary.injury_date(text, start, end)
        if injury_date is not None:
            record.injury.date = injury_date.text
            record.injury.spans["date"] = nt.span(injury_date.start, injury_date.end)
    mechanism = summary.mechanism(text, start, end)
    if mechanism is not None:
        record.injury.mechanism = mechanism.text
        record.injury.spans["mechanism"] = nt.span(mechanism.start, mechanism.end)
    for found in summary.diagnoses(text, start, end):
        code = icd10.code_for(found.text)
        record.diagnoses.append(
            Diagnosis(
                found.text,
                code[0] if code else None,
                code[1] if code else None,
                nt.span(found.start, found.end),
            )
        )
    treatments = matcher("treatment")
    for found in summary.prior_treatments(text, start, end):
        match = treatments.first(text, found.start, found.end)
        record.prior_treatments.append(
            PriorTreatment(found.text, _match_ref(nt, match), nt.span(found.start, found.end))
        )

    def is_drug(s: int, e: int) -> bool:
        return any(_drug_class(m.concept.iri) is not None for m in treatments.find_all(text, s, e))

    for found in summary.medications(text, start, end, is_drug):
        match = treatments.first(text, found.start, found.end)
        record.medications.append(
            Medication(found.text, _match_ref(nt, match), nt.span(found.start, found.end))
        )
    for pain in summary.pain_scores(text, start, end):
        record.pain_scores.append(
            PainScore(pain.value, 10, pain.high, pain.context, nt.span(pain.start, pain.end))
        )
    ur = summary.utilization_review(text, start, end)
    review = UtilizationReview()
    if ur.date is not None:
        review.date = ur.date.text
        review.spans["date"] = nt.span(ur.date.start, ur.date.end)
    review.actions = [
        UtilizationReviewAction(action, found.text, nt.span(found.start, found.end))
        for action, found in ur.actions
    ]
    record.utilization_review = review


def _match_ref(nt: NormalizedText, match: Match | None) -> ConceptRef | None:
    if match is None:
        return None
    return ConceptRef(
        match.concept.label,
        match.concept.iri,
        nt.text[match.start : match.end],
        nt.span(match.start, match.end),
    )


# ------------------------------------------------------------------ items


def _item(nt: NormalizedText, block: ItemBlock) -> Item:
    text = nt.text
    raw_request = request.Piece(
        text[block.request.start : block.request.end], block.request.start, block.request.end
    )
    decided = request.decided_request(raw_request)
    piece = decided.decided
    outcome = "overturned" if block.outcome.value.lower().startswith("overturn") else "upheld"
    item = Item(
        request=block.request.value,
        outcome=outcome,  # type: ignore[arg-type]
        number=block.number,
        heading=block.heading.value,
        span=nt.span(block.start, block.end),
    )
    item.spans["heading"] = nt.span(block.heading.start, block.heading.end)
    item.spans["request"] = nt.span(block.request.start, block.request.end)
    item.spans["outcome"] = nt.span(block.outcome.start, block.outcome.end)
    item.spans["decided"] = nt.span(piece.start, piece.end)

    treatment_match = matcher("treatment").first(text, piece.start, piece.end)
    item.treatment = _treatment(nt, treatment_match, piece)
    item.body_regions = _regions(nt, piece)

    quantity = request.read_quantity(piece.text)
    if quantity.value is not None:
        item.quantity = quantity.value
        item.spans["quantity"] = nt.span(piece.start + quantity.start, piece.start + quantity.end)
    frequency = request.read_frequency(piece.text)
    if frequency is not None:
        item.frequency = Frequency(
            frequency.high,
            frequency.period,
            request.per_week(frequency),
            " ".join(piece.text[frequency.start : frequency.end].split()),
            nt.span(piece.start + frequency.start, piece.start + frequency.end),
        )
    duration = request.read_duration(piece.text[frequency.end :] if frequency else piece.text)
    if duration is not None:
        offset = piece.start + (frequency.end if frequency else 0)
        item.duration = Duration(
            duration.high,
            duration.period,
            request.in_weeks(duration),
            " ".join(text[offset + duration.start : offset + duration.end].split()),
            nt.span(offset + duration.start, offset + duration.end),
        )
    item.dosage = _dosage(nt, piece, item, quantity)
    if decided.form is not None:
        item.partial = _partial(nt, decided, item.quantity)

    for key, f, cited_by in (
        ("ca_guideline", block.ca_guideline, "claims_administrator"),
        ("imr_guideline", block.imr_guideline, "imr_reviewer"),
    ):
        if f is None:
            continue
        item.spans[key] = nt.span(f.start, f.end)
        citations = _citations(nt, f, cited_by)
        if cited_by == "claims_administrator":
            item.ca_guidelines = citations
        else:
            item.imr_guidelines = citations
    if block.reliance is not None:
        item.imr_guideline_reliance = block.reliance.value
        item.spans["imr_guideline_reliance"] = nt.span(block.reliance.start, block.reliance.end)
    rationale_text = ""
    if block.rationale is not None:
        item.rationale = block.rationale.value
        item.spans["rationale"] = nt.span(block.rationale.start, block.rationale.end)
        rationale_text = text[block.rationale.start : block.rationale.end]
    lineage = (
        [item.treatment.iri, *item.treatment.broader]
        if item.treatment and item.treatment.iri
        else []
    )
    codes, evidence = decide_reasons(
        rationale_text,
        OUTCOME_BASE + outcome,
        lineage,
        item.exceeds_guideline_limit(),
        (block.request.value, piece.text),
    )
    item.reasons = codes
    base = block.rationale.start if block.rationale is not None else 0
    reasons_by_code = {c.notation: c for c in load_vocabulary().in_scheme("reason")}
    for code in codes:
        concept = reasons_by_code.get(code)
        stated = [e for e in evidence if e.code == code]
        first = stated[0] if stated else None
        item.reason_evidence.append(
            Reason(
                code,
                concept.iri if concept else None,
                concept.label if concept else None,
                " ".join(rationale_text[first.start : first.end].split()) if first else None,
                nt.span(base + first.start, base + first.end) if first else None,
            )
        )
    return item


def _leading_phrase(text: str) -> str:
    """The words naming the service when no vocabulary concept does ('Deprizine (unknown quantity)')."""
    head = re.split(r"\s*(?:\(|,|;|#|\bfor\b|\bto\b|\bof the\b|\bx\s*\d|\d)", text, maxsplit=1)[0]
    return " ".join(head.split()) or " ".join(text.split())


def _treatment(nt: NormalizedText, match: Match | None, piece: request.Piece) -> Treatment:
    if match is None:
        return Treatment(
            label=_leading_phrase(piece.text),
            text=" ".join(piece.text.split()),
            span=nt.span(piece.start, piece.end),
        )
    vocabulary = load_vocabulary()
    concept = match.concept
    ancestors = vocabulary.ancestors(concept.iri)
    category = vocabulary.inherited(concept.iri, IMR.dwcCategory)
    category_concept = vocabulary.concepts.get(str(category)) if category is not None else None
    drug_class = _drug_class(concept.iri)
    limit, unit = _guideline_limit(concept.iri, ancestors)
    return Treatment(
        label=concept.label,
        iri=concept.iri,
        text=nt.text[match.start : match.end],
        broader=ancestors,
        dwc_category=category_concept.label if category_concept else None,
        dwc_category_iri=str(category) if category is not None else None,
        drug_class=drug_class,
        guideline_limit=limit,
        guideline_limit_unit=unit,
        span=nt.span(match.start, match.end),
    )


def _drug_class(iri: str) -> str | None:
    """The label of a drug's class (the concept right under 'pharmaceutical'), None for non-drugs."""
    vocabulary = load_vocabulary()
    lineage = [iri, *vocabulary.ancestors(iri)]
    if _PHARMACEUTICAL not in lineage:
        return None
    index = lineage.index(_PHARMACEUTICAL)
    return vocabulary.concepts[lineage[index - 1]].label if index >= 1 else None


def _guideline_limit(iri: str, ancestors: Iterable[str]) -> tuple[int | None, str | None]:
    """The guideline limit of the concept or, failing that, of its nearest limited ancestor:
    the largest maximum among its limits, preferring those that count visits."""
    graph = load_vocabulary().graph
    for node in (iri, *ancestors):
        limits = []
        for limit in graph.objects(rdflib.URIRef(node), IMR.guidelineLimit):
            maximum = graph.value(limit, IMR.limitMax)
            unit = graph.value(limit, IMR.limitUnit)
            if maximum is not None:
                limits.append((int(str(maximum)), str(unit) if unit is not None else "visit"))
        if limits:
            counted = [lim for lim in limits if counts_units(lim[1])]
            return max(counted or limits)
    return None, None


@cache
def _lateralized() -> frozenset[str]:
    graph = load_vocabulary().graph
    return frozenset(str(s) for s, o in graph.subject_objects(IMR.lateralized) if str(o) == "true")


def _regions(nt: NormalizedText, piece: request.Piece) -> list[BodyRegion]:
    """The regions a request names, each once per side, with the side it gives them.

    A side word stands right before its region ('right knee'), or is fused with
    it ('RUE'); a side carries over a list of paired regions ('left hip and knee').
    """
    text = nt.text
    sides = matcher("laterality").find_all(text, piece.start, piece.end)
    lateralized = _lateralized()
    seen: dict[str, BodyRegion] = {}
    previous: tuple[str | None, int] | None = None
    found = matcher("body-region").find_all(text, piece.start, piece.end)
    for index, match in enumerate(found):
        floor = found[index - 1].end if index else piece.start
        side = next(
            (
                m.concept.label.lower()
                for m in reversed(sides)
                if (m.start, m.end) == (match.start, match.end)
                or (
                    floor <= m.start
                    and m.end <= match.start
                    and len(text[m.end : match.start].split()) <= 2
                )
            ),
            None,
        )
        if (
            side is None
            and previous is not None
            and match.concept.iri in lateralized
            and re.fullmatch(r"\s*(?:,|and|&|/|or)?\s*(?:and\s+)?", text[previous[1] : match.start])
        ):
            side = previous[0]
        named = seen.get(match.concept.iri)
        if named is None:
            seen[match.concept.iri] = BodyRegion(
                match.concept.label,
                match.concept.iri,
                side,
                text[match.start : match.end],
                nt.span(match.start, match.end),
            )
        elif side is not None and named.laterality != side:
            # the same region named again: "cervical ... at left C5-C6", "right knee and left knee"
            named.laterality = side if named.laterality is None else "bilateral"
        previous = (side, match.end)
    return list(seen.values())


def _dosage(
    nt: NormalizedText, piece: request.Piece, item: Item, quantity: request.Quantity
) -> Dosage | None:
    strength = request.read_strength(piece.text)
    is_drug = item.treatment is not None and item.treatment.drug_class is not None
    if strength is None and not is_drug:
        return None
    count = quantity.value if quantity.rule in ("hash", "qty", "units") else None
    if strength is None:
        if count is None:
            return None
        return Dosage(
            item.treatment.label if item.treatment else piece.text,
            None,
            None,
            None,
            count,
            nt.span(piece.start, piece.end),
        )
    return Dosage(
        item.treatment.label if item.treatment else _leading_phrase(piece.text),
        strength.text,
        strength.value,
        strength.unit,
        count,
        nt.span(piece.start + strength.start, piece.start + strength.end),
    )


def _partial(
    nt: NormalizedText, decided: request.DecidedRequest, quantity: int | None
) -> PartialAuthorization:
    partial = PartialAuthorization(decided.form)  # type: ignore[arg-type]
    if decided.requested is not None:
        partial.requested = decided.requested.text
        partial.requested_quantity = request.read_quantity(decided.requested.text).value
        partial.spans["requested"] = nt.span(decided.requested.start, decided.requested.end)
    if decided.authorized is not None:
        partial.authorized = decided.authorized.text
        partial.authorized_quantity = request.read_quantity(decided.authorized.text).value
        partial.spans["authorized"] = nt.span(decided.authorized.start, decided.authorized.end)
    partial.disputed = " ".join(decided.decided.text.split())
    partial.disputed_quantity = quantity
    partial.spans["disputed"] = nt.span(decided.decided.start, decided.decided.end)
    return partial


def _citations(nt: NormalizedText, f: Field, cited_by: str) -> list[GuidelineCitation]:
    line = nt.text[f.start : f.end]
    out = []
    for cited in citation.read_citations(line):
        end = max(cited.end, cited.start)
        out.append(
            GuidelineCitation(
                guideline=cited.guideline,
                cited_by=cited_by,  # type: ignore[arg-type]
                guideline_iri=cited.guideline_iri,
                edition=cited.edition,
                chapter=cited.chapter,
                chapter_iri=cited.chapter_iri,
                section=cited.section,
                pages=cited.pages,
                text=" ".join(line[cited.start : end].split()) or None,
                span=nt.span(f.start + cited.start, f.start + end),
            )
        )
    return out
