"""Why the reviewer decided as it did: reason codes from a rationale.

The reasons and the words that state them live in
``ontology/vocab/reasons.ttl`` (see its header for how cue patterns, blocking
patterns, suppression and defaults work). This module only applies them:
sentence by sentence, then the outcome, treatment and quantity rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import rdflib

from imrkg.loader.sentences import sentence_spans
from imrkg.loader.vocab import IMR, Vocabulary, load_vocabulary

EXCEEDS = "EXCEEDS_GUIDELINE_QUANTITY"
_NUMERIC_LIMIT = re.compile(
    r"\b\d+\s*(?:-|to)\s*\d+\s+(?:\w+\s+)?(?:visits|sessions|treatments|days|weeks)\b"
    r"|\blimited\s+to\b|\bup\s+to\s+\d+|\b(?:trial|maximum|total)\s+of\s+\d+",
    re.I,
)


# A sentence giving the verdict on the request ("... is not medically necessary").
_VERDICT = re.compile(r"\b(?:is|are|was|were)\s+(?:not\s+)?medically\s+necessary\b", re.I)


@dataclass(frozen=True)
class ReasonRule:
    """One reason concept with its compiled patterns."""

    code: str
    iri: str
    label: str
    cues: tuple[re.Pattern[str], ...]
    blockers: tuple[re.Pattern[str], ...]
    suppresses: frozenset[str]
    default_for: frozenset[str]
    implied_by_outcome: frozenset[str]
    implied_for_treatment: frozenset[str]


@dataclass(frozen=True)
class Evidence:
    """A reason and the sentence (``[start, end)`` in the rationale) that states it."""

    code: str
    start: int
    end: int


def _compile(
    vocabulary: Vocabulary, node: rdflib.URIRef, prop: rdflib.URIRef
) -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(str(p), re.I) for p in sorted(vocabulary.graph.objects(node, prop), key=str)
    )


def _codes(vocabulary: Vocabulary, node: rdflib.URIRef, prop: rdflib.URIRef) -> frozenset[str]:
    return frozenset(str(o) for o in vocabulary.graph.objects(node, prop))


@cache
def reason_rules() -> tuple[ReasonRule, ...]:
    """The reasons of the vocabulary, with their patterns compiled."""
    vocabulary = load_vocabulary()
    rules = []
    for concept in sorted(vocabulary.in_scheme("reason"), key=lambda c: c.iri):
        node = rdflib.URIRef(concept.iri)
        rules.append(
            ReasonRule(
                code=concept.notation or concept.label,
                iri=concept.iri,
                label=concept.label,
                cues=_compile(vocabulary, node, IMR.cuePattern),
                blockers=_compile(vocabulary, node, IMR.blockingPattern),
                suppresses=_codes(vocabulary, node, IMR.suppresses),
                default_for=_codes(vocabulary, node, IMR.defaultForOutcome),
                implied_by_outcome=_codes(vocabulary, node, IMR.impliedByOutcome),
                implied_for_treatment=_codes(vocabulary, node, IMR.impliedForTreatment),
            )
        )
    return tuple(rules)


def _restatement(requests: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern for the requests' words as a sentence may restate them (any case, any
    blanks), longest first; None without requests."""
    phrases = sorted({" ".join(r.split()) for r in requests if r.strip()}, key=len, reverse=True)
    if not phrases:
        return None
    return re.compile(
        "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases), re.I
    )


def stated_reasons(rationale: str, requests: Sequence[str] = ()) -> list[Evidence]:
    """The reasons the rationale's sentences state, in order of first statement.

    Where a verdict sentence restates a request ("the request for Urine drug
    testing is not medically necessary"), the request's own words state no
    reason: they name what was asked for, and are left out of the matching.
    """
    rules = reason_rules()
    by_iri = {rule.iri: rule for rule in rules}
    restated = _restatement(requests)
    found: list[Evidence] = []
    for start, end in sentence_spans(rationale, 0, len(rationale), semicolons=True):
        sentence = rationale[start:end]
        if restated is not None and _VERDICT.search(sentence):
            sentence = restated.sub(lambda m: " " * len(m.group(0)), sentence)
        stated = [
            rule
            for rule in rules
            if any(c.search(sentence) for c in rule.cues)
            and not any(b.search(sentence) for b in rule.blockers)
        ]
        suppressed = {by_iri[s].code for rule in stated for s in rule.suppresses if s in by_iri}
        found.extend(
            Evidence(rule.code, start, end) for rule in stated if rule.code not in suppressed
        )
    return found


def decide_reasons(
    rationale: str,
    outcome_iri: str,
    treatment_lineage: list[str],
    over_limit: bool,
    requests: Sequence[str] = (),
) -> tuple[list[str], list[Evidence]]:
    """The reason codes of an item, and the sentences behind them.

    ``treatment_lineage`` is the treatment concept and its ancestors;
    ``over_limit`` whether the item asks for more than its guideline limit;
    ``requests`` the words of the request, which a verdict sentence restates.
    """
    rules = reason_rules()
    implied = [r.code for r in rules if outcome_iri in r.implied_by_outcome]
    if implied:
        return implied, []
    evidence = stated_reasons(rationale, requests)
    codes = list(dict.fromkeys(e.code for e in evidence))
    by_iri = {rule.iri: rule for rule in rules}
    # A stated reason that suppresses another also keeps the treatment from implying
    # it: an opioid denied with its denied surgery, or as a duplicate of an approved
    # request, was not judged on the opioid criteria.
    overruled = {by_iri[s].code for rule in rules if rule.code in codes for s in rule.suppresses}
    for rule in rules:
        if (
            rule.implied_for_treatment & set(treatment_lineage)
            and rule.code not in codes
            and rule.code not in overruled
        ):
            codes.append(rule.code)
    if over_limit and EXCEEDS not in codes and _NUMERIC_LIMIT.search(rationale):
        # more than the guideline's limit, and the reviewer invoked a numeric limit
        codes.append(EXCEEDS)
    if not codes:
        codes = [r.code for r in rules if outcome_iri in r.default_for]
    return codes, evidence
