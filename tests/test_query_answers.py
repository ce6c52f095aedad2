"""Every named query, run on the bundled sample letters, against the same figures
computed in Python from the letters' records.

The store is built from the records the samples extract to; the expected answers
are worked out from those records directly, without SPARQL, so that a mistake in a
query (a join that doubles rows, an OPTIONAL that drops or multiplies them, a wrong
grouping) shows up as a difference. One item's treatment is removed before the
build, standing for a request that names no known treatment, so that the
"(uncategorized)" paths are exercised too.
"""

from __future__ import annotations

import copy
import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic

from imrkg.aggregates import refresh
from imrkg.graph import letter_graph, letter_key
from imrkg.loader.vocab import IMR, load_vocabulary
from imrkg.queries import library, run_named
from imrkg.record import Item, LetterRecord
from imrkg.results import Solutions, Triples
from imrkg.store import KnowledgeStore
from tests.conftest import SAMPLE_NAMES, sample_record

COUNTED = ("visit", "session", "treatment")
DAYS_PER = {"day": 1, "week": 7, "month": 30}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def records() -> list[LetterRecord]:
    records = [copy.deepcopy(sample_record(name, "txt")) for name in SAMPLE_NAMES]
    # a request that names no known treatment: the last item of the first letter with several
    for record in records:
        if len(record.items) > 2:
            record.items[-1].treatment = None
            break
    # A second letter naming the same ICD-10-CM codes and guideline sections as another:
    # such shared nodes are described in both letters' graphs, which once made every raw
    # query that read them return a row per letter naming them (regression).
    shared = next(
        r
        for r in records
        if any(d.icd10 for d in r.diagnoses)
        and any(c.section for i in r.items for c in i.imr_guidelines)
    )
    twin = copy.deepcopy(shared)
    twin.case_number = "CM99-0000001"
    records.append(twin)
    return records


@pytest.fixture(scope="module")
def store(records: list[LetterRecord], tmp_path_factory: pytest.TempPathFactory) -> KnowledgeStore:
    store = KnowledgeStore(tmp_path_factory.mktemp("answers") / "store")
    store.load_vocabularies()
    for record in records:
        store.replace_graph(letter_graph(record))
    refresh(store)  # the aggregate cells that the aggregate queries read
    return store


def rows(answer: Any) -> list[dict[str, Any]]:
    assert isinstance(answer, Solutions)
    return [{v: answer.column(v)[i] for v in answer.variables} for i in range(len(answer.rows))]


def rate(part: int, whole: int, places: int = 3) -> Decimal:
    """SPARQL's ROUND(10^places * part / whole) / 10^places: halves go up."""
    exact = Fraction(part, whole)
    scaled = Decimal(exact.numerator) / Decimal(exact.denominator)
    return scaled.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def label(iri: str | None) -> str | None:
    return load_vocabulary().concepts[iri].label if iri else None


def lineage(item: Item) -> set[str]:
    t = item.treatment
    return {t.iri, *t.broader} if t is not None and t.iri else set()


def iri_of(label_text: str) -> str:
    for concept in load_vocabulary().in_scheme("treatment"):
        if label_text.lower() in (lab.lower() for lab in concept.labels):
            return concept.iri
    raise AssertionError(label_text)


def dwc(item: Item) -> tuple[str, str]:
    """(category, subcategory) the DWC files an item's treatment under."""
    t = item.treatment
    if t is None or not t.iri:
        return ("(uncategorized)", "")
    category = load_vocabulary().inherited(t.iri, IMR.dwcCategory)
    concept = load_vocabulary().concepts[str(category)]
    if concept.broader:
        return (label(concept.broader[0]) or "", concept.label.split(" / ", 1)[1])
    return (concept.label, "")


def tallies(groups: dict[Any, list[Item]]) -> dict[Any, tuple[int, int, int, Decimal]]:
    out = {}
    for key, items in groups.items():
        upheld = sum(i.outcome == "upheld" for i in items)
        overturned = sum(i.outcome == "overturned" for i in items)
        out[key] = (len(items), upheld, overturned, rate(upheld, len(items)))
    return out


def answer_tallies(answer: Any, keys: Iterable[str]) -> dict[Any, tuple[int, int, int, Decimal]]:
    keys = list(keys)
    out = {}
    for row in rows(answer):
        key = tuple(row[k] for k in keys)
        out[key if len(key) > 1 else key[0]] = (
            row["items"],
            row["upheld"],
            row["overturned"],
            Decimal(str(row["uphold_rate"])),
        )
    return out


def all_items(records: list[LetterRecord]) -> list[tuple[LetterRecord, Item]]:
    return [(r, i) for r in records for i in r.items]


# -------------------------------------------------------------- the library


def test_every_query_is_checked_here() -> None:
    tested = {
        name.removeprefix("test_").replace("_", "-")
        for name in globals()
        if name.startswith("test_") and name != "test_every_query_is_checked_here"
    }
    assert set(library()) <= tested, set(library()) - tested


# ------------------------------------------------------------- the questions


def test_outcomes_by_treatment_category(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for _, item in all_items(records):
        groups[dwc(item)].append(item)
    answer = run_named(store, "outcomes-by-treatment-category")
    assert answer_tallies(answer, ["category", "subcategory"]) == tallies(groups)
    assert ("(uncategorized)", "") in groups
    assert sum(r["items"] for r in rows(answer)) == len(all_items(records))

    opioid = iri_of("opioid")
    narrowed: dict[Any, list[Item]] = defaultdict(list)
    for _, item in all_items(records):
        if opioid in lineage(item):
            narrowed[dwc(item)].append(item)
    assert narrowed
    answer = run_named(store, "outcomes-by-treatment-category", {"treatment": "opioid"})
    assert answer_tallies(answer, ["category", "subcategory"]) == tallies(narrowed)


def test_outcomes_by_treatment(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for _, item in all_items(records):
        if item.treatment is not None and item.treatment.iri:
            groups[label(item.treatment.iri)].append(item)
    assert answer_tallies(run_named(store, "outcomes-by-treatment"), ["treatment"]) == tallies(
        groups
    )
    at_least_two = {k: v for k, v in tallies(groups).items() if v[0] >= 2}
    answer = run_named(store, "outcomes-by-treatment", {"min_items": "2"})
    assert answer_tallies(answer, ["treatment"]) == at_least_two
    assert [r["items"] for r in rows(answer)] == sorted(
        (r["items"] for r in rows(answer)), reverse=True
    )


def test_outcomes_by_specialty(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for record in records:
        names = [label(c.iri) for c in record.reviewer.specialty_concepts if c.iri] or [
            "(not stated)"
        ]
        for name in set(names):
            groups[name].extend(record.items)
    assert answer_tallies(run_named(store, "outcomes-by-specialty"), ["specialty"]) == tallies(
        groups
    )


def test_outcomes_by_guideline(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for _, item in all_items(records):
        keys = set()
        for cited in item.imr_guidelines:
            section = cited.section or (f"page(s) {cited.pages}" if cited.pages else "")
            keys.add(
                (label(cited.guideline_iri), cited.edition, label(cited.chapter_iri) or "", section)
            )
        for key in keys:
            groups[key].append(item)
    answer = run_named(store, "outcomes-by-guideline")
    got = {
        (r["guideline"], r["edition"], r["chapter"], r["section"]): (
            r["items"],
            r["upheld"],
            r["overturned"],
        )
        for r in rows(answer)
    }
    assert got == {k: v[:3] for k, v in tallies(groups).items()}


def test_denial_reasons(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    def expected(keep: set[str] | None) -> dict[str, tuple[int, Decimal]]:
        upheld = [
            i
            for _, i in all_items(records)
            if i.outcome == "upheld" and (keep is None or keep & lineage(i))
        ]
        counts: Counter[str] = Counter()
        for item in upheld:
            names = {r.label for r in item.reason_evidence if r.iri and r.label}
            for name in names or {"(none recognized)"}:
                counts[name] += 1
        return {name: (n, rate(n, len(upheld))) for name, n in counts.items()}

    def got(answer: Any) -> dict[str, tuple[int, Decimal]]:
        return {r["reason"]: (r["items"], Decimal(str(r["share"]))) for r in rows(answer)}

    assert got(run_named(store, "denial-reasons")) == expected(None)
    pt = iri_of("physical therapy")
    assert got(run_named(store, "denial-reasons", {"treatment": "physical therapy"})) == expected(
        {pt}
    )


def _limit_guideline(iri: str, limit: int) -> str:
    """The guideline whose limit on the concept (or its nearest limited ancestor) is ``limit``."""
    vocabulary = load_vocabulary()
    for node in (iri, *vocabulary.ancestors(iri)):
        found = [
            lim
            for lim in vocabulary.graph.objects(rdflib.URIRef(node), IMR.guidelineLimit)
            if int(vocabulary.graph.value(lim, IMR.limitMax)) == limit
        ]
        if found:
            return label(str(vocabulary.graph.value(found[0], IMR.limitSetBy))) or ""
    raise AssertionError((iri, limit))


def test_over_guideline_limit(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    expected = set()
    for record, item in all_items(records):
        t = item.treatment
        if t is None or not t.iri or t.guideline_limit is None or t.guideline_limit_unit is None:
            continue
        unit = t.guideline_limit_unit
        if any(word in unit for word in COUNTED):
            if item.quantity is None or item.quantity <= t.guideline_limit:
                continue
            quantity, shown_unit = Decimal(item.quantity), unit
        elif unit in DAYS_PER and item.duration is not None and item.duration.weeks is not None:
            days = Decimal(round(item.duration.weeks * 7))
            if days <= t.guideline_limit * DAYS_PER[unit]:
                continue
            quantity, shown_unit = days, "day"
        else:
            continue
        expected.add(
            (
                letter_key(record),
                item.number,
                label(t.iri),
                quantity,
                shown_unit,
                t.guideline_limit,
                _limit_guideline(t.iri, t.guideline_limit),
                item.outcome,
            )
        )
    assert expected, "the samples should ask for more than a guideline allows somewhere"
    got = {
        (
            r["case"],
            r["item"],
            r["treatment"],
            Decimal(str(r["quantity"])),
            r["unit"],
            r["limit"],
            r["guideline"],
            r["outcome"],
        )
        for r in rows(run_named(store, "over-guideline-limit"))
    }
    assert got == expected


def test_partial_authorizations(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    expected = [
        (
            letter_key(record),
            item.number,
            item.partial.requested,
            item.partial.authorized,
            item.partial.disputed,
            item.outcome,
            item.partial.requested_quantity,
            item.partial.authorized_quantity,
            item.partial.disputed_quantity,
            item.partial.form,
        )
        for record, item in all_items(records)
        if item.partial is not None
    ]
    assert expected
    got = [tuple(r.values()) for r in rows(run_named(store, "partial-authorizations"))]
    assert got == sorted(expected, key=lambda row: (row[0], row[1]))


def test_overturned_items(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    def expected(keep: set[str] | None) -> set[tuple[Any, ...]]:
        out = set()
        for record, item in all_items(records):
            if item.outcome != "overturned" or (keep is not None and not keep & lineage(item)):
                continue
            t = item.treatment
            name = (
                label(t.iri)
                if t is not None and t.iri
                else (t.text or t.label)
                if t
                else item.request
            )
            cited = frozenset(
                f"{label(c.guideline_iri)}, {c.section}" if c.section else label(c.guideline_iri)
                for c in item.imr_guidelines
            )
            rationale = item.rationale or ""
            excerpt = rationale if len(rationale) <= 300 else rationale[:300] + "..."
            out.add((letter_key(record), item.number, name, cited, excerpt))
        return out

    def got(answer: Any) -> set[tuple[Any, ...]]:
        return {
            (
                r["case"],
                r["item"],
                r["treatment"],
                frozenset(r["guideline"].split(" | ")) if r["guideline"] else frozenset(),
                r["rationale_excerpt"],
            )
            for r in rows(answer)
        }

    assert got(run_named(store, "overturned-items")) == expected(None)
    acupuncture = iri_of("acupuncture")
    assert got(run_named(store, "overturned-items", {"treatment": "acupuncture"})) == expected(
        {acupuncture}
    )


def _similar_pairs(given: LetterRecord, others: Iterable[LetterRecord]) -> list[tuple[Any, ...]]:
    """What similar-cases must answer for a case when every item sharing a treatment is
    compared: the rows, best first, as (-score, for_item, case, item, treatment, regions,
    diagnoses, outcome)."""

    def codes(record: LetterRecord) -> set[str]:
        return {d.icd10[:3] for d in record.diagnoses if d.icd10}

    pairs = []
    for mine in given.items:
        if mine.treatment is None or not mine.treatment.iri:
            continue
        for other in others:
            if letter_key(other) == letter_key(given):
                continue
            for theirs in other.items:
                if theirs.treatment is None or theirs.treatment.iri != mine.treatment.iri:
                    continue
                regions = {r.iri for r in mine.body_regions if r.iri} & {
                    r.iri for r in theirs.body_regions if r.iri
                }
                shared = codes(given) & codes(other)
                pairs.append(
                    (
                        -(2 + len(regions) + len(shared)),
                        mine.number,
                        letter_key(other),
                        theirs.number,
                        label(theirs.treatment.iri),
                        len(regions),
                        len(shared),
                        theirs.outcome,
                    )
                )
    return sorted(pairs, key=lambda p: p[:4])


def _similar_rows(answer: Solutions) -> list[tuple[Any, ...]]:
    return [
        (
            -r["score"],
            r["for_item"],
            r["case"],
            r["item"],
            r["treatment"],
            r["shared_regions"],
            r["shared_diagnoses"],
            r["outcome"],
        )
        for r in rows(answer)
    ]


def test_similar_cases(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    """In a store this small every key is read at level 0: every item of another letter with
    the same treatment is compared."""
    compared = 0
    for given in records:
        if not given.case_number:
            continue
        pairs = _similar_pairs(given, records)
        compared += len(pairs)
        answer = run_named(store, "similar-cases", {"case": given.case_number, "limit": "7"})
        assert _similar_rows(answer) == pairs[:7], given.case_number
    assert compared > 20


def test_similar_cases_compares_a_sample_of_a_crowded_key(tmp_path: Path) -> None:
    """150 letters like one sample: each of its keys is stated by 150 items, so similar-cases
    reads them at level 1 (64 < 150 <= 256), the items stating their keys with
    imr:similarityKeyLevel1 (about one in four), and compares the case with those only."""
    base = sample_record("headerless-opioids", "txt")
    letters = []
    for number in range(150):
        record = copy.deepcopy(base)
        record.case_number = f"CM19-{number:07d}"
        letters.append(record)
    store = KnowledgeStore(tmp_path / "store")
    store.load_vocabularies()
    graphs = [letter_graph(record) for record in letters]
    for graph in graphs:
        store.replace_graph(graph)
    refresh(store)
    given = letters[0]
    sampled = set()  # (case, item number) of the items stating their keys at level 1
    for record, graph in zip(letters, graphs, strict=True):
        for item in set(graph.subjects(IMR.similarityKeyLevel1, None)):
            sampled.add((letter_key(record), int(graph.value(item, IMR.itemNumber))))
    kept = [p for p in _similar_pairs(given, letters) if (p[2], p[3]) in sampled]
    assert 10 < len(kept) < 64 * len(given.items)
    answer = run_named(store, "similar-cases", {"case": given.case_number, "limit": "100000"})
    assert _similar_rows(answer) == kept
    assert len(kept) < len(_similar_pairs(given, letters)) / 2


def test_case(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    for record in records:
        key = letter_key(record)
        listed = [
            (r["subject"], r["property"], r["value"])
            for r in rows(run_named(store, "case", {"case": key}))
        ]
        facts = set(listed)
        assert len(listed) == len(facts), (key, Counter(listed).most_common(3))
        expected = {("letter", "identifier", key)}
        if record.dates.get("decision"):
            expected.add(("case", "decision date", record.dates["decision"]))
        if record.worker.age is not None:
            expected.add(("case/worker", "age", str(record.worker.age)))
        for ref in record.reviewer.specialty_concepts:
            if ref.iri:
                expected.add(("letter/reviewer", "specialty", label(ref.iri)))
        for number, diagnosis in enumerate(record.diagnoses, start=1):
            expected.add((f"case/diagnosis/{number}", "diagnosis text", diagnosis.text))
        for item in record.items:
            subject = f"letter/item/{item.number}"
            expected.add((subject, "item number", str(item.number)))
            expected.add((subject, "outcome", item.outcome))
            expected.add((subject, "request text", item.request))
        assert expected <= facts, (key, expected - facts)
        items_listed = {s for s, p, _ in facts if p == "item number"}
        assert len(items_listed) == len(record.items)


def _spans(record: LetterRecord, number: int | None) -> Counter[tuple[Any, ...]]:
    """(item, field, start, end) of every span the letter's facts carry; the item's only if given."""
    found: Counter[tuple[Any, ...]] = Counter()

    def add(item: int | None, field: str, span: Any) -> None:
        if span is not None and (number is None or item == number):
            found[(item, field, record.text[span.start : span.end], span.start, span.end)] += 1

    if number is None:
        add(None, "case_number", record.spans.get("case_number"))
        for key, field in (
            ("decision", "decision_date"),
            ("ur_denial", "ur_denial_date"),
            ("assigned", "date_assigned"),
            ("application_received", "application_received_date"),
        ):
            add(None, field, record.spans.get(f"dates.{key}"))
        add(None, "priority", record.spans.get("priority"))
        add(None, "age", record.worker.spans.get("age"))
        add(None, "sex", record.worker.spans.get("sex"))
        add(None, "injury_date", record.injury.spans.get("date"))
        add(None, "mechanism", record.injury.spans.get("mechanism"))
        add(None, "licensure", record.reviewer.spans.get("licensure"))
        add(None, "specialty", record.reviewer.spans.get("specialties"))
        add(None, "ur_date", record.utilization_review.spans.get("date"))
        for action in record.utilization_review.actions:
            add(None, "ur_action", action.span)
        for diagnosis in record.diagnoses:
            add(None, "diagnosis", diagnosis.span)
        for prior in record.prior_treatments:
            add(None, "prior_treatment", prior.span)
        for medication in record.medications:
            add(None, "medication", medication.span)
        for pain in record.pain_scores:
            add(None, "pain_score", pain.span)
        for document in record.documents_reviewed:
            add(None, "document", document.span)
    for item in record.items:
        n = item.number
        add(n, "item", item.spans.get("heading") or item.span)
        for key, field in (
            ("outcome", "outcome"),
            ("request", "request"),
            ("quantity", "quantity"),
            ("imr_guideline_reliance", "guideline_reliance"),
        ):
            add(n, field, item.spans.get(key))
        if item.rationale:
            add(n, "rationale", item.spans.get("rationale"))
        if item.treatment is not None:
            add(n, "treatment", item.treatment.span)
        for region in item.body_regions:
            add(n, "body_region", region.span)
        for part in (item.frequency, item.duration, item.dosage):
            if part is not None:
                add(
                    n,
                    {"Frequency": "frequency", "Duration": "duration", "Dosage": "dosage"}[
                        type(part).__name__
                    ],
                    part.span,
                )
        if item.partial is not None:
            for key in ("requested", "authorized", "disputed"):
                add(n, key, item.partial.spans.get(key))
        for cited in (*item.ca_guidelines, *item.imr_guidelines):
            add(n, "citation", cited.span)
        for reason in item.reason_evidence:
            if reason.iri:
                add(n, "reason", reason.span)
    return found


def test_evidence(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    for record in records:
        key = letter_key(record)
        for number in (None, *(item.number for item in record.items)):
            params = {"case": key} if number is None else {"case": key, "item": str(number)}
            answer = rows(run_named(store, "evidence", params))
            got = Counter((r["item"], r["field"], r["quote"], r["start"], r["end"]) for r in answer)
            assert got == _spans(record, number), (key, number)
            assert all(r["value"] for r in answer if r["field"] != "mechanism")
            assert [r["start"] for r in answer] == sorted(r["start"] for r in answer)


def test_ca_vs_imr_citations(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[tuple[str, str, bool], set[tuple[str, int]]] = defaultdict(set)
    for record, item in all_items(records):
        ca = {label(c.guideline_iri) for c in item.ca_guidelines} or {None}
        imr = {label(c.guideline_iri) for c in item.imr_guidelines} or {None}
        for a in ca:
            for b in imr:
                same = a is not None and a == b
                groups[(a or "(none)", b or "(none)", same)].add((letter_key(record), item.number))
    expected = {key: len(items) for key, items in groups.items()}
    got = {
        (r["ca_guideline"], r["imr_guideline"], r["same"]): r["items"]
        for r in rows(run_named(store, "ca-vs-imr-citations"))
    }
    assert got == expected


def test_time_to_decision(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    days: dict[str, list[int]] = defaultdict(list)
    for record in records:
        denied, decided = record.dates.get("ur_denial"), record.dates.get("decision")
        if not denied or not decided:
            continue
        span = (datetime.date.fromisoformat(decided) - datetime.date.fromisoformat(denied)).days
        days["(all letters)"].append(span)
        for category in {dwc(item)[0] for item in record.items} - {"(uncategorized)"}:
            days[category].append(span)
    expected = {
        category: (len(values), rate(sum(values), len(values), 1), min(values), max(values))
        for category, values in days.items()
    }
    got = {
        r["category"]: (r["letters"], Decimal(str(r["mean_days"])), r["min_days"], r["max_days"])
        for r in rows(run_named(store, "time-to-decision"))
    }
    assert got == expected


def test_outcomes_by_age_sex(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    def band(age: int | None) -> str:
        if age is None:
            return "(not stated)"
        for top, name in ((30, "under 30"), (40, "30-39"), (50, "40-49"), (60, "50-59")):
            if age < top:
                return name
        return "60 and over"

    groups: dict[Any, list[Item]] = defaultdict(list)
    for record in records:
        groups[(band(record.worker.age), record.worker.sex or "(not stated)")].extend(record.items)
    answer = run_named(store, "outcomes-by-age-sex")
    assert answer_tallies(answer, ["age_band", "sex"]) == tallies(groups)


def test_diagnoses_for_treatment(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    for treatment in ("physical therapy", "opioid", "acupuncture"):
        wanted = iri_of(treatment)
        letters: dict[tuple[str, str], set[str]] = defaultdict(set)
        items: dict[tuple[str, str], set[tuple[str, int]]] = defaultdict(set)
        overturned: dict[tuple[str, str], set[tuple[str, int]]] = defaultdict(set)
        for record in records:
            matching = [i for i in record.items if wanted in lineage(i)]
            for diagnosis in record.diagnoses if matching else []:
                key = (
                    (diagnosis.icd10_label or diagnosis.text.lower(), diagnosis.icd10)
                    if diagnosis.icd10
                    else (diagnosis.text.lower(), "")
                )
                letters[key].add(letter_key(record))
                for item in matching:
                    items[key].add((letter_key(record), item.number))
                    if item.outcome == "overturned":
                        overturned[key].add((letter_key(record), item.number))
        expected = {k: (len(v), len(items[k]), len(overturned[k])) for k, v in letters.items()}
        assert expected, treatment
        got = {
            (r["diagnosis"], r["icd10"]): (r["letters"], r["items"], r["overturned"])
            for r in rows(run_named(store, "diagnoses-for-treatment", {"treatment": treatment}))
        }
        assert got == expected, treatment


def test_outcomes_by_year(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    letters: Counter[str] = Counter()
    for record in records:
        decided = record.dates.get("decision")
        year = decided[:4] if decided else "(no date)"
        groups[year].extend(record.items)
        letters[year] += 1
    answer = run_named(store, "outcomes-by-year")
    assert answer_tallies(answer, ["year"]) == tallies(groups)
    assert {r["year"]: r["letters"] for r in rows(answer)} == dict(letters)


def test_case_graph(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    for record in records:
        answer = run_named(store, "case-graph", {"case": letter_key(record)})
        assert isinstance(answer, Triples)
        expected = rdflib.Graph()
        for triple in letter_graph(record):
            expected.add(triple)
        assert isomorphic(answer.graph, expected), letter_key(record)


def test_the_store_holds_exactly_the_records(
    store: KnowledgeStore, records: list[LetterRecord]
) -> None:
    assert store.letter_graphs() == sorted(str(letter_graph(r).identifier) for r in records)
    assert len({letter_key(r) for r in records}) == len(records)
    assert Path(store.path).is_dir()


def test_treatment_guideline_citations(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for _, item in all_items(records):
        if item.treatment is None or not item.treatment.iri:
            continue
        keys = set()
        for cited in item.imr_guidelines:
            section = cited.section or (f"page(s) {cited.pages}" if cited.pages else "")
            keys.add(
                (
                    label(item.treatment.iri),
                    cited.guideline,
                    label(cited.guideline_iri),
                    cited.edition,
                    label(cited.chapter_iri) or "",
                    section,
                )
            )
        for key in keys:
            groups[key].append(item)
    got = {
        (
            r["treatment"],
            r["guideline_id"],
            r["guideline"],
            r["edition"],
            r["chapter"],
            r["section"],
        ): (r["items"], r["upheld"], r["overturned"])
        for r in rows(run_named(store, "treatment-guideline-citations"))
    }
    assert groups, "the samples cite guidelines"
    assert got == {k: v[:3] for k, v in tallies(groups).items()}
    acupuncture = iri_of("acupuncture")
    vocabulary = load_vocabulary()
    narrower = {
        c.label
        for c in vocabulary.in_scheme("treatment")
        if acupuncture in (c.iri, *vocabulary.ancestors(c.iri))
    }
    only = rows(run_named(store, "treatment-guideline-citations", {"treatment": "acupuncture"}))
    assert only
    assert {r["treatment"] for r in only} <= narrower


def _diagnosis_key(diagnosis: Any) -> tuple[str, str]:
    """How co-diagnoses names a diagnosis: the code's title, else the code, else the words."""
    if diagnosis.icd10:
        return (diagnosis.icd10_label or diagnosis.icd10, diagnosis.icd10)
    return (diagnosis.text.lower(), "")


def test_co_diagnoses(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    pairs: Counter[tuple[str, str, str, str]] = Counter()
    named: Counter[str] = Counter()
    for record in records:
        keys = {_diagnosis_key(d) for d in record.diagnoses}
        named.update({k for k, _ in keys})
        for a, code_a in keys:
            for b, code_b in keys:
                if a < b:
                    pairs[(a, code_a, b, code_b)] += 1
    got = {
        (r["diagnosis"], r["icd10"], r["other_diagnosis"], r["other_icd10"]): r["letters"]
        for r in rows(run_named(store, "co-diagnoses"))
    }
    assert pairs, "the samples name several diagnoses per letter"
    assert got == dict(pairs)
    for r in rows(run_named(store, "co-diagnoses")):
        assert (r["diagnosis_letters"], r["other_letters"]) == (
            named[r["diagnosis"]],
            named[r["other_diagnosis"]],
        )
    frequent = rows(run_named(store, "co-diagnoses", {"min_letters": "2"}))
    assert {(r["diagnosis"], r["other_diagnosis"]) for r in frequent} == {
        (a, b) for (a, _, b, _), n in pairs.items() if n >= 2
    }
