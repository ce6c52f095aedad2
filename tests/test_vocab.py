"""The SKOS vocabularies: complete, labelled, defined, and consistent with the code that reads them."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import URIRef
from rdflib.namespace import RDF, SKOS

from imrkg.loader.vocab import IMR, SCHEMES, load_vocabulary, matcher, tokens
from imrkg.resources import vocab_files

SCHEME_NAMES = sorted(SCHEMES)


@pytest.mark.parametrize("scheme", SCHEME_NAMES)
def test_every_concept_is_labelled_and_defined(scheme: str) -> None:
    vocabulary = load_vocabulary()
    concepts = vocabulary.in_scheme(scheme)
    assert concepts, scheme
    for concept in concepts:
        subject = rdflib.URIRef(concept.iri)
        labels = list(vocabulary.graph.objects(subject, SKOS.prefLabel))
        assert len(labels) == 1, concept.iri
        assert concept.definition, concept.iri


def test_every_scheme_is_labelled_and_defined() -> None:
    graph = load_vocabulary().graph
    for scheme in graph.subjects(RDF.type, SKOS.ConceptScheme):
        assert graph.value(scheme, SKOS.prefLabel) is not None, scheme
        assert graph.value(scheme, SKOS.definition) is not None, scheme


def test_every_treatment_states_one_existing_dwc_category() -> None:
    """Stated on the concept itself (queries read it in one step), and a DWC category."""
    vocabulary = load_vocabulary()
    graph = vocabulary.graph
    categories = {c.iri for c in vocabulary.in_scheme("dwc-category")}
    for concept in vocabulary.in_scheme("treatment"):
        stated = [str(o) for o in graph.objects(URIRef(concept.iri), IMR.dwcCategory)]
        assert len(stated) == 1, (concept.iri, stated)
        assert stated[0] in categories, (concept.iri, stated)


def test_no_two_treatments_share_a_label() -> None:
    """As the matcher compares them (tokens, plurals folded), labels name one concept each."""
    owners: dict[tuple[str, ...], set[str]] = {}
    for concept in load_vocabulary().in_scheme("treatment"):
        for label in concept.labels:
            owners.setdefault(tuple(t for t, _, _ in tokens(label)), set()).add(concept.iri)
    assert {key: iris for key, iris in owners.items() if len(iris) > 1} == {}


def test_specialties_cover_the_dwc_list() -> None:
    notations = {c.notation for c in load_vocabulary().in_scheme("specialty") if c.notation}
    assert len(notations) >= 56
    assert "Allergy and  Immunology" in notations  # the DWC form's own value, double space and all


def test_guideline_ids_are_the_contracts() -> None:
    tops = {c.notation for c in load_vocabulary().in_scheme("guideline") if not c.broader}
    assert tops == {
        "MTUS-CPMTG",
        "MTUS-AMTG",
        "MTUS-ACOEM",
        "MTUS-PSTG",
        "MTUS-OTG",
        "ODG",
        "OTHER",
    }


def test_reason_patterns_compile() -> None:
    graph = load_vocabulary().graph
    for prop in (IMR.cuePattern, IMR.blockingPattern):
        for pattern in graph.objects(None, prop):
            re.compile(str(pattern))


def test_vocabulary_files_parse_on_their_own() -> None:
    for path in vocab_files():
        assert len(rdflib.Graph().parse(path, format="turtle")) > 0, path


@pytest.mark.parametrize(
    ("heading", "label"),
    [
        ("Ultram 50mg #30", "tramadol"),
        ("EMG/NCV of the lower extremities", "electrodiagnostic"),
        ("Chirophysio therapy two times a week", "chiropractic"),
        ("Electro acupuncture to the low back", "electroacupuncture"),
        ("Post-op Zofran", "ondansetron"),
        ("Trigger points impedance imaging (TPII)", "impedance"),
    ],
)
def test_earliest_longest_treatment(heading: str, label: str) -> None:
    found = matcher("treatment").first(heading)
    assert found is not None and label in found.concept.label.lower()
