"""The letter record: what one IMR determination letter says, as data.

A :class:`LetterRecord` holds the fields of the contract in
``../shared/corpus/README.md`` (source, case number, dates, reviewer, worker,
injury, diagnoses, prior treatments, items) and what users of IMR decisions
need beyond it (letter outcome, utilization review, medications, pain scores,
documents reviewed, partial authorizations, frequency, duration, dosage,
guideline editions, chapters and sections, rationales, reasons).

Every extracted value carries a :class:`Span`: its place in the letter's
normalized text (``record.text``) and in the source (page and offset). Objects
carry their own ``span``; their scalar fields carry theirs in ``spans``, keyed
by field name.

Records go to and from JSON with :func:`record_to_json` and
:func:`record_from_json`; a round trip gives an equal record.

>>> span = Span(start=0, end=5, page=1, source_start=3, source_end=8)
>>> rec = LetterRecord(source="x.txt", layout="headerless", text="hello")
>>> rec.items.append(Item(request="Acupuncture x 6", outcome="upheld", span=span))
>>> record_from_json(record_to_json(rec)) == rec
True
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin

Outcome = Literal["upheld", "overturned"]
CitedBy = Literal["claims_administrator", "imr_reviewer"]


@dataclass(frozen=True)
class Span:
    """Where a value stands: ``[start, end)`` in the normalized text, and the
    same stretch in the source text (the pages' text joined by form feeds),
    with the 1-based page on which it starts."""

    start: int
    end: int
    page: int
    source_start: int
    source_end: int

    def quote(self, text: str) -> str:
        """The exact normalized text behind the span."""
        return text[self.start : self.end]


@dataclass
class Mention:
    """A stretch of letter text kept as it is (a document reviewed, a mechanism of injury)."""

    text: str
    span: Span | None = None


@dataclass
class Diagnosis:
    """A condition the case summary names as a diagnosis, with its ICD-10-CM
    code where the words determine the code."""

    text: str
    icd10: str | None = None
    icd10_label: str | None = None
    span: Span | None = None


@dataclass
class ConceptRef:
    """A vocabulary concept found in the text: its IRI, its label, the words that named it."""

    label: str
    iri: str | None = None
    text: str | None = None
    span: Span | None = None


@dataclass
class PriorTreatment:
    """A treatment the worker received before the disputed request."""

    text: str
    concept: ConceptRef | None = None
    span: Span | None = None


@dataclass
class Medication:
    """A medication the case summary says the worker currently takes."""

    text: str
    concept: ConceptRef | None = None
    span: Span | None = None


@dataclass
class PainScore:
    """A pain rating, such as '7/10' or '6 out of 10 on VAS'; ``high`` holds the
    upper end of a range ('6-8 on a 10-point scale')."""

    value: float
    scale: int = 10
    high: float | None = None
    context: str | None = None
    span: Span | None = None


@dataclass
class UtilizationReviewAction:
    """What utilization review did to one request: non-certified, modified, certified, denied."""

    action: str
    request: str
    span: Span | None = None


@dataclass
class UtilizationReview:
    """The utilization review decision under dispute."""

    date: str | None = None
    actions: list[UtilizationReviewAction] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Reviewer:
    """The IMR expert reviewer's credentials."""

    licensure: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    specialty_concepts: list[ConceptRef] = field(default_factory=list)
    licensure_concepts: list[ConceptRef] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Worker:
    """The injured worker, as the case summary describes them."""

    age: int | None = None
    sex: Literal["female", "male"] | None = None
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Injury:
    """The industrial injury: its date and how it happened."""

    date: str | None = None
    mechanism: str | None = None
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Treatment:
    """The normalized treatment concept of a disputed item, with its DWC search
    category and, for drugs, its class."""

    label: str
    iri: str | None = None
    text: str | None = None
    broader: list[str] = field(default_factory=list)
    dwc_category: str | None = None
    dwc_category_iri: str | None = None
    drug_class: str | None = None
    guideline_limit: int | None = None
    guideline_limit_unit: str | None = None
    span: Span | None = None


@dataclass
class BodyRegion:
    """An anatomical region a request names, with its laterality (the lower-cased
    label of a laterality concept: "right", "left" or "bilateral")."""

    label: str
    iri: str | None = None
    laterality: str | None = None
    text: str | None = None
    span: Span | None = None


@dataclass
class GuidelineCitation:
    """One guideline named on a citation line ('Claims Administrator guideline:'
    or 'MAXIMUS guideline:')."""

    guideline: str
    cited_by: CitedBy
    guideline_iri: str | None = None
    edition: int | None = None
    chapter: str | None = None
    chapter_iri: str | None = None
    section: str | None = None
    pages: str | None = None
    text: str | None = None
    span: Span | None = None


@dataclass
class Frequency:
    """How often a service is given: ``times`` per ``period`` ('2 times a week')."""

    times: float
    period: str
    per_week: float | None = None
    text: str | None = None
    span: Span | None = None


@dataclass
class Duration:
    """For how long a service is given ('for 6 weeks')."""

    value: float
    unit: str
    weeks: float | None = None
    text: str | None = None
    span: Span | None = None


@dataclass
class Dosage:
    """A medication request: drug, strength and count ('Ultram 50mg #30')."""

    drug: str
    strength: str | None = None
    strength_value: float | None = None
    strength_unit: str | None = None
    count: int | None = None
    span: Span | None = None


@dataclass
class PartialAuthorization:
    """A request the claims administrator partly authorized before IMR.

    ``form`` is ``remaining_portion`` when only the rest went to IMR, and
    ``original_request`` when the letter decided the whole original request."""

    form: Literal["remaining_portion", "original_request"]
    requested: str | None = None
    requested_quantity: int | None = None
    authorized: str | None = None
    authorized_quantity: int | None = None
    disputed: str | None = None
    disputed_quantity: int | None = None
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class Reason:
    """Why the reviewer decided as it did, as a code of the reason vocabulary,
    with the words of the rationale that state it."""

    code: str
    iri: str | None = None
    label: str | None = None
    evidence: str | None = None
    span: Span | None = None


@dataclass
class Item:
    """One disputed item (a requested service) and the IMR decision on it."""

    request: str
    outcome: Outcome
    number: int = 0
    heading: str | None = None
    treatment: Treatment | None = None
    quantity: int | None = None
    body_regions: list[BodyRegion] = field(default_factory=list)
    frequency: Frequency | None = None
    duration: Duration | None = None
    dosage: Dosage | None = None
    partial: PartialAuthorization | None = None
    ca_guidelines: list[GuidelineCitation] = field(default_factory=list)
    imr_guidelines: list[GuidelineCitation] = field(default_factory=list)
    imr_guideline_reliance: str | None = None
    rationale: str | None = None
    reasons: list[str] = field(default_factory=list)
    reason_evidence: list[Reason] = field(default_factory=list)
    span: Span | None = None
    spans: dict[str, Span] = field(default_factory=dict)

    def exceeds_guideline_limit(self) -> bool:
        """Whether the request asks for more than its treatment's guideline limit: more
        visits, sessions or treatments than a limit that counts them, or a longer time
        (in whole days) than a time limit.

        >>> pt = Treatment("physical therapy", guideline_limit=10, guideline_limit_unit="visit")
        >>> Item("PT x 12", "upheld", treatment=pt, quantity=12).exceeds_guideline_limit()
        True
        >>> tens = Treatment("TENS unit", guideline_limit=1, guideline_limit_unit="month")
        >>> rental = Duration(value=30, unit="day", weeks=30 / 7)
        >>> Item("TENS x 30 days", "upheld", treatment=tens, duration=rental
        ...      ).exceeds_guideline_limit()
        False
        """
        treatment = self.treatment
        if treatment is None:
            return False
        limit, unit = treatment.guideline_limit, treatment.guideline_limit_unit
        if limit is None or unit is None:
            return False
        if counts_units(unit):
            return self.quantity is not None and self.quantity > limit
        duration = self.duration
        if unit in DAYS_PER_UNIT and duration is not None and duration.weeks is not None:
            # whole days: a '30 day trial' is 30/7 weeks, which times 7 is not quite 30 in floats
            return round(duration.weeks * 7) > limit * DAYS_PER_UNIT[unit]
        return False


def counts_units(unit: str) -> bool:
    """Whether a guideline limit's unit counts things given (visits, sessions,
    treatments) rather than a time.

    >>> counts_units("visit"), counts_units("month")
    (True, False)
    """
    return any(word in unit for word in ("visit", "session", "treatment"))


# The days of a time limit's unit, as over-guideline-limit compares durations.
DAYS_PER_UNIT = {"day": 1.0, "week": 7.0, "month": 30.0}


@dataclass
class LetterRecord:
    """Everything extracted from one IMR determination letter."""

    source: str
    layout: str
    case_number: str | None = None
    dates: dict[str, str | None] = field(
        default_factory=lambda: {
            "assigned": None,
            "decision": None,
            "ur_denial": None,
            "application_received": None,
        }
    )
    reviewer: Reviewer = field(default_factory=Reviewer)
    worker: Worker = field(default_factory=Worker)
    injury: Injury = field(default_factory=Injury)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    prior_treatments: list[PriorTreatment] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    outcome: str | None = None
    priority: str | None = None
    medications: list[Medication] = field(default_factory=list)
    pain_scores: list[PainScore] = field(default_factory=list)
    utilization_review: UtilizationReview = field(default_factory=UtilizationReview)
    documents_reviewed: list[Mention] = field(default_factory=list)
    source_sha256: str | None = None
    pages: int = 1
    extractor: str | None = None
    text: str = ""
    spans: dict[str, Span] = field(default_factory=dict)


def record_to_json(record: LetterRecord) -> dict[str, Any]:
    """The record as a JSON-ready dict, contract keys first."""
    return typing.cast(dict[str, Any], _to_json(record))


def _to_json(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


T = TypeVar("T")


def record_from_json(data: dict[str, Any]) -> LetterRecord:
    """Rebuild a record from :func:`record_to_json`'s output (unknown keys are ignored)."""
    return _from_json(LetterRecord, data)


def _from_json(tp: type[T], data: Any) -> T:
    hints = typing.get_type_hints(tp)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(tp):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return tp(**kwargs)


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (inner,) = get_args(tp)
        return [_convert(inner, v) for v in value]
    if origin is dict:
        _, inner = get_args(tp)
        return {k: _convert(inner, v) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _from_json(tp, value)
    return value
