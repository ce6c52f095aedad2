"""The SKOS vocabularies under ``ontology/vocab/``, read into matchers.

The extractor knows no treatment, region, specialty or guideline by name: it
reads them from the vocabularies. A :class:`Vocabulary` holds every concept of
every scheme; a :class:`LabelMatcher` finds a scheme's concepts in text by
their labels (``skos:prefLabel``, ``skos:altLabel``, ``skos:hiddenLabel``).

Matching is by tokens: text and labels are lower-cased, split into
alphanumeric tokens, simple plurals are folded and the filler words "and",
"of", "the", "a", "an" are skipped, so "EMG/NCV", "EMG-NCV" and "emg ncv" match
alike, and "Neck & Upper Back" matches "Neck and Upper Back".

>>> tokens("X-rays of the Lumbar spine")
[('x', 0, 1), ('ray', 2, 6), ('lumbar', 14, 20), ('spine', 21, 26)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import rdflib
from rdflib.namespace import RDF, SKOS

from imrkg.errors import ResourceError
from imrkg.resources import vocab_files

IMR = rdflib.Namespace("https://w3id.org/imr-kg/ontology#")
VOCAB_BASE = "https://w3id.org/imr-kg/vocab/"
SCHEMES = {
    name: f"{VOCAB_BASE}{name}"
    for name in (
        "treatment",
        "body-region",
        "laterality",
        "specialty",
        "us-state",
        "guideline",
        "reason",
        "outcome",
        "dwc-category",
    )
}

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_FILLER = frozenset({"and", "of", "the", "a", "an"})


def fold(token: str) -> str:
    """A token in the form both text and labels are compared in.

    >>> [fold(t) for t in ("Braces", "patches", "MRIs", "stenosis", "glass", "boxes")]
    ['brace', 'patch', 'mri', 'stenosis', 'glass', 'box']
    """
    token = token.lower()
    if len(token) > 3:
        if token.endswith(("ches", "shes", "xes", "sses")):
            return token[:-2]
        # "stenosis" and "virus" are singular; "MRIs" is not
        if (
            token.endswith("s")
            and not token.endswith(("ss", "us"))
            and not (token.endswith("is") and len(token) > 4)
        ):
            return token[:-1]
    return token


def tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(folded token, start, end) for each word of ``text[start:end]``, fillers skipped."""
    found = []
    for match in _TOKEN.finditer(text, start, len(text) if end is None else end):
        token = fold(match.group(0))
        if token not in _FILLER:
            found.append((token, match.start(), match.end()))
    return found


@dataclass(frozen=True)
class Concept:
    """A SKOS concept as the extractor needs it."""

    iri: str
    label: str
    scheme: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    notation: str | None = None
    definition: str | None = None
    broader: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.alt_labels, *self.hidden_labels)


@dataclass(frozen=True)
class Match:
    """A concept found in text at ``[start, end)``."""

    concept: Concept
    start: int
    end: int


@dataclass
class Vocabulary:
    """Every concept of every vocabulary, with the graph they came from."""

    graph: rdflib.Graph
    concepts: dict[str, Concept] = field(default_factory=dict)

    def in_scheme(self, scheme: str) -> list[Concept]:
        """The concepts of a scheme, by short name ('treatment') or IRI."""
        iri = SCHEMES.get(scheme, scheme)
        return [c for c in self.concepts.values() if c.scheme == iri]

    def ancestors(self, iri: str) -> list[str]:
        """The concept's broader concepts, nearest first, without repeats."""
        seen: list[str] = []
        frontier = [iri]
        while frontier:
            nxt: list[str] = []
            for current in frontier:
                concept = self.concepts.get(current)
                for parent in concept.broader if concept else ():
                    if parent not in seen and parent != iri:
                        seen.append(parent)
                        nxt.append(parent)
            frontier = nxt
        return seen

    def objects(self, iri: str, prop: rdflib.URIRef) -> list[rdflib.term.Node]:
        return list(self.graph.objects(rdflib.URIRef(iri), prop))

    def inherited(self, iri: str, prop: rdflib.URIRef) -> rdflib.term.Node | None:
        """The value of ``prop`` on the concept or, failing that, its nearest ancestor."""
        for node in (iri, *self.ancestors(iri)):
            for value in self.graph.objects(rdflib.URIRef(node), prop):
                return value
        return None

    def by_notation(self, scheme: str, notation: str) -> Concept | None:
        for concept in self.in_scheme(scheme):
            if concept.notation == notation:
                return concept
        return None


@cache
def load_vocabulary() -> Vocabulary:
    """Parse every vocabulary file once per process."""
    graph = rdflib.Graph()
    for path in vocab_files():
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many types for bad Turtle
            raise ResourceError(f"{path}: not valid Turtle ({exc})") from exc
    vocabulary = Vocabulary(graph)
    for subject in set(graph.subjects(RDF.type, SKOS.Concept)):
        if not isinstance(subject, rdflib.URIRef):
            continue
        iri = str(subject)
        label = _literal(graph, subject, SKOS.prefLabel) or iri.rsplit("/", 1)[-1]
        scheme = graph.value(subject, SKOS.inScheme)
        vocabulary.concepts[iri] = Concept(
            iri=iri,
            label=label,
            scheme=str(scheme) if scheme is not None else "",
            alt_labels=_literals(graph, subject, SKOS.altLabel),
            hidden_labels=_literals(graph, subject, SKOS.hiddenLabel),
            notation=_literal(graph, subject, SKOS.notation),
            definition=_literal(graph, subject, SKOS.definition),
            broader=tuple(sorted(str(b) for b in graph.objects(subject, SKOS.broader))),
        )
    return vocabulary


def _literals(
    graph: rdflib.Graph, subject: rdflib.term.Node, prop: rdflib.URIRef
) -> tuple[str, ...]:
    return tuple(
        sorted(str(o) for o in graph.objects(subject, prop) if isinstance(o, rdflib.Literal))
    )


def _literal(graph: rdflib.Graph, subject: rdflib.term.Node, prop: rdflib.URIRef) -> str | None:
    values = _literals(graph, subject, prop)
    return values[0] if values else None


class LabelMatcher:
    """Finds concepts in text by their labels' tokens.

    ``find_all`` returns non-overlapping matches left to right, the longest at
    each place; ``first`` returns the earliest match, the longest there.
    """

    def __init__(
        self, concepts: Iterable[Concept], extra: Iterable[tuple[str, Concept]] = ()
    ) -> None:
        self._index: dict[str, list[tuple[tuple[str, ...], Concept]]] = {}
        pairs = [(label, c) for c in concepts for label in c.labels]
        for label, concept in [*pairs, *extra]:
            key = tuple(t for t, _, _ in tokens(label))
            if key:
                self._index.setdefault(key[0], []).append((key, concept))
        for entries in self._index.values():
            # Longest labels first; among equals, a preferred label beats an alternative.
            entries.sort(key=lambda e: (-len(e[0]), e[1].label.lower() != " ".join(e[0])))

    def _matches_at(
        self, toks: list[tuple[str, int, int]], i: int
    ) -> Iterator[tuple[int, Concept]]:
        for key, concept in self._index.get(toks[i][0], ()):
            n = len(key)
            if tuple(t for t, _, _ in toks[i : i + n]) == key:
                yield n, concept

    def find_all(self, text: str, start: int = 0, end: int | None = None) -> list[Match]:
        toks = tokens(text, start, end)
        found: list[Match] = []
        i = 0
        while i < len(toks):
            best = next(self._matches_at(toks, i), None)
            if best is None:
                i += 1
                continue
            n, concept = best
            found.append(Match(concept, toks[i][1], toks[i + n - 1][2]))
            i += n
        return found

    def first(self, text: str, start: int = 0, end: int | None = None) -> Match | None:
        found = self.find_all(text, start, end)
        return found[0] if found else None


@cache
def known_words() -> frozenset[str]:
    """Every word of every vocabulary label, lower-cased (drug names, anatomy, ...),
    but not the acronyms ("TED hose", "NESS H200"): they are not the lower-case
    words their letters spell ("ted" of "consis-ted")."""
    words: set[str] = set()
    for concept in load_vocabulary().concepts.values():
        for label in concept.labels:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", label) if not w.isupper())
    return frozenset(words)


@cache
def matcher(scheme: str) -> LabelMatcher:
    """The label matcher of one scheme (cached)."""
    concepts = load_vocabulary().in_scheme(scheme)
    if not concepts:
        raise ResourceError(f"vocabulary scheme {scheme!r} has no concepts")
    return LabelMatcher(concepts)
