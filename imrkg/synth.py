"""A synthetic corpus of IMR determination letters, each with the record it must extract to.

``imrkg synth N -o DIR`` (and :func:`synth_corpus`) writes ``N`` fictional
letters to ``DIR/letters/`` and, beside them, ``DIR/expected.jsonl``: one
expectation per letter in the shape of the gold files of the shared corpus
(``examples/expected/*.json``), so that any number of letters can be scored
like the hand-checked ones.

Design
------
*Two sources of words.* What a letter decides (treatments, regions, drug
classes, guidelines and their chapters, reviewer specialties, states, reason
codes, guideline limits) is drawn from the SKOS vocabularies under
``ontology/vocab`` through :mod:`imrkg.loader.vocab`; this module holds only
how often things happen (weights keyed by concept) and the phrase templates
that make sentences of them. No letter text is copied from real letters.

*Truth by construction.* A letter is first decided as data (items with their
quantity, regions, outcome, citations and reasons) and then written in words,
so the expected record is what was decided, never what an extractor reads
back. Two checks keep the words honest to the data: a treatment wording is
used only where the vocabulary says it names that concept (one whole-phrase
match, and the composed request still names it first), and the sentences a
rationale wraps around its reasons (what the guideline addresses, how the
patient is doing) carry none of the reason vocabulary's cue patterns, so
that only the reason sentences state reasons. Where letters write something
an extractor may misread (a conclusion that restates "Urine drug testing",
an outcome in capitals on a line of its own, a word broken at a line end),
the synthetic letters write it too: the expected record says what the letter
means, and the difference is the extractor's to close.

*Realism.* Four layouts (``headerless``, ``header``, ``maximus``,
``professional``) with their sections; 1-21 items per letter, most with
one to three (mean about 2.2); about 11% of items overturned, as the DWC
and CWCI report; partial authorizations in both wordings; the 2013-2015
("Page(s):") and 2016-on ("2016, Section(s):") citation styles, ACOEM
chapters, ODG chapters and no-evidence lines; case years weighted by the
published letter counts (``imrkg/reference``); typos in free prose (never in
a value that must be read); rendering widths, doubled lines and broken words
as PDF-to-text tools leave them (:mod:`imrkg.typeset`).

*Determinism and scale.* Every letter has its own ``random.Random`` seeded
from the corpus seed and its index, so a seed always gives byte-identical
files, letter ``i`` is the same whatever ``N`` is, and letters are made and
written one at a time (constant memory at any ``N``). Case numbers are an
affine permutation of the index, hence unique within a corpus.

>>> source, expected = synth_letter(random.Random("doctest"), 7)
>>> expected["letter"], 1 <= len(expected["items"]) <= 21
('synth-000007', True)
>>> source == synth_letter(random.Random("doctest"), 7)[0]
True
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import random
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import rdflib
from rdflib.namespace import RDFS, SKOS

from imrkg.errors import ImrKgError, ResourceError
from imrkg.loader.vocab import (
    IMR,
    SCHEMES,
    Concept,
    LabelMatcher,
    Vocabulary,
    load_vocabulary,
    matcher,
)
from imrkg.resources import published_statistics_file

__all__ = [
    "LAYOUTS",
    "SynthError",
    "SynthSummary",
    "iter_letters",
    "letter_name",
    "letter_rng",
    "synth_corpus",
    "synth_letter",
]

LAYOUTS = ("headerless", "header", "maximus", "professional")
MAX_ITEMS = 21


class SynthError(ImrKgError):
    """The corpus cannot be written as asked (a bad count, an output folder in the way)."""


# =====================================================================
# How often things happen. Keys are local names of vocabulary concepts;
# the catalog checks every key against the vocabulary when it is built.

_LAYOUT_WEIGHTS = {"headerless": 30.0, "header": 40.0, "maximus": 14.0, "professional": 16.0}

# Items per letter: most letters decide one to three items, a few many more.
_ITEM_COUNT_WEIGHTS = {
    1: 56.0,
    2: 20.0,
    3: 10.5,
    4: 5.5,
    5: 3.2,
    6: 1.9,
    7: 1.25,
    8: 0.85,
    9: 0.6,
    10: 0.45,
    11: 0.34,
    12: 0.26,
    13: 0.2,
    14: 0.16,
    15: 0.12,
    16: 0.1,
    17: 0.08,
    18: 0.06,
    19: 0.05,
    20: 0.04,
    21: 0.035,
}
_OVERTURN_RATE = 0.11
_PARTIAL_RATE = 0.07

# Share of disputed items by kind of treatment (DWC category shares, roughly).
_KIND_WEIGHTS = {
    "opioid": 12.0,
    "drug": 21.0,
    "topical": 7.0,
    "food": 2.5,
    "therapy": 12.0,
    "modality": 2.0,
    "estim": 3.0,
    "imaging": 7.0,
    "electrodiagnostic": 3.0,
    "lab": 2.5,
    "test": 1.5,
    "injection": 6.0,
    "surgery": 3.5,
    "consult": 4.0,
    "psych": 2.0,
    "psych_eval": 0.6,
    "program": 1.4,
    "home": 1.0,
    "transport": 0.4,
    "dme": 3.0,
    "orthosis": 2.0,
    "supply": 0.8,
    "adjunct": 0.0,  # only beside a surgery
}

# The kind of a treatment: the first of these concepts found in its lineage.
_KIND_BY_ANCESTOR = (
    ("opioid", "opioid"),
    ("topical-compound", "topical"),
    ("topical-analgesic", "topical"),
    ("medical-food", "food"),
    ("pharmaceutical", "drug"),
    ("electrical-stimulation", "estim"),
    ("therapeutic-modality", "modality"),
    ("rehabilitation-therapy", "therapy"),
    ("diagnostic-imaging", "imaging"),
    ("electrodiagnostic-studies", "electrodiagnostic"),
    ("laboratory-testing", "lab"),
    ("diagnostic-testing", "test"),
    ("surgical-adjunct-services", "adjunct"),
    ("surgery", "surgery"),
    ("injection", "injection"),
    ("medical-supplies", "supply"),
    ("orthosis", "orthosis"),
    ("durable-medical-equipment", "dme"),
    ("evaluation-and-management", "consult"),
    ("psychological-evaluation", "psych_eval"),
    ("psychological-service", "psych"),
    ("treatment-program", "program"),
    ("home-health-service", "home"),
    ("medical-transportation", "transport"),
)

# Treatments requested far more often than their neighbours.
_BOOSTS = {
    "physical-therapy": 14.0,
    "acupuncture": 6.0,
    "chiropractic-manipulation": 5.0,
    "massage-therapy": 2.0,
    "aquatic-therapy": 2.0,
    "occupational-therapy": 2.0,
    "postoperative-physical-therapy": 1.5,
    "magnetic-resonance-imaging": 10.0,
    "radiograph": 3.0,
    "computed-tomography": 1.5,
    "electrodiagnostic-studies": 6.0,
    "urine-drug-testing": 8.0,
    "tens-unit": 8.0,
    "interferential-unit": 2.0,
    "h-wave-unit": 2.0,
    "epidural-steroid-injection": 10.0,
    "facet-joint-injection": 2.0,
    "medial-branch-block": 3.0,
    "radiofrequency-ablation": 2.0,
    "trigger-point-injection": 4.0,
    "corticosteroid-injection": 4.0,
    "hydrocodone-acetaminophen": 10.0,
    "tramadol": 7.0,
    "oxycodone": 3.0,
    "oxycodone-acetaminophen": 3.0,
    "cyclobenzaprine": 8.0,
    "tizanidine": 3.0,
    "carisoprodol": 2.0,
    "gabapentin": 6.0,
    "pregabalin": 3.0,
    "omeprazole": 6.0,
    "pantoprazole": 3.0,
    "naproxen": 6.0,
    "ibuprofen": 2.0,
    "meloxicam": 2.0,
    "duloxetine": 3.0,
    "zolpidem": 3.0,
    "lidocaine-patch": 6.0,
    "flurbiprofen-topical": 3.0,
    "cognitive-behavioral-therapy": 3.0,
    "functional-restoration-program": 3.0,
    "pain-management-consultation": 3.0,
    "orthopedic-surgery-consultation": 3.0,
    "office-visit": 3.0,
    "knee-arthroscopy": 2.0,
    "shoulder-arthroscopy": 2.0,
    "spinal-fusion": 2.0,
    "carpal-tunnel-release": 2.0,
    "cold-therapy-unit": 2.0,
    "knee-brace": 2.0,
    "lumbar-support": 2.0,
}

_REGION_WEIGHTS = {
    "lumbar-spine": 30.0,
    "cervical-spine": 18.0,
    "shoulder": 14.0,
    "knee": 12.0,
    "wrist": 6.0,
    "hand": 4.0,
    "thoracic-spine": 4.0,
    "hip": 4.0,
    "ankle": 4.0,
    "foot": 3.0,
    "elbow": 4.0,
    "upper-extremity": 3.0,
    "lower-extremity": 3.0,
    "forearm": 1.0,
    "lower-leg": 1.0,
    "sacroiliac-joint": 1.0,
}
_SPINE = ("lumbar-spine", "cervical-spine", "thoracic-spine")
_LIMBS = ("shoulder", "knee", "wrist", "hand", "hip", "ankle", "foot", "elbow")
_EXTREMITIES = ("upper-extremity", "lower-extremity")
_LEVELS = {
    "lumbar-spine": ("L3-L4", "L4-L5", "L5-S1", "L4-S1"),
    "cervical-spine": ("C4-C5", "C5-C6", "C6-C7"),
    "thoracic-spine": ("T7-T8", "T8-T9"),
}

# Regions a treatment's words and definition do not give, where letters supply them.
_REGIONS_FOR = {
    "epidural-steroid-injection": _SPINE[:2],
    "selective-nerve-root-block": _SPINE[:2],
    "facet-joint-injection": _SPINE[:2],
    "medial-branch-block": _SPINE[:2],
    "radiofrequency-ablation": _SPINE[:2],
    "epidural-adhesiolysis": _SPINE[:1],
    "meniscectomy": ("knee",),
    "meniscus-repair": ("knee",),
    "chondroplasty": ("knee",),
    "acl-reconstruction": ("knee",),
    "carpal-tunnel-release": ("wrist",),
    "de-quervain-release": ("wrist",),
    "subacromial-decompression": ("shoulder",),
    "distal-clavicle-excision": ("shoulder",),
    "labral-repair": ("shoulder",),
    "bankart-repair": ("shoulder",),
    "biceps-tenodesis": ("shoulder",),
    "lateral-epicondyle-release": ("elbow",),
    "plantar-fascia-release": ("foot",),
    "tarsal-tunnel-release": ("ankle",),
    "achilles-tendon-repair": ("ankle",),
}

# Kinds of treatment whose requests name where they are done.
_REGIONAL = frozenset(
    {
        "therapy",
        "modality",
        "estim",
        "imaging",
        "electrodiagnostic",
        "injection",
        "surgery",
        "orthosis",
        "dme",
        "consult",
    }
)

# Treatments of the whole person, requested without a region.
_NO_REGIONS = frozenset(
    {
        "speech-therapy",
        "vestibular-rehabilitation",
        "cognitive-rehabilitation",
        "hyperbaric-oxygen-therapy",
        "inpatient-rehabilitation",
        "biofeedback",
        "whirlpool-therapy",
    }
)

# Guideline chapters for a region: (ACOEM chapter, ODG chapter), under vocab/guideline/.
_CHAPTERS: dict[str, tuple[str | None, str | None]] = {
    "lumbar-spine": ("MTUS-ACOEM/low-back-complaints", "ODG/low-back"),
    "thoracic-spine": ("MTUS-ACOEM/low-back-complaints", "ODG/low-back"),
    "sacroiliac-joint": (None, "ODG/hip-and-pelvis"),
    "cervical-spine": ("MTUS-ACOEM/neck-and-upper-back-complaints", "ODG/neck-and-upper-back"),
    "shoulder": ("MTUS-ACOEM/shoulder-complaints", "ODG/shoulder"),
    "upper-arm": ("MTUS-ACOEM/shoulder-complaints", "ODG/shoulder"),
    "elbow": ("MTUS-ACOEM/elbow-disorders", "ODG/elbow"),
    "forearm": ("MTUS-ACOEM/forearm-wrist-and-hand-complaints", "ODG/forearm-wrist-and-hand"),
    "wrist": ("MTUS-ACOEM/forearm-wrist-and-hand-complaints", "ODG/forearm-wrist-and-hand"),
    "hand": ("MTUS-ACOEM/forearm-wrist-and-hand-complaints", "ODG/forearm-wrist-and-hand"),
    "finger": ("MTUS-ACOEM/forearm-wrist-and-hand-complaints", "ODG/forearm-wrist-and-hand"),
    "thumb": ("MTUS-ACOEM/forearm-wrist-and-hand-complaints", "ODG/forearm-wrist-and-hand"),
    "upper-extremity": (
        "MTUS-ACOEM/forearm-wrist-and-hand-complaints",
        "ODG/forearm-wrist-and-hand",
    ),
    "lower-extremity": ("MTUS-ACOEM/low-back-complaints", "ODG/low-back"),
    "hip": (None, "ODG/hip-and-pelvis"),
    "thigh": (None, "ODG/hip-and-pelvis"),
    "knee": ("MTUS-ACOEM/knee-complaints", "ODG/knee-and-leg"),
    "lower-leg": ("MTUS-ACOEM/knee-complaints", "ODG/knee-and-leg"),
    "ankle": ("MTUS-ACOEM/ankle-and-foot-complaints", "ODG/ankle-and-foot"),
    "foot": ("MTUS-ACOEM/ankle-and-foot-complaints", "ODG/ankle-and-foot"),
}

_SPECIALTY_WEIGHTS = {
    "orthopedic-surgery": 18.0,
    "physical-medicine-and-rehabilitation": 14.0,
    "pain-management": 9.0,
    "anesthesiology": 8.0,
    "internal-medicine": 8.0,
    "family-practice": 7.0,
    "occupational-medicine": 7.0,
    "preventive-medicine": 3.0,
    "neurology": 3.0,
    "neurological-surgery": 3.0,
    "sports-medicine": 2.0,
    "spine-surgery": 1.5,
    "hand-surgery": 1.5,
    "rheumatology": 1.0,
    "emergency-medicine": 1.0,
    "plastic-surgery": 0.7,
    "podiatrist": 0.7,
    "psychiatry": 1.0,
}
# Reviewers matched to the kind of dispute, as MAXIMUS assigns them.
_SPECIALTY_FOR_KIND = {
    "psych": ("psychology", "psychologist", "psychiatry"),
    "psych_eval": ("psychology", "psychologist"),
    "surgery": ("orthopedic-surgery", "neurological-surgery", "spine-surgery"),
}
_SPECIALTY_FOR_TREATMENT = {
    "chiropractic-manipulation": ("chiropractic",),
    "acupuncture": ("acupuncture", "oriental-medicine"),
}

# Common strengths by drug (or its class); phrase data, not vocabulary.
_STRENGTHS = {
    "hydrocodone-acetaminophen": ("5/325", "7.5/325", "10/325"),
    "oxycodone-acetaminophen": ("5/325", "7.5/325", "10/325"),
    "tramadol-acetaminophen": ("37.5/325",),
    "codeine-acetaminophen": ("300/30",),
    "tramadol": ("50", "100", "150", "200"),
    "oxycodone": ("5", "10", "15", "30"),
    "cyclobenzaprine": ("5", "7.5", "10"),
    "gabapentin": ("100", "300", "600", "800"),
    "pregabalin": ("50", "75", "150"),
    "omeprazole": ("20", "40"),
    "pantoprazole": ("20", "40"),
    "naproxen": ("275", "375", "500", "550"),
    "ibuprofen": ("400", "600", "800"),
    "opioid": ("10", "15", "20", "30", "60"),
    "muscle-relaxant": ("2", "4", "350", "500", "750"),
    "nsaid": ("7.5", "15", "100", "200", "500"),
    "anticonvulsant": ("25", "50", "100", "200"),
    "antidepressant": ("10", "20", "25", "30", "50", "60"),
    "proton-pump-inhibitor": ("20", "30", "40"),
    "sedative-hypnotic": ("5", "10"),
    "tizanidine": ("2", "4"),
    "carisoprodol": ("350",),
    "methocarbamol": ("500", "750"),
    "metaxalone": ("800",),
    "baclofen": ("10", "20"),
    "meloxicam": ("7.5", "15"),
    "diclofenac": ("50", "75", "100"),
    "celecoxib": ("100", "200"),
    "duloxetine": ("30", "60"),
    "amitriptyline": ("10", "25"),
    "trazodone": ("50", "100"),
    "zolpidem": ("5", "10"),
    "topiramate": ("25", "50"),
    "ondansetron": ("4", "8"),
    "sumatriptan": ("50", "100"),
    "antipsychotic": ("2", "5", "10"),
    "stimulant": ("10", "20"),
    "statin": ("10", "20", "40"),
    "antihypertensive": ("10", "25"),
    "benzodiazepine": ("0.5", "1", "2"),
    "buprenorphine": ("2", "8"),
    "fentanyl": ("12", "25", "50"),
    "anticoagulant": ("2.5", "5", "10"),
}
_UNSPECIFIED = "unspecified quantity"
_DEFAULT_STRENGTHS = ("5", "10", "20", "25", "50", "100")
_COUNTS = (30, 60, 90, 120, 60, 90, 30, 20, 10, 180)

# =====================================================================
# Phrases (our own wording).

_FIRST_NAMES = [
    "Ansel",
    "Bettina",
    "Corwin",
    "Delphine",
    "Emmett",
    "Fenella",
    "Garrick",
    "Hollis",
    "Imogen",
    "Jarrah",
    "Keziah",
    "Lucan",
    "Marisol",
    "Nevin",
    "Odalys",
    "Perrin",
    "Quinlan",
    "Rosalind",
    "Sorrel",
    "Tobiah",
    "Ulla",
    "Vesper",
    "Wystan",
    "Yvaine",
    "Zeno",
]
_NAME_HEADS = [
    "Ash",
    "Bram",
    "Cal",
    "Dun",
    "El",
    "Fen",
    "Gar",
    "Hal",
    "Ives",
    "Kes",
    "Lor",
    "Mar",
    "Nor",
    "Pem",
    "Quill",
    "Ros",
    "Sel",
    "Tor",
    "Wel",
    "Yar",
    "Bel",
    "Crom",
    "Dor",
    "Har",
]
_NAME_TAILS = [
    "berry",
    "by",
    "combe",
    "dale",
    "field",
    "ford",
    "gate",
    "ley",
    "mont",
    "ridge",
    "stead",
    "ton",
    "well",
    "wick",
    "worth",
]
_PLACES = [
    "Larkspur",
    "Tamsin",
    "Quarry",
    "Bellweather",
    "Cinder",
    "Harrow",
    "Juniper",
    "Marrow",
    "Osprey",
    "Wren",
]
_PLACE_KINDS = ["Valley", "Ridge", "Harbor", "Creek", "Hill", "Meadow"]
_CLINIC_KINDS = (
    "Orthopedic Group",
    "Spine and Pain Institute",
    "Occupational Medicine",
    "Medical Group",
    "Pain Management Center",
    "Rehabilitation Associates",
)
_OCCUPATIONS = (
    "warehouse worker",
    "truck driver",
    "school custodian",
    "certified nursing assistant",
    "bus mechanic",
    "grocery clerk",
    "carpenter",
    "correctional officer",
    "office assistant",
    "landscaper",
    "machine operator",
    "home health aide",
    "delivery driver",
    "line cook",
    "police officer",
    "electrician",
    "farm laborer",
    "housekeeper",
)
_MECHANISMS = (
    "lifting a heavy box onto a shelf",
    "slipping on a wet floor and falling onto the right side",
    "pulling a loaded pallet jack",
    "stepping down from a ladder",
    "reaching overhead to stock shelves",
    "twisting while carrying a load of lumber",
    "being struck by a falling carton",
    "catching a resident who was falling",
    "repetitive gripping on an assembly line",
    "a rear-end collision while driving a company vehicle",
    "tripping over a hose at a job site",
    "pushing a heavy cart up a ramp",
)
_FINDINGS = {
    "spine": (
        "tenderness over the paraspinal muscles with guarding",
        "decreased range of motion with pain at the end of range",
        "a positive straight leg raise on the affected side",
        "diminished sensation in a dermatomal pattern",
        "muscle spasm with restricted motion",
    ),
    "joint": (
        "decreased range of motion with pain at the end of range",
        "mild swelling and tenderness to palpation",
        "intact strength with pain on resisted motion",
        "tenderness over the joint line",
    ),
}
_IMAGING_FINDINGS = {
    "spine": (
        "a small disc protrusion without significant stenosis",
        "mild degenerative changes",
        "moderate foraminal narrowing",
    ),
    "joint": (
        "mild degenerative changes",
        "a partial-thickness tendon tear",
        "a joint effusion with mild chondral thinning",
        "no acute fracture",
    ),
}
# Diagnoses by region ({side} is filled for limbs); none holds a comma or "and".
_DIAGNOSES: dict[str, tuple[str, ...]] = {
    "lumbar-spine": (
        "lumbar radiculopathy",
        "lumbar disc herniation",
        "lumbar sprain/strain",
        "lumbar degenerative disc disease",
        "lumbar facet arthropathy",
        "lumbar spinal stenosis",
    ),
    "cervical-spine": (
        "cervical radiculopathy",
        "cervical sprain/strain",
        "cervical disc herniation",
        "cervical spondylosis",
    ),
    "thoracic-spine": ("thoracic sprain/strain", "thoracic myofascial pain"),
    "shoulder": (
        "{side} shoulder impingement syndrome",
        "{side} rotator cuff tear",
        "{side} shoulder sprain/strain",
        "{side} adhesive capsulitis",
    ),
    "knee": (
        "{side} knee medial meniscus tear",
        "{side} knee osteoarthritis",
        "{side} knee sprain",
        "{side} patellofemoral pain syndrome",
    ),
    "wrist": ("{side} carpal tunnel syndrome", "{side} wrist sprain", "{side} wrist tendinitis"),
    "hand": ("{side} trigger finger", "{side} hand contusion"),
    "elbow": ("{side} lateral epicondylitis", "{side} cubital tunnel syndrome"),
    "hip": ("{side} hip osteoarthritis", "{side} greater trochanteric bursitis"),
    "ankle": ("{side} ankle sprain", "{side} Achilles tendinitis"),
    "foot": ("{side} plantar fasciitis", "{side} foot contusion"),
}
_GENERAL_DIAGNOSES = (
    "chronic pain syndrome",
    "myofascial pain syndrome",
    "insomnia",
    "depression",
    "anxiety",
    "headaches",
    "gastritis",
)
# Conservative care a summary lists, as vocabulary concepts (worded from their labels) ...
_PRIOR_CONCEPTS = (
    "physical-therapy",
    "chiropractic-manipulation",
    "acupuncture",
    "massage-therapy",
    "tens-unit",
    "epidural-steroid-injection",
    "corticosteroid-injection",
    "cognitive-behavioral-therapy",
    "aquatic-therapy",
)
# ... and care no vocabulary concept covers.
_PRIOR_OTHER = ("medications", "activity modification", "modified duty", "ice/heat", "rest")

_GUIDELINE_NAMES = {
    "MTUS-CPMTG": ("the MTUS Chronic Pain Medical Treatment Guidelines", "the CA MTUS"),
    "MTUS-AMTG": ("the MTUS Acupuncture Medical Treatment Guidelines",),
    "MTUS-ACOEM": ("the ACOEM Guidelines", "the CA MTUS/ACOEM Guidelines"),
    "MTUS-PSTG": ("the MTUS Postsurgical Treatment Guidelines",),
    "MTUS-OTG": ("the MTUS Opioid Treatment Guidelines",),
    "ODG": ("the Official Disability Guidelines", "the ODG"),
    "OTHER": ("the medical literature",),
}
_OTHER_SOURCES = (
    "UpToDate",
    "Medscape",
    "MDGuidelines",
    "American Academy of Orthopaedic Surgeons",
)

_NOUNS = {
    "opioid": "this medication",
    "drug": "this medication",
    "topical": "this topical product",
    "food": "this medical food",
    "therapy": "further therapy",
    "modality": "this modality",
    "estim": "the device",
    "imaging": "this study",
    "electrodiagnostic": "this testing",
    "lab": "this test",
    "test": "this test",
    "injection": "the injection",
    "surgery": "the procedure",
    "adjunct": "this service",
    "consult": "the consultation",
    "psych": "further sessions",
    "psych_eval": "the evaluation",
    "program": "the program",
    "home": "these services",
    "transport": "transportation",
    "dme": "this equipment",
    "orthosis": "the brace",
    "supply": "these supplies",
}
_MISSING = {
    "opioid": "a current pain assessment",
    "drug": "the indication for this medication",
    "topical": "the indication for this product",
    "food": "a nutritional deficiency",
    "therapy": "the goals of further therapy",
    "modality": "the goals of this modality",
    "estim": "the goals of home use",
    "imaging": "red flag findings or a progressive neurological deficit",
    "electrodiagnostic": "focal neurological findings on examination",
    "lab": "a clinical indication for this test",
    "test": "a clinical indication for this test",
    "injection": "objective findings that support the injection",
    "surgery": "imaging findings that correlate with the examination",
    "adjunct": "the need for this service",
    "consult": "the reason for the referral",
    "psych": "the goals of further treatment",
    "psych_eval": "the reason for the evaluation",
    "program": "a thorough baseline evaluation",
    "home": "that the patient is homebound",
    "transport": "that the patient cannot drive or use public transport",
    "dme": "the medical need for this equipment",
    "orthosis": "instability on examination",
    "supply": "the need for these supplies",
}

# Reason sentences: each states exactly its code (checked by the tests against the extractor).
_REASON_SENTENCES: dict[str, tuple[str, ...]] = {
    "NO_FUNCTIONAL_IMPROVEMENT": (
        "There is no documentation of objective functional improvement from the prior {prior}.",
        "The records describe no functional improvement, such as a return to work or reduced "
        "reliance on medical care, from the {prior} to date.",
        "Despite the {prior} already provided, the patient has failed to demonstrate objective "
        "functional improvement.",
    ),
    "NOT_ADJUNCT_TO_ACTIVE_THERAPY": (
        "There is no documentation that {noun} will be used in conjunction with an active "
        "exercise program.",
        "The patient is not participating in an exercise program to which {noun} would be an "
        "adjunct.",
    ),
    "NOT_RECOMMENDED": (
        "The guidelines do not recommend {noun} for chronic pain.",
        "{Noun} is not recommended for long-term use in this setting.",
        "There is insufficient evidence to support the use of {noun} for this condition.",
    ),
    "INSUFFICIENT_DOCUMENTATION": (
        "The submitted records do not document {missing}.",
        "There is no documentation of {missing}.",
        "The medical records lack documentation of {missing}.",
    ),
    "TRANSITION_TO_HOME_PROGRAM": (
        "The patient should be well versed in a home exercise program by now.",
        "At this stage the patient can continue with a self-directed home program.",
        "The guidelines call for a transition to independent home exercise.",
    ),
    "OPIOID_CRITERIA_NOT_MET": (
        "The guideline criteria for the ongoing use of opioids have not been met.",
        "Ongoing opioid management calls for documented pain relief, function, side effects "
        "and aberrant behavior, and these criteria are not met.",
    ),
    "CONSERVATIVE_CARE_NOT_TRIED": (
        "The patient has not yet tried and failed conservative care such as therapy and "
        "medications.",
        "There is no documented failure of conservative treatment.",
        "The request is premature, prior to the completion of conservative care.",
    ),
    "ALREADY_AUTHORIZED": (
        "The same service was already authorized under a separate request, so this request is "
        "duplicative.",
    ),
    "DEPENDS_ON_DENIED_SERVICE": (
        "As the requested surgery is not medically necessary, {noun} is not medically necessary "
        "either.",
        "Because the primary procedure is not certified, this associated service is also not "
        "indicated.",
    ),
}
_EXCEEDS_COUNT = (
    "The request for {n} {unit} exceeds the {limit} {unit} the guideline supports.",
    "A total of {n} {unit} is in excess of the {limit} {unit} the guideline recommends.",
)
_EXCEEDS_DAYS = ("A {n} day period exceeds the {limit} days the guideline supports.",)
_NEUTRAL_GUIDELINE = (
    "{Guideline} address {what} in the management of chronic pain.",
    "According to {guideline}, {what} may be considered when specific criteria are met.",
    "{Guideline} set out the indications for {what}.",
)
_POSITIVE = (
    "{Guideline} support {what} for patients with objective findings and defined goals.",
    "According to {guideline}, {what} is appropriate when the indications are documented.",
)
# What any reviewer may add about the guidelines; none states a reason (checked by a test).
_GENERAL_GUIDANCE = (
    "The guidelines emphasize care aimed at restoring function rather than at pain alone.",
    "Each request is weighed against the history, the examination findings and the response "
    "to earlier care.",
    "Treatment decisions are to be individualized to the patient's condition and goals.",
    "The reviewer considered the most recent progress reports together with the utilization "
    "review determination.",
)
# How a case went, in the summary's words.
_COURSE = (
    "An earlier visit on {date} documented persistent symptoms with {finding}.",
    "{He} rated {his} pain {high}/10 without medications and {low}/10 with medications.",
    "{He} reported that the pain disturbed {his} sleep and limited prolonged sitting and standing.",
    "{He} described the {region} pain as aching, worse with activity and better with rest.",
    "The treating physician noted that {he} had been compliant with the prescribed care.",
    "There was no change in {his} neurological status over the last several visits.",
)
_WORK_STATUS = (
    "working modified duty",
    "working full duty",
    "off work",
    "temporarily totally disabled",
    "retired",
)
_PATIENT = (
    "The patient continues to report {region} pain rated {pain}/10.",
    "The most recent progress report describes ongoing {region} pain with {finding}.",
)
_MEETS = (
    "The records document {finding} and a clear treatment plan, and the request meets these "
    "criteria.",
    "The patient has objective findings on examination and the request is consistent with "
    "the guideline indications.",
)


# =====================================================================
# The vocabulary, arranged for writing letters.


@dataclass(frozen=True)
class _Form:
    """A wording of a concept that names it alone, and the regions its words name."""

    text: str
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Limit:
    """A guideline limit: at most ``high`` (visits, or days), set by ``guideline``."""

    high: int
    low: int | None
    days: bool
    unit: str
    guideline: str | None
    pages: str | None


@dataclass(frozen=True)
class _Treatment:
    """A treatment concept as requests are written of it."""

    iri: str
    key: str
    label: str
    kind: str
    drug_class: str | None
    lineage: tuple[str, ...]
    forms: tuple[_Form, ...]  # the first is its usual name
    typos: tuple[_Form, ...]  # the vocabulary's misspellings of it
    hints: tuple[str, ...]  # the regions it is done on
    limit: _Limit | None
    topic: str  # the guideline topic a citation names for it, "" when none is safe


@dataclass(frozen=True)
class _Region:
    """A body region and its wordings."""

    key: str
    label: str
    forms: tuple[str, ...]
    typos: tuple[str, ...]
    lateral: bool


@dataclass(frozen=True)
class _Specialty:
    """A reviewer specialty, its wordings and the specialties related to it."""

    key: str
    forms: tuple[str, ...]
    related: tuple[str, ...]


@dataclass(frozen=True)
class _Chapter:
    """A guideline chapter (ACOEM, ODG) and the ways citations name it."""

    forms: tuple[str, ...]
    number: int | None


@dataclass(frozen=True)
class _Catalog:
    """Everything letters are written from, read from the vocabularies once."""

    treatments: dict[str, _Treatment]
    by_kind: dict[str, tuple[list[_Treatment], list[float]]]  # treatments, cumulative weights
    regions: dict[str, _Region]
    specialties: dict[str, _Specialty]
    states: tuple[str, ...]
    chapters: dict[str, _Chapter]
    years: tuple[list[int], list[float]]
    cues: re.Pattern[str]  # every cue pattern of the reason vocabulary


_T = SCHEMES["treatment"] + "/"
_R = SCHEMES["body-region"] + "/"
_S = SCHEMES["specialty"] + "/"
_G = SCHEMES["guideline"] + "/"

# Words that would make a treatment's name read as a count, a rate or a duration.
_UNSAFE_FORM = re.compile(
    r"[\d#%()]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|once|twice|thrice"
    r"|single|couple|dozen|daily|nightly|weekly|monthly|weeks?|days?|months?|hours?|times"
    r"|sessions?|visits?|qty|quantity|trial)\b",
    re.I,
)
_PAGES_IN_COMMENT = re.compile(r"\(pp?\.\s*(\d+(?:-\d+)?)\)")


def _local(iri: str, base: str) -> str:
    return iri[len(base) :] if iri.startswith(base) else iri.rsplit("/", 1)[-1]


def _strip_parentheses(label: str) -> str:
    return " ".join(re.sub(r"\s*\([^()]*\)", "", label).split())


def _short_names(label: str) -> list[str]:
    """The abbreviation a label gives in brackets, with the words after it ('TENS unit')."""
    match = re.fullmatch(r"[^()]*\(([A-Z][A-Za-z0-9&/-]*)\)(.*)", label)
    if match is None:
        return []
    return [" ".join(f"{match.group(1)} {match.group(2)}".split())]


def _names_alone(found: Sequence[Any], text: str, iri: str) -> bool:
    """Whether the matches of a wording are one match of the concept over all of it."""
    return (
        len(found) == 1
        and found[0].start == 0
        and found[0].end == len(text)
        and found[0].concept.iri == iri
    )


def _in_order(vocab: Vocabulary, scheme: str) -> list[Concept]:
    """A scheme's concepts by IRI: the vocabulary keeps them in an order that changes
    from one process to the next (set iteration), which would change every letter."""
    return sorted(vocab.in_scheme(scheme), key=lambda c: c.iri)


def _require(keys: Sequence[str], known: Sequence[str], what: str) -> None:
    missing = sorted(set(keys) - set(known))
    if missing:
        raise ResourceError(f"synth: {what} not in the vocabulary: {', '.join(missing)}")


@cache
def _catalog() -> _Catalog:
    """Read the vocabularies once into what letters are written from."""
    vocab = load_vocabulary()
    treatments = _treatments(vocab)
    _require(list(_BOOSTS), list(treatments), "treatments")
    _require(list(_REGIONS_FOR), list(treatments), "treatments")
    _require(_PRIOR_CONCEPTS, list(treatments), "treatments")
    _require([*_NO_REGIONS, *_WITH_SURGERY], list(treatments), "treatments")
    by_kind: dict[str, tuple[list[_Treatment], list[float]]] = {}
    for treatment in treatments.values():
        entry = by_kind.setdefault(treatment.kind, ([], []))
        entry[0].append(treatment)
        entry[1].append(_BOOSTS.get(treatment.key, 1.0))
    regions = _regions(vocab)
    _require(list(_REGION_WEIGHTS), list(regions), "body regions")
    specialties = _specialties(vocab)
    _require(list(_SPECIALTY_WEIGHTS), list(specialties), "specialties")
    chapters = _chapters(vocab)
    _require([c for pair in _CHAPTERS.values() for c in pair if c], list(chapters), "chapters")
    states = tuple(sorted(c.label for c in vocab.in_scheme("us-state")))
    patterns = sorted(
        str(p)
        for concept in _in_order(vocab, "reason")
        for p in vocab.graph.objects(rdflib.URIRef(concept.iri), IMR.cuePattern)
    )
    cues = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    for kind, (_, boosts) in by_kind.items():
        # drawn from thousands of times: keep the running totals, not the weights
        by_kind[kind] = (by_kind[kind][0], list(itertools.accumulate(boosts)))
    return _Catalog(
        treatments, by_kind, regions, specialties, states, chapters, _year_weights(), cues
    )


def _treatments(vocab: Vocabulary) -> dict[str, _Treatment]:
    treatments_m, regions_m, sides_m = (
        matcher("treatment"),
        matcher("body-region"),
        matcher("laterality"),
    )
    guideline_m = matcher("guideline")
    pharmaceutical = _T + "pharmaceutical"
    found: dict[str, _Treatment] = {}
    for concept in _in_order(vocab, "treatment"):
        if not concept.broader or concept.broader == (pharmaceutical,):
            continue  # the kinds themselves and the drug classes are not requested as such
        lineage = (concept.iri, *vocab.ancestors(concept.iri))
        keys = [_local(i, _T) for i in lineage]
        kind = next(k for anc, k in _KIND_BY_ANCESTOR if anc in keys)

        def usable(texts: Sequence[str], iri: str = concept.iri) -> tuple[_Form, ...]:
            forms = []
            for text in dict.fromkeys(texts):
                if len(text) < 3 or _UNSAFE_FORM.search(text) or sides_m.find_all(text):
                    continue
                if not _names_alone(treatments_m.find_all(text), text, iri):
                    continue
                named = tuple(
                    dict.fromkeys(_local(m.concept.iri, _R) for m in regions_m.find_all(text))
                )
                forms.append(_Form(text, named))
            return tuple(forms)

        forms = usable(
            [_strip_parentheses(concept.label), *_short_names(concept.label), *concept.alt_labels]
        )
        if not forms:
            continue
        hints = _region_hints(concept, vocab, regions_m, forms)
        drug_class = None
        if pharmaceutical in lineage:
            drug_class = keys[lineage.index(pharmaceutical) - 1]
        topic = _strip_parentheses(concept.label)
        if drug_class is not None:
            # MTUS chronic pain sections are named by drug class ("Muscle relaxants")
            topic = _strip_parentheses(vocab.concepts[_T + drug_class].label)
            topic = topic if topic.endswith("s") else f"{topic}s"
        if guideline_m.find_all(topic):
            topic = ""
        found[keys[0]] = _Treatment(
            iri=concept.iri,
            key=keys[0],
            label=concept.label,
            kind=kind,
            drug_class=drug_class,
            lineage=tuple(keys),
            forms=forms,
            typos=usable(concept.hidden_labels),
            hints=hints,
            limit=_limit(vocab, lineage),
            topic=topic[:1].upper() + topic[1:],
        )
    return found


def _region_hints(
    concept: Concept, vocab: Vocabulary, regions_m: LabelMatcher, forms: Sequence[_Form]
) -> tuple[str, ...]:
    """The regions a treatment is done on: named in its words, its definition or its parents'."""
    key = _local(concept.iri, _T)
    if key in _REGIONS_FOR:
        return _REGIONS_FOR[key]
    named = [r for form in forms for r in form.regions]
    if not named and concept.definition:
        named = [_local(m.concept.iri, _R) for m in regions_m.find_all(concept.definition)]
    if not named:
        for parent in vocab.ancestors(concept.iri)[:1]:
            for label in vocab.concepts[parent].labels:
                named += [_local(m.concept.iri, _R) for m in regions_m.find_all(label)]
    return tuple(r for r in dict.fromkeys(named) if r in _REGION_WEIGHTS)


def _limit(vocab: Vocabulary, lineage: Sequence[str]) -> _Limit | None:
    """The guideline limit of the treatment or its nearest limited ancestor: the largest
    count of visits where one is set, else the longest time."""
    graph = vocab.graph
    for node in lineage:
        limits: list[_Limit] = []
        for limit in graph.objects(rdflib.URIRef(node), IMR.guidelineLimit):
            most = graph.value(limit, IMR.limitMax)
            if most is None:
                continue
            least = graph.value(limit, IMR.limitMin)
            setter = graph.value(limit, IMR.limitSetBy)
            found = _PAGES_IN_COMMENT.search(str(graph.value(limit, RDFS.comment) or ""))
            limits.append(
                _Limit(
                    high=int(str(most)),
                    low=int(str(least)) if least is not None else None,
                    days=False,
                    unit=str(graph.value(limit, IMR.limitUnit) or "visit"),
                    guideline=_local(str(setter), _G) if setter is not None else None,
                    pages=found.group(1) if found else None,
                )
            )
        if not limits:
            continue
        counted = [lim for lim in limits if re.search(r"visit|session|treatment", lim.unit)]
        chosen = max(
            counted or limits,
            key=lambda lim: (
                lim.high,
                lim.unit,
                lim.low or 0,
                lim.guideline or "",
                lim.pages or "",
            ),
        )
        if counted:
            return chosen
        days = {"day": 1, "week": 7, "month": 30}.get(chosen.unit)
        if days is None:
            return None
        return _Limit(chosen.high * days, None, True, "day", chosen.guideline, chosen.pages)
    return None


def _regions(vocab: Vocabulary) -> dict[str, _Region]:
    regions_m, sides_m, treatments_m = (
        matcher("body-region"),
        matcher("laterality"),
        matcher("treatment"),
    )
    lateral = {str(s) for s, o in vocab.graph.subject_objects(IMR.lateralized) if str(o) == "true"}
    found: dict[str, _Region] = {}
    for concept in _in_order(vocab, "body-region"):

        def usable(texts: Sequence[str], iri: str = concept.iri) -> tuple[str, ...]:
            return tuple(
                text
                for text in dict.fromkeys(texts)
                if len(text) > 3
                and not re.search(r"\d", text)
                and not sides_m.find_all(text)
                and not treatments_m.find_all(text)
                and _names_alone(regions_m.find_all(text), text, iri)
            )

        forms = usable([concept.label.lower(), *concept.alt_labels])
        if forms:
            key = _local(concept.iri, _R)
            found[key] = _Region(
                key,
                concept.label,
                forms,
                usable(concept.hidden_labels),
                concept.iri in lateral,
            )
    return found


def _specialties(vocab: Vocabulary) -> dict[str, _Specialty]:
    specialties_m = matcher("specialty")
    found: dict[str, _Specialty] = {}
    person = re.compile(r"(?:ist|ian|eon|tor|Nurse|RN)$|^Doctor\b")
    for concept in _in_order(vocab, "specialty"):
        forms = tuple(
            text
            for text in dict.fromkeys([concept.label, *concept.alt_labels])
            if not person.search(text)
            and "," not in text
            and _names_alone(specialties_m.find_all(text), text, concept.iri)
        )
        if forms:
            related = tuple(
                sorted(
                    _local(str(o), _S)
                    for o in vocab.graph.objects(rdflib.URIRef(concept.iri), SKOS.related)
                )
            )
            key = _local(concept.iri, _S)
            found[key] = _Specialty(key, forms, related)
    return found


def _chapters(vocab: Vocabulary) -> dict[str, _Chapter]:
    guideline_m = matcher("guideline")
    found: dict[str, _Chapter] = {}
    for concept in _in_order(vocab, "guideline"):
        key = _local(concept.iri, _G)
        if "/" not in key:
            continue
        forms = tuple(
            text
            for text in dict.fromkeys([concept.label, *concept.alt_labels])
            if _names_alone(guideline_m.find_all(text), text, concept.iri)
        )
        number = vocab.graph.value(rdflib.URIRef(concept.iri), IMR.chapterNumber)
        if forms:
            found[key] = _Chapter(forms, int(str(number)) if number is not None else None)
    return found


def _year_weights() -> tuple[list[int], list[float]]:
    """Case years 2013-2024, weighted by the letters the DWC issued each year."""
    counts: dict[int, float] = {}
    with published_statistics_file().open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["measure"] == "IMR determination letters":
                counts[int(row["year"])] = float(row["value"])
    if not counts:
        raise ResourceError("synth: no yearly letter counts in the published statistics")
    years = list(range(2013, 2025))
    floor = min(counts.values()) / 2  # the first year of IMR, and years the sources skip
    return years, [counts.get(y, floor) for y in years]


# =====================================================================
# Small helpers.

_X = TypeVar("_X")


def _pick(
    rng: random.Random,
    items: Sequence[_X],
    weights: Sequence[float] | None = None,
    *,
    cum: Sequence[float] | None = None,
) -> _X:
    """One of the items: uniformly, by weight, or by cumulative weight."""
    if cum is not None:
        return rng.choices(items, cum_weights=cum)[0]
    if weights is None:
        return items[rng.randrange(len(items))]
    return rng.choices(items, weights)[0]


def _sample(rng: random.Random, items: Sequence[_X], k: int) -> list[_X]:
    """``k`` distinct items (random.sample's type checks cost more than the drawing)."""
    chosen = list(items)
    for i in range(min(k, len(chosen))):
        j = i + rng.randrange(len(chosen) - i)
        chosen[i], chosen[j] = chosen[j], chosen[i]
    return chosen[:k]


def _weeks(count: int) -> str:
    return "1 week" if count == 1 else f"{count} weeks"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(parts: Sequence[str], rng: random.Random | None = None) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    comma = "," if rng is not None and rng.random() < 0.4 and len(parts) > 2 else ""
    return ", ".join(parts[:-1]) + f"{comma} and {parts[-1]}"


_LONG_WORD = re.compile(r"\b[a-z]{7,}\b")


def _typo(rng: random.Random, sentence: str) -> str:
    """One slip of the keyboard in a long lower-case word of free prose."""
    words = list(_LONG_WORD.finditer(sentence))
    if not words:
        return sentence
    match = _pick(rng, words)
    word = match.group(0)
    at = rng.randrange(1, len(word) - 2)
    slip = rng.random()
    if slip < 0.5:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif slip < 0.8:
        word = word[:at] + word[at + 1 :]
    else:
        word = word[:at] + word[at] + word[at:]
    return sentence[: match.start()] + word + sentence[match.end() :]


def _date_text(rng: random.Random, day: dt.date, style: str | None = None) -> str:
    style = style or _pick(rng, ("slash", "slash", "slash", "dash", "long"))
    if style == "dash":
        return day.strftime("%m-%d-%Y")
    if style == "long":
        return f"{day.strftime('%B')} {day.day}, {day.year}"
    return day.strftime("%m/%d/%Y")


def _findings(rng: random.Random, case: _Case) -> str:
    return _pick(rng, _FINDINGS["spine" if case.region in _SPINE else "joint"])


def _lower_first(text: str) -> str:
    """The text as it reads inside a sentence: 'Tramadol' -> 'tramadol', 'TENS unit' kept."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _person(rng: random.Random) -> tuple[str, str]:
    return _pick(rng, _FIRST_NAMES), _pick(rng, _NAME_HEADS) + _pick(rng, _NAME_TAILS)


def _clinic(rng: random.Random) -> str:
    return f"{_pick(rng, _PLACES)} {_pick(rng, _PLACE_KINDS)} {_pick(rng, _CLINIC_KINDS)}"


# =====================================================================
# The letter as data.


@dataclass
class _Citation:
    """A guideline line, the guideline IDs it cites and the pages it gives."""

    text: str
    ids: list[str]
    pages: str | None = None


@dataclass
class _Request:
    """A request's words and what they mean."""

    text: str
    quantity: int | None
    regions: list[str]
    render: Callable[[int], str] | None = None  # the same request for another quantity
    step: int = 1
    days: int | None = None
    strength: str | None = None
    counted: bool = False  # the quantity is a "#N"/"Qty N" count of a drug
    form: str = ""  # the treatment's words


@dataclass
class _Item:
    """A disputed item: what was decided, and the words that say it."""

    treatment: _Treatment
    request: _Request
    heading: str = ""
    decided: str = ""
    quantity: int | None = None
    outcome: str = "upheld"
    reasons: list[str] = field(default_factory=list)
    ca: _Citation = field(default_factory=lambda: _Citation("", []))
    imr: _Citation = field(default_factory=lambda: _Citation("", []))
    rationale: str = ""
    why: str = ""
    partial: dict[str, int | None] | None = None
    depends: bool = False


@dataclass
class _Case:
    """One letter's case, decided before any of it is written."""

    index: int
    layout: str
    case_number: str
    new_style: bool  # 2016-on citation wording
    received: dt.date
    ur_denial: dt.date
    assigned: dt.date
    decision: dt.date
    injury: dt.date
    report: dt.date
    priority: str
    age: int
    sex: str
    occupation: str
    mechanism: str
    employee: tuple[str, str]
    provider: tuple[str, str]
    licensure: list[str]
    specialties: list[str]
    diagnoses: list[str]
    prior: list[tuple[str, str]]  # (words as written, keyword)
    absent: str | None
    region: str
    items: list[_Item]
    clinic: str
    typos: bool


# =====================================================================
# Requests.


def _regions_for(rng: random.Random, treatment: _Treatment) -> list[str]:
    """The regions a request names beyond its treatment's own words."""
    kind = treatment.kind
    if treatment.key in _NO_REGIONS or kind not in _REGIONAL:
        return []
    if treatment.hints:
        return [_pick(rng, treatment.hints)]
    if kind == "electrodiagnostic":
        return [_pick(rng, _EXTREMITIES)]
    if "spine-surgery" in treatment.lineage:
        return [_pick(rng, _SPINE[:2], (3, 2))]
    chance = {
        "therapy": 0.85,
        "modality": 0.5,
        "estim": 0.35,
        "imaging": 1.0,
        "injection": 0.5,
        "surgery": 0.4,
        "orthosis": 1.0,
        "consult": 0.4 if "surgical-consultation" in treatment.lineage else 0.0,
    }.get(kind, 0.0)
    if rng.random() >= chance:
        return []
    pool = _LIMBS if kind in ("injection", "surgery", "orthosis") else list(_REGION_WEIGHTS)
    weights = [_REGION_WEIGHTS.get(r, 1.0) for r in pool]
    first = _pick(rng, pool, weights)
    if kind in ("therapy", "imaging", "modality") and rng.random() < 0.22:
        second = _pick(rng, pool, weights)
        if second != first:
            return [first, second]
    return [first]


def _region_words(rng: random.Random, key: str, side: str | None) -> str:
    region = _catalog().regions[key]
    forms = region.typos if region.typos and rng.random() < 0.01 else region.forms
    words = _pick(rng, [forms[0]] * 6 + list(forms[1:]))
    return f"{side} {words}" if side else words


def _side(rng: random.Random, key: str) -> str | None:
    if not _catalog().regions[key].lateral or rng.random() < 0.25:
        return None
    return _pick(rng, ("right", "left", "bilateral"), (4, 4, 2))


def _region_phrase(rng: random.Random, keys: Sequence[str]) -> str:
    side = None
    parts = []
    for key in keys:
        side = _side(rng, key)
        parts.append(_region_words(rng, key, side))
    return _join(parts)


def _form(rng: random.Random, treatment: _Treatment) -> _Form:
    # a misspelling the vocabulary knows letters make ("phyiscal therapy") now and then
    if treatment.typos and rng.random() < 0.015:
        return _pick(rng, treatment.typos)
    # the usual name half of the time, any of the names the vocabulary knows otherwise
    return treatment.forms[0] if rng.random() < 0.5 else _pick(rng, treatment.forms)


def _strength(rng: random.Random, treatment: _Treatment) -> str:
    choices = _STRENGTHS.get(treatment.key) or _STRENGTHS.get(treatment.drug_class or "")
    value = _pick(rng, choices or _DEFAULT_STRENGTHS)
    return f"{value}{_pick(rng, ('mg', 'mg', 'mg', ' mg'))}"


def _drug_request(rng: random.Random, treatment: _Treatment, name: str) -> _Request:
    if treatment.kind == "topical":
        pct = _pick(rng, ("5", "10", "15", "20"))
        roll = rng.random()
        if roll < 0.4:
            grams = _pick(rng, (30, 60, 120, 180, 240))
            return _Request(f"{name} {pct}% {grams} grams", None, [], strength=f"{pct}%")
        count = _pick(rng, (1, 2, 30, 60))
        return _Request(
            f"{name} {pct}% #{count}",
            count,
            [],
            lambda q: f"{name} {pct}% #{q}",
            strength=f"{pct}%",
            counted=True,
        )
    strength = _strength(rng, treatment)
    count = _pick(rng, _COUNTS)
    roll = rng.random()
    if roll < 0.45:
        return _Request(
            f"{name} {strength} #{count}",
            count,
            [],
            lambda q: f"{name} {strength} #{q}",
            strength=strength,
            counted=True,
        )
    if roll < 0.6:
        return _Request(
            f"{name} {strength} Qty {count}",
            count,
            [],
            lambda q: f"{name} {strength} Qty {q}",
            strength=strength,
            counted=True,
        )
    if roll < 0.7:
        refills = _pick(rng, ("1 refill", "2 refills", "3 refills"))
        return _Request(
            f"{name} {strength} #{count} with {refills}",
            count,
            [],
            lambda q: f"{name} {strength} #{q} with {refills}",
            strength=strength,
            counted=True,
        )
    if roll < 0.78:
        per_day = _pick(rng, (1, 2, 3))
        days = _pick(rng, (10, 14, 30))
        sig = {1: "once daily", 2: "2 times daily", 3: "3 times daily"}[per_day]
        return _Request(
            f"{name} {strength} {sig} for {days} days", per_day * days, [], strength=strength
        )
    if roll < 0.86:
        return _Request(f"{name} {strength} ({count} tablets)", count, [], strength=strength)
    if roll < 0.93:
        return _Request(f"{name} {strength}", None, [], strength=strength)
    return _Request(f"{name} {strength}, {_UNSPECIFIED}", None, [], strength=strength)


def _therapy_request(
    rng: random.Random, name: str, where: str, overturn: bool, limit: _Limit | None
) -> _Request:
    high = limit.high if limit and not limit.days else 24
    # a request within the guideline's limit when it will be overturned, often above it when not
    cap = high if overturn or rng.random() < 0.5 else max(high * 2, 12)
    freq = _pick(rng, (1, 2, 2, 3))
    weeks = rng.randint(1, max(1, cap // freq))
    roll = rng.random()
    if roll < 0.32:
        words = _pick(rng, ("times a week", "times per week", "x a week"))
        if freq == 1:
            words = _pick(rng, ("time a week", "time per week", "x a week"))
        return _Request(
            f"{name} {freq} {words} for {_weeks(weeks)}{where}",
            freq * weeks,
            [],
            lambda q: f"{name} {freq} {words} for {_weeks(q // freq)}{where}",
            step=freq,
        )
    if roll < 0.4 and freq > 1:
        return _Request(
            f"{name} {freq - 1}-{freq} times per week for {_weeks(weeks)}{where}",
            freq * weeks,
            [],
            lambda q: f"{name} {freq - 1}-{freq} times per week for {_weeks(q // freq)}{where}",
            step=freq,
        )
    if roll < 0.46 and freq == 2:
        return _Request(
            f"{name} twice weekly for {_weeks(weeks)}{where}",
            2 * weeks,
            [],
            lambda q: f"{name} twice weekly for {_weeks(q // 2)}{where}",
            step=2,
        )
    if roll < 0.52 and weeks < 10:
        return _Request(
            f"{name} {freq}x{weeks}{where}",
            freq * weeks,
            [],
            lambda q: f"{name} {freq}x{q // freq}{where}",
            step=freq,
        )
    count = rng.randint(2, max(2, cap))
    style = _pick(rng, ("x", "x", "sessions", "lead", "times", "paren"))
    if style == "x":
        return _Request(f"{name} x {count}{where}", count, [], lambda q: f"{name} x {q}{where}")
    if style == "sessions":
        return _Request(
            f"{name}, {count} sessions{where}", count, [], lambda q: f"{name}, {q} sessions{where}"
        )
    if style == "lead":
        low = _lower_first(name)
        return _Request(
            f"{count} sessions of {low}{where}",
            count,
            [],
            lambda q: f"{q} sessions of {low}{where}",
        )
    if style == "times":
        return _Request(
            f"{name} times {count}{where}", count, [], lambda q: f"{name} times {q}{where}"
        )
    return _Request(f"{name} ({count}){where}", count, [], lambda q: f"{name} ({q}){where}")


def _request(
    rng: random.Random, treatment: _Treatment, overturn: bool, near: Sequence[str] = ()
) -> _Request:
    """Words for a request of the treatment, with the quantity and regions they give
    (``near``: the regions of the surgery a service goes with)."""
    form = _form(rng, treatment)
    request = _worded(rng, treatment, form, overturn, near)
    request.form = form.text
    return request


def _worded(
    rng: random.Random, treatment: _Treatment, form: _Form, overturn: bool, near: Sequence[str]
) -> _Request:
    kind = treatment.kind
    name = _cap(form.text) if form.text[:1].islower() else form.text
    if kind in ("opioid", "drug", "topical", "food"):
        if kind == "food":
            count = _pick(rng, (30, 60, 90, 120))
            return _Request(f"{name} #{count}", count, [], lambda q: f"{name} #{q}")
        return _drug_request(rng, treatment, name)

    own = list(form.regions)
    if own:
        extra: list[str] = []
    elif near and kind in ("therapy", "dme", "modality", "estim"):
        extra = list(near)
    else:
        extra = _regions_for(rng, treatment)
    regions = own + extra
    where = ""
    if extra:
        where = f" {_pick(rng, ('for the', 'for the', 'to the', 'of the'))} " + _region_phrase(
            rng, extra
        )
    lead = name
    if own and rng.random() < 0.7:
        side = _side(rng, own[0])
        if side:
            lead = f"{_cap(side)} {form.text}"

    if kind in ("therapy", "psych") and rng.random() < (0.9 if kind == "therapy" else 0.7):
        request = _therapy_request(rng, lead, where, overturn, treatment.limit)
        request.regions = regions
        return request
    if kind == "estim" or (treatment.limit is not None and treatment.limit.days):
        limit = treatment.limit
        high = limit.high if limit is not None and limit.days else 30
        days = _pick(rng, (high, high, 14, 7) if overturn else (high, high * 2, high * 3))
        days = max(1, min(days, 90))
        style = _pick(rng, ("trial", "rental", "for"))
        if style == "trial":
            return _Request(f"{lead}, {days} day trial{where}", None, regions, days=days)
        if style == "rental":
            return _Request(f"{lead} rental for {days} days{where}", None, regions, days=days)
        return _Request(f"{lead}{where} for {days} days", None, regions, days=days)
    if kind == "injection" and regions and regions[0] in _LEVELS and rng.random() < 0.7:
        level = _pick(rng, _LEVELS[regions[0]])
        side = _pick(rng, ("", "", "Left ", "Right ", "Bilateral "))
        text = f"{side}{form.text if side else name} at {level}"
        if rng.random() < 0.2:
            count = _pick(rng, (2, 3))
            return _Request(f"{text} x {count}", count, regions)
        return _Request(text, None, regions)
    counted_visits = kind in ("injection", "modality", "transport", "supply")
    if (counted_visits or treatment.key == "office-visit") and rng.random() < 0.25:
        count = _pick(rng, (2, 3, 4, 6))
        return _Request(
            f"{lead} x {count}{where}", count, regions, lambda q: f"{lead} x {q}{where}"
        )
    sessions = treatment.limit is not None and not treatment.limit.days
    if kind == "program" and sessions and rng.random() < 0.6:
        count = _pick(rng, (6, 10, 12, 20, 30))
        return _Request(
            f"{lead}, {count} sessions{where}",
            count,
            regions,
            lambda q: f"{lead}, {q} sessions{where}",
        )
    if kind == "imaging" and extra and rng.random() < 0.3:
        region = _region_phrase(rng, extra)
        return _Request(f"{_cap(region)} {form.text}", None, regions)
    prefix = ""
    if kind in ("dme", "orthosis") and rng.random() < 0.25:
        prefix = "Purchase of "
    elif rng.random() < 0.06:
        prefix = "Retrospective request for "
    if prefix:
        lead = _lower_first(lead)
    return _Request(f"{prefix}{lead}{where}", None, regions)


# =====================================================================
# Citations.


def _chapter_words(rng: random.Random, key: str) -> str:
    return _pick(rng, _catalog().chapters[key].forms)


def _pages(rng: random.Random, limit: _Limit | None) -> str:
    if limit is not None and limit.pages and rng.random() < 0.7:
        return limit.pages
    first = rng.randint(8, 124)
    return str(first) if rng.random() < 0.4 else f"{first}-{first + rng.randint(1, 3)}"


def _cpmtg(rng: random.Random, case: _Case, item: _Item, imr: bool) -> _Citation:
    treatment = item.treatment
    topic = treatment.topic or "General principles"
    pages = _pages(rng, treatment.limit)
    if case.new_style:
        return _Citation(
            f"Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): {topic}.",
            ["MTUS-CPMTG"],
        )
    style = rng.random()
    if style < 0.15:
        word = "pages" if "-" in pages else "page"
        return _Citation(
            f"Decision based on MTUS Chronic Pain Medical Treatment Guidelines, {word} {pages}.",
            ["MTUS-CPMTG"],
            pages,
        )
    if imr and style < 0.75:
        return _Citation(
            "Decision based on MTUS Chronic Pain Treatment Guidelines 9792.20 - 9792.26 "
            f"Page(s): {pages}.",
            ["MTUS-CPMTG"],
            pages,
        )
    return _Citation(
        f"Decision based on MTUS Chronic Pain Treatment Guidelines {topic} Page(s): {pages}.",
        ["MTUS-CPMTG"],
        pages,
    )


def _acoem(rng: random.Random, case: _Case, item: _Item, chapter_key: str) -> _Citation:
    chapter = _catalog().chapters[chapter_key]
    name = chapter.forms[0]
    first = rng.randint(160, 380)
    pages = f"{first}-{first + rng.randint(1, 4)}"
    if case.new_style:
        section = {
            "imaging": "Special Studies",
            "electrodiagnostic": "Special Studies",
            "surgery": "Surgical Considerations",
        }.get(item.treatment.kind, "Initial Care")
        return _Citation(
            f"Decision based on MTUS {name} 2004, Section(s): {section}.", ["MTUS-ACOEM"]
        )
    if chapter.number is not None and rng.random() < 0.5:
        return _Citation(
            f"Decision based on MTUS ACOEM Practice Guidelines, Chapter {chapter.number} {name}, "
            f"pages {pages}.",
            ["MTUS-ACOEM"],
            pages,
        )
    number = f"Chapter {chapter.number} " if chapter.number is not None else ""
    return _Citation(
        f"Decision based on MTUS ACOEM {number}{name} Page(s): {pages}.", ["MTUS-ACOEM"], pages
    )


def _odg(
    rng: random.Random, item: _Item, chapter_key: str, by: str, first: bool = True
) -> _Citation:
    """An ODG citation; the first sentence of a line may say it goes outside the MTUS."""
    chapter = _chapter_words(rng, chapter_key)
    topic = item.treatment.topic or "Procedure summary"
    style = rng.random()
    preamble = (
        f"The {by} based their decision on recommendation(s) outside of the MTUS Guidelines. "
        if first and rng.random() < 0.4
        else ""
    )
    if style < 0.4:
        body = f"Official Disability Guidelines (ODG) {chapter}, {topic}"
    elif style < 0.7:
        body = f"Official Disability Guidelines (ODG), {chapter} Chapter, {topic}"
    else:
        body = f"Official Disability Guidelines (ODG) {chapter} (updated 06/15/16), {topic}"
    return _Citation(f"{preamble}Decision based on Non-MTUS Citation {body}.", ["ODG"])


def _citation(rng: random.Random, case: _Case, item: _Item, imr: bool) -> _Citation:
    """One citation line for an item: what the claims administrator or the reviewer cited."""
    treatment = item.treatment
    by = "Expert Reviewer" if imr else "Claims Administrator"
    if not imr and rng.random() < 0.05:
        return _Citation(
            "The Claims Administrator did not cite any medical evidence for its decision.", []
        )
    if rng.random() < 0.03:
        source = _pick(rng, _OTHER_SOURCES)
        topic = treatment.topic or "Treatment overview"
        return _Citation(f"Decision based on Non-MTUS Citation {source}, {topic}.", ["OTHER"])
    region = item.request.regions[0] if item.request.regions else case.region
    acoem, odg = _CHAPTERS.get(region, (None, "ODG/pain"))
    odg = odg or "ODG/pain"
    kind = treatment.kind
    setter = treatment.limit.guideline if treatment.limit else None
    if kind == "opioid" and case.new_style and rng.random() < 0.7:
        section = _pick(
            rng,
            (
                "3.3 Opioids for Chronic Pain and Chronic Opioid Treatment",
                "3.3.8 Opioid Titration and Dosing Threshold",
                "1.4 Opioids for Acute Pain",
            ),
        )
        return _Citation(
            f"Decision based on MTUS Opioid Treatment 2016, Section(s): {section}.", ["MTUS-OTG"]
        )
    if setter == "MTUS-AMTG" or "acupuncture" in treatment.lineage:
        year = " 2007" if case.new_style else " Guidelines"
        return _Citation(f"Decision based on MTUS Acupuncture Treatment{year}.", ["MTUS-AMTG"])
    if "postoperative-physical-therapy" in treatment.lineage or item.depends:
        if kind == "therapy":
            if case.new_style:
                section = _catalog().regions[region].label if region in _CHAPTERS else "Knee"
                return _Citation(
                    f"Decision based on MTUS Postsurgical Treatment 2009, Section(s): {section}.",
                    ["MTUS-PSTG"],
                )
            page = str(rng.randint(10, 27))
            return _Citation(
                f"Decision based on MTUS Postsurgical Treatment Guidelines Page(s): {page}.",
                ["MTUS-PSTG"],
                page,
            )
        return _odg(rng, item, odg, by)
    if kind in ("drug", "topical", "opioid", "program", "home", "psych", "estim") or (
        setter == "MTUS-CPMTG"
    ):
        if kind in ("drug", "psych") and rng.random() < 0.2:
            return _odg(rng, item, "ODG/pain", by)
        both = rng.random() < 0.08
        cited = _cpmtg(rng, case, item, imr)
        if both:
            extra = _odg(rng, item, "ODG/pain", by, first=False)
            cited = _Citation(f"{cited.text} {extra.text}", [*cited.ids, "ODG"], cited.pages)
        return cited
    if kind in ("imaging", "electrodiagnostic", "surgery", "injection", "orthosis", "consult"):
        if acoem and rng.random() < 0.55:
            cited = _acoem(rng, case, item, acoem)
            if rng.random() < 0.3:
                extra = _odg(rng, item, odg, by, first=False)
                cited = _Citation(f"{cited.text} {extra.text}", [*cited.ids, "ODG"], cited.pages)
            return cited
        return _odg(rng, item, odg, by)
    if kind in ("therapy", "modality") and rng.random() < 0.7:
        return _cpmtg(rng, case, item, imr)
    return _odg(rng, item, odg if kind in ("therapy", "modality", "dme") else "ODG/pain", by)


# =====================================================================
# Rationales.


@cache
def _neutral(text: str) -> bool:
    """Whether a sentence states no reason: no cue pattern of the reason vocabulary matches.

    Remembered: the sentences checked (a guideline's scope) are a few thousand at most.
    """
    return _catalog().cues.search(text) is None


def _guideline_name(rng: random.Random, ids: Sequence[str]) -> str:
    return _pick(rng, _GUIDELINE_NAMES[ids[0] if ids else "OTHER"])


def _what(item: _Item) -> str:
    label = _strip_parentheses(item.treatment.label)
    return label if label[:1].isupper() and label[1:2].isupper() else label.lower()


def _choose_reasons(rng: random.Random, item: _Item) -> list[str]:
    treatment, request = item.treatment, item.request
    kind = treatment.kind
    if item.depends:
        return ["DEPENDS_ON_DENIED_SERVICE"]
    if rng.random() < 0.01:
        return ["ALREADY_AUTHORIZED"]
    limit = treatment.limit
    over = False
    if limit is not None:
        if limit.days:
            over = request.days is not None and request.days > limit.high
        else:
            over = item.quantity is not None and item.quantity > limit.high
    reasons: list[str] = []
    if kind == "opioid":
        reasons.append("OPIOID_CRITERIA_NOT_MET")
    if over:
        reasons.append("EXCEEDS_GUIDELINE_QUANTITY")
    options: dict[str, tuple[str, ...]] = {
        "opioid": ("NO_FUNCTIONAL_IMPROVEMENT",),
        "drug": ("NOT_RECOMMENDED", "NO_FUNCTIONAL_IMPROVEMENT", "INSUFFICIENT_DOCUMENTATION"),
        "topical": ("NOT_RECOMMENDED",),
        "food": ("NOT_RECOMMENDED",),
        "therapy": (
            "NO_FUNCTIONAL_IMPROVEMENT",
            "TRANSITION_TO_HOME_PROGRAM",
            "INSUFFICIENT_DOCUMENTATION",
        ),
        "modality": ("NOT_ADJUNCT_TO_ACTIVE_THERAPY", "NOT_RECOMMENDED"),
        "estim": (
            "NOT_ADJUNCT_TO_ACTIVE_THERAPY",
            "CONSERVATIVE_CARE_NOT_TRIED",
            "INSUFFICIENT_DOCUMENTATION",
        ),
        "injection": (
            "CONSERVATIVE_CARE_NOT_TRIED",
            "INSUFFICIENT_DOCUMENTATION",
            "NO_FUNCTIONAL_IMPROVEMENT",
        ),
        "surgery": ("CONSERVATIVE_CARE_NOT_TRIED", "INSUFFICIENT_DOCUMENTATION"),
        "psych": ("NO_FUNCTIONAL_IMPROVEMENT", "INSUFFICIENT_DOCUMENTATION"),
        "program": ("INSUFFICIENT_DOCUMENTATION", "NOT_RECOMMENDED"),
    }
    pool = options.get(kind, ("INSUFFICIENT_DOCUMENTATION",))
    wanted = 1 if reasons else (2 if rng.random() < 0.3 and len(pool) > 1 else 1)
    if reasons and rng.random() < 0.6:
        wanted = 0
    for code in _sample(rng, pool, min(wanted, len(pool))):
        if code not in reasons:
            reasons.append(code)
    if _UNSPECIFIED in request.text and "INSUFFICIENT_DOCUMENTATION" not in reasons:
        # a request without a quantity is denied for want of one, and the rationale says so
        reasons.append("INSUFFICIENT_DOCUMENTATION")
    return reasons


def _reason_sentence(rng: random.Random, code: str, item: _Item) -> str:
    treatment = item.treatment
    noun = _NOUNS[treatment.kind]
    if code == "EXCEEDS_GUIDELINE_QUANTITY":
        limit = treatment.limit
        assert limit is not None
        if limit.days:
            return _pick(rng, _EXCEEDS_DAYS).format(n=item.request.days, limit=limit.high)
        unit = "visits" if "visit" in limit.unit else f"{limit.unit.split()[-1]}s"
        bound = f"{limit.low}-{limit.high}" if limit.low else str(limit.high)
        return _pick(rng, _EXCEEDS_COUNT).format(n=item.quantity, unit=unit, limit=bound)
    if code == "INSUFFICIENT_DOCUMENTATION" and _UNSPECIFIED in item.request.text:
        return "The request does not specify the quantity or the duration of use."
    prior = {"opioid": "medication use", "drug": "medication use", "injection": "injections"}
    if code == "DEPENDS_ON_DENIED_SERVICE" and treatment.kind not in ("adjunct",):
        noun = "this associated service"
    text = _pick(rng, _REASON_SENTENCES[code])
    return text.format(
        noun=noun,
        Noun=_cap(noun),
        missing=_MISSING[treatment.kind],
        prior=prior.get(treatment.kind, "sessions"),
    )


def _rationale(rng: random.Random, case: _Case, item: _Item, partial_words: str) -> str:
    ids = item.imr.ids
    guideline = _guideline_name(rng, ids)
    what = _what(item)
    region = _catalog().regions[item.request.regions[0] if item.request.regions else case.region]
    sentences: list[str] = []
    free: list[int] = []  # sentences that may carry a typo
    if item.outcome == "overturned":
        template = _pick(rng, _POSITIVE)
        sentences.append(template.format(Guideline=_cap(guideline), guideline=guideline, what=what))
        sentences.append(_pick(rng, _MEETS).format(finding=_findings(rng, case)))
        free += [0, 1]
        sentences.append("The request is within guideline recommendations.")
        close = "is medically necessary"
    else:
        template = _pick(rng, _NEUTRAL_GUIDELINE)
        noun = _NOUNS[item.treatment.kind]
        # the opening states no reason: not "... urine drug testing", nor "MTUS Opioid ... criteria"
        for name, subject in ((guideline, what), (guideline, noun), ("the guidelines", noun)):
            opening = template.format(Guideline=_cap(name), guideline=name, what=subject)
            if _neutral(opening):
                break
        sentences.append(opening)
        free.append(0)
        for general in _sample(rng, _GENERAL_GUIDANCE, rng.randint(1, 3)):
            sentences.append(general)
            free.append(len(sentences) - 1)
        if rng.random() < 0.6:
            sentences.append(
                _pick(rng, _PATIENT).format(
                    region=region.label.lower(),
                    pain=rng.randint(4, 9),
                    finding=_findings(rng, case),
                )
            )
            free.append(len(sentences) - 1)
        for code in item.reasons:
            sentences.append(_reason_sentence(rng, code, item))
        close = "is not medically necessary"
    if case.layout == "maximus" and rng.random() < 0.6:
        close += " and appropriate"
    if partial_words:
        closing = f"{partial_words}, {item.decided}, {close}."
    else:
        lead = _pick(rng, ("Therefore, the request for ", "Given the above, the request for ", ""))
        closing = f"{lead}{item.decided if lead else _cap(item.decided)} {close}."
    # a restated request must not state a reason of its own ("Urine drug screen ...")
    if rng.random() < 0.85:
        sentences.append(closing)
    else:
        sentences.append(f"Therefore, the request {close}.")
    if case.typos:
        for index in free:
            if rng.random() < 0.25:
                sentences[index] = _typo(rng, sentences[index])
    return " ".join(sentences)


# =====================================================================
# Items of a letter.

# Services requested with a surgery, besides the vocabulary's surgical adjuncts.
_WITH_SURGERY = (
    "postoperative-physical-therapy",
    "cold-therapy-unit",
    "crutches",
    "continuous-passive-motion",
    "hydrocodone-acetaminophen",
)
_DRUG_KINDS = ("opioid", "drug", "topical", "food")


def _pick_treatment(rng: random.Random, count: int) -> _Treatment:
    by_kind = _catalog().by_kind
    kinds = [k for k, w in _KIND_WEIGHTS.items() if w > 0 and k in by_kind]
    # letters with many items are mostly lists of medications
    boost = 2.5 if count >= 5 else 1.0
    weights = [_KIND_WEIGHTS[k] * (boost if k in _DRUG_KINDS else 1.0) for k in kinds]
    treatments, cum = by_kind[_pick(rng, kinds, weights)]
    return _pick(rng, treatments, cum=cum)


def _plan(rng: random.Random, count: int) -> list[tuple[_Treatment, str]]:
    """The treatments of a letter, each with its role: '', 'surgery' or 'associated'."""
    catalog = _catalog()
    plan: list[tuple[_Treatment, str]] = []
    if count >= 2 and rng.random() < 0.08:
        surgeries, cum = catalog.by_kind["surgery"]
        plan.append((_pick(rng, surgeries, cum=cum), "surgery"))
        services = [catalog.treatments[k] for k in _WITH_SURGERY if k in catalog.treatments]
        services += [t for t in catalog.by_kind.get("adjunct", ([], []))[0] if len(t.lineage) > 2]
        for service in _sample(rng, services, min(len(services), rng.randint(1, 3), count - 1)):
            plan.append((service, "associated"))
    while len(plan) < count:
        treatment = _pick_treatment(rng, count)
        if treatment.kind == "surgery" and rng.random() < 0.5:
            continue  # a surgery comes with its services more often than alone
        if treatment.kind in _DRUG_KINDS and any(treatment is t for t, _ in plan):
            continue
        plan.append((treatment, ""))
    return plan


def _composed(
    rng: random.Random, treatment: _Treatment, overturn: bool, near: list[str]
) -> _Request:
    """A request that still names its treatment first once its words are put together."""
    treatments_m = matcher("treatment")
    for _ in range(6):
        request = _request(rng, treatment, overturn, near)
        first = treatments_m.first(request.text)
        if first is not None and first.concept.iri == treatment.iri:
            return request
    form = treatment.forms[0]
    return _Request(_cap(form.text), None, list(form.regions), form=form.text)


def _items(rng: random.Random, case: _Case, count: int) -> list[_Item]:
    plan = _plan(rng, count)
    surgery_overturned = rng.random() < 0.2
    near: list[str] = []
    items = []
    for treatment, role in plan:
        if role == "surgery":
            overturn = surgery_overturned
        elif role == "associated":
            overturn = surgery_overturned and rng.random() < 0.85
        else:
            overturn = rng.random() < _OVERTURN_RATE
        request = _composed(rng, treatment, overturn, near if role == "associated" else [])
        if role == "surgery":
            near = request.regions
        item = _Item(treatment, request, outcome="overturned" if overturn else "upheld")
        item.depends = role == "associated" and not surgery_overturned
        _word_item(rng, case, item, associated=role == "associated")
        items.append(item)
    return items


def _word_item(rng: random.Random, case: _Case, item: _Item, associated: bool) -> None:
    """Heading, quantity, reasons, citations and rationale of an item."""
    request = item.request
    item.heading = item.decided = request.text
    item.quantity = request.quantity
    partial_words = ""
    if (
        request.render is not None
        and request.quantity is not None
        and request.quantity >= 2 * request.step
        and not associated
        and rng.random() < _PARTIAL_RATE
    ):
        total, step = request.quantity, request.step
        # the claims administrator authorizes a round part: a half, a third, two thirds
        parts = {total * k // d // step * step for k, d in ((1, 2), (1, 3), (2, 3), (1, 4))}
        parts = {p for p in parts if 0 < p < total}
        authorized = (
            _pick(rng, sorted(parts)) if parts else step * rng.randint(1, total // step - 1)
        )
        verb = _pick(rng, ("authorized", "authorized", "certified", "approved"))
        given = request.render(authorized)
        if rng.random() < 0.6:
            item.decided = request.render(total - authorized)
            item.quantity = total - authorized
            item.heading = (
                f"{request.text} was the original request. {given} was {verb} by the Claims "
                "Administrator. The remaining IMR eligible portion of the original request, "
                f"{item.decided} is"
            )
            partial_words = "The remaining IMR eligible portion of the original request"
        else:
            item.heading = (
                f"{request.text} was the original request. The Claims Administrator {verb} "
                f"{given}, leaving the original request IMR eligible. The original request, "
                f"{request.text} is"
            )
            partial_words = "The original request"
        item.partial = {"requested": total, "authorized": authorized}
    elif associated and rng.random() < 0.6:
        item.heading = item.decided = f"Associated surgical service: {request.text}"
    item.reasons = (
        ["WITHIN_GUIDELINES"] if item.outcome == "overturned" else _choose_reasons(rng, item)
    )
    item.ca = _citation(rng, case, item, imr=False)
    if item.ca.ids and rng.random() < 0.5:
        # the reviewer often relies on what the claims administrator cited
        item.imr = _Citation(item.ca.text, list(item.ca.ids), item.ca.pages)
        item.imr.text = item.imr.text.replace(
            "The Claims Administrator based", "The Expert Reviewer based"
        )
    else:
        item.imr = _citation(rng, case, item, imr=True)
        if not item.imr.ids:  # a reviewer always cites something
            item.imr = _citation(rng, case, item, imr=True)
    item.rationale = _rationale(rng, case, item, partial_words)
    what = _what(item)
    item.why = _pick(
        rng,
        (
            f"{_cap(_guideline_name(rng, item.imr.ids))} address {what} and the criteria for "
            "its use.",
            f"These guidelines govern {what} for the condition under review.",
        ),
    )


# =====================================================================
# The case: who, when, what.


def _case(rng: random.Random, index: int, salt: int) -> _Case:
    catalog = _catalog()
    layout = _pick(rng, LAYOUTS, [_LAYOUT_WEIGHTS[name] for name in LAYOUTS])
    years, weights = catalog.years
    if layout == "maximus":  # the notice layout belongs to the first years of IMR
        years, weights = years[:4], weights[:4]
    year = _pick(rng, years, weights)
    new_style = year >= 2017 or (year == 2016 and rng.random() < 0.3)
    # an affine permutation of the index: unique case numbers at any corpus size
    serial = (index * 7_368_787 + salt) % 10_000_000
    received = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 350))
    ur_denial = received - dt.timedelta(days=rng.randint(3, 25))
    assigned = received + dt.timedelta(days=rng.randint(1, 21))
    expedited = rng.random() < 0.04
    decision = assigned + dt.timedelta(days=rng.randint(2, 5) if expedited else rng.randint(14, 40))
    count = _pick(rng, list(_ITEM_COUNT_WEIGHTS), list(_ITEM_COUNT_WEIGHTS.values()))
    case = _Case(
        index=index,
        layout=layout,
        case_number=f"CM{year % 100:02d}-{serial:07d}",
        new_style=new_style,
        received=received,
        ur_denial=ur_denial,
        assigned=assigned,
        decision=decision,
        injury=ur_denial - dt.timedelta(days=rng.randint(60, 4000)),
        report=ur_denial - dt.timedelta(days=rng.randint(5, 60)),
        priority="Expedited" if expedited else "Standard",
        age=round(rng.triangular(19, 74, 49)),
        sex="male" if rng.random() < 0.55 else "female",
        occupation=_pick(rng, _OCCUPATIONS),
        mechanism=_pick(rng, _MECHANISMS),
        employee=_person(rng),
        provider=_person(rng),
        licensure=[],
        specialties=[],
        diagnoses=[],
        prior=[],
        absent=None,
        region=_pick(rng, list(_REGION_WEIGHTS), list(_REGION_WEIGHTS.values())),
        items=[],
        clinic=_clinic(rng),
        typos=rng.random() < 0.3,
    )
    case.items = _items(rng, case, count)
    named = [r for item in case.items for r in item.request.regions if r in _DIAGNOSES]
    if named:
        case.region = named[0]
    _reviewer(rng, case)
    _clinical(rng, case)
    return case


def _reviewer(rng: random.Random, case: _Case) -> None:
    catalog = _catalog()
    first = case.items[0].treatment
    matched = _SPECIALTY_FOR_TREATMENT.get(first.lineage[-2] if len(first.lineage) > 1 else "")
    matched = matched or _SPECIALTY_FOR_KIND.get(first.kind)
    if matched and rng.random() < 0.6:
        keys = [_pick(rng, [k for k in matched if k in catalog.specialties])]
    else:
        pool = list(_SPECIALTY_WEIGHTS)
        keys = [_pick(rng, pool, list(_SPECIALTY_WEIGHTS.values()))]
    if rng.random() < 0.25:
        related = [k for k in catalog.specialties[keys[0]].related if k in catalog.specialties]
        second = (
            _pick(rng, related)
            if related
            else _pick(rng, ("pain-management", "occupational-medicine"))
        )
        if second != keys[0]:
            keys.append(second)
    for key in keys:
        forms = catalog.specialties[key].forms
        case.specialties.append(forms[0] if rng.random() < 0.7 else _pick(rng, forms))
    others = [s for s in catalog.states if s != "California"]
    extra = _sample(rng, others, _pick(rng, (0, 0, 0, 1, 1, 2)))
    case.licensure = ["California", *extra] if rng.random() < 0.75 else [*extra, "California"]


def _clinical(rng: random.Random, case: _Case) -> None:
    """Diagnoses and prior treatments of the case summary."""
    catalog = _catalog()
    regions = [case.region, *(r for item in case.items for r in item.request.regions)]
    diagnoses: list[str] = []
    for region in dict.fromkeys(r for r in regions if r in _DIAGNOSES):
        side = _pick(rng, ("right", "left", "bilateral"), (4, 4, 1))
        for text in _sample(rng, _DIAGNOSES[region], rng.randint(1, 2)):
            diagnoses.append(text.format(side=side))
        if len(diagnoses) >= 4:
            break
    if not diagnoses or rng.random() < 0.5:
        diagnoses += _sample(rng, _GENERAL_DIAGNOSES, rng.randint(1, 2))
    case.diagnoses = list(dict.fromkeys(diagnoses))[:5]

    prior: list[tuple[str, str]] = []
    concepts = _sample(rng, _PRIOR_CONCEPTS, rng.randint(1, 3))
    for key in concepts:
        words = catalog.treatments[key].forms[0].text
        words = _lower_first(words)
        if " and " in words:
            continue
        if catalog.treatments[key].kind == "therapy" and rng.random() < 0.4:
            prior.append((f"{rng.randint(6, 24)} sessions of {words}", words))
        else:
            prior.append((words, words))
    for words in _sample(rng, _PRIOR_OTHER, rng.randint(1, 2)):
        prior.append((words, words))
    rng.shuffle(prior)
    case.prior = prior
    unused = [
        _lower_first(catalog.treatments[k].forms[0].text)
        for k in _PRIOR_CONCEPTS
        if k not in concepts
    ]
    unused = [
        u for u in unused if not any(u.lower() in p[0].lower() for p in prior) and " and " not in u
    ]
    if unused and rng.random() < 0.4:
        case.absent = _pick(rng, unused)


# =====================================================================
# The letter in words.


def _pronoun(case: _Case) -> tuple[str, str]:
    return ("He", "his") if case.sex == "male" else ("She", "her")


def _summary(rng: random.Random, case: _Case) -> list[str]:
    """The paragraphs of the clinical case summary."""
    he = _pronoun(case)[0]
    injury = _date_text(rng, case.injury)
    # "a 51-year-old woman" alone, "a 51-year-old female electrician" with a trade
    man = "man" if case.sex == "male" else "woman"
    hyphen = "-" if rng.random() < 0.7 else " "
    age = f"{case.age}{hyphen}year{hyphen}old"
    opening = rng.random()
    sentences: list[str] = []
    if opening < 0.4:
        sentences.append(
            f"The injured worker is a {age} {case.sex} {case.occupation}, who sustained an "
            f"industrial injury on {injury}."
        )
        sentences.append(f"The mechanism of injury was described as {case.mechanism}.")
    elif opening < 0.7:
        sentences.append(
            f"The patient is a {age} {case.sex} {case.occupation} who reported an industrial "
            f"injury on {injury} while {case.mechanism}."
        )
    else:
        sentences.append(
            f"This case involves a {age} {_pick(rng, (case.sex, man))} with a date of injury of "
            f"{injury}."
        )
        sentences.append(f"The injury occurred while {case.mechanism}.")
    listed = _join(case.diagnoses, rng)
    sentences.append(
        _pick(
            rng,
            (
                f"The injured worker was diagnosed as having {listed}.",
                f"Current diagnoses include {listed}.",
                f"{he} has been diagnosed with {listed}.",
                f"The diagnoses are documented as {listed}.",
                f"{he} is being treated for {listed}.",
            ),
        )
    )
    region = _catalog().regions[case.region]
    if rng.random() < 0.5:
        study = _pick(rng, ("An MRI", "A CT scan", "X-rays"))
        verb = "were" if study == "X-rays" else "was"
        day = _date_text(rng, case.report - dt.timedelta(days=rng.randint(30, 300)))
        sentences.append(
            f"{study} of the {region.label.lower()} dated {day} {verb} read as showing "
            f"{_pick(rng, _IMAGING_FINDINGS['spine' if case.region in _SPINE else 'joint'])}."
        )
    prior = _join([p[0] for p in case.prior], rng)
    sentences.append(
        _pick(
            rng,
            (
                f"Treatment to date has included {prior}.",
                f"{he} has been treated with {prior}.",
                f"Previous treatments include {prior}.",
                f"Prior treatment has consisted of {prior}.",
            ),
        )
    )
    if case.absent:
        article = "an " if case.absent[:1] in "aeiou" else "a "
        countable = re.search(r"(?:injection|unit|block|device)$", case.absent)
        sentences.append(f"{he} has not had {article if countable else ''}{case.absent}.")
    first = [
        _pick(
            rng,
            (
                f"In the progress report dated {_date_text(rng, case.report)}, {he.lower()} "
                f"reported {region.label.lower()} pain rated {rng.randint(3, 9)}/10.",
                f"On {_date_text(rng, case.report)}, {he.lower()} complained of "
                f"{region.label.lower()} pain, rated {rng.randint(3, 9)} out of 10.",
            ),
        ),
        f"Examination revealed {_findings(rng, case)}.",
    ]
    if case.typos:
        first[1] = _typo(rng, first[1])
    drugs = [
        f"{i.treatment.forms[0].text} {i.request.strength}"
        for i in case.items
        if i.treatment.kind in ("opioid", "drug") and i.request.strength
    ]
    if drugs and rng.random() < 0.6:
        first.append(f"Current medications include {_join(drugs[:4])}.")
    his = "his" if case.sex == "male" else "her"
    for extra in _sample(rng, _COURSE, rng.randint(1, 3)):
        first.append(
            extra.format(
                He=he,
                he=he.lower(),
                his=his,
                date=_date_text(rng, case.report - dt.timedelta(days=rng.randint(20, 120))),
                finding=_findings(rng, case),
                high=rng.randint(6, 9),
                low=rng.randint(2, 5),
                region=region.label.lower(),
            )
        )
    first.append(f"{he} is {_pick(rng, _WORK_STATUS)}.")
    if rng.random() < 0.6:
        first.append(
            f"The treatment plan included {_join(list(dict.fromkeys(_what(i) for i in case.items))[:5])}."
        )
    asked = [_what(i) for i in case.items]
    denied = "non-certified" if rng.random() < 0.7 else "denied"
    plural = "requests" if len(asked) > 1 else "request"
    ur = (
        f"On {_date_text(rng, case.ur_denial)}, utilization review {denied} the {plural} for "
        f"{_join(list(dict.fromkeys(asked))[:6])}."
    )
    paragraphs = [" ".join(sentences)]
    if rng.random() < 0.5:
        paragraphs.append(" ".join([*first, ur]))
    else:
        paragraphs[0] += " " + " ".join([*first, ur])
    return paragraphs


def _outcome_word(rng: random.Random, item: _Item) -> str:
    word = "Overturned" if item.outcome == "overturned" else "Upheld"
    return word.upper() if rng.random() < 0.02 else word


def _credentials(rng: random.Random, case: _Case, prose: bool) -> list[str]:
    """The reviewer paragraph of HOW THE IMR FINAL DETERMINATION WAS MADE."""
    who = "a physician reviewer" if prose else "an expert reviewer"
    opening = (
        f"MAXIMUS Federal Services sent the complete case file to {who}. He/she has no "
        "affiliation with the employer, employee, providers or the claims administrator."
    )
    practice = (
        "He/she has been in active clinical practice for more than five years and is currently "
        "working at least 24 hours a week in active practice. The reviewer was selected based on "
        "his/her clinical experience, education, background, and expertise in the same or "
        "similar specialties that evaluate and/or treat the medical condition and disputed "
        "items/services. He/she is familiar with governing laws and regulations, including the "
        "strength of evidence hierarchy that applies to Independent Medical Review determinations."
    )
    if prose:
        certified = f"Board Certified in {case.specialties[0]}"
        if len(case.specialties) > 1:
            certified += f", has a subspecialty in {case.specialties[1]}"
        states = _join(case.licensure)
        middle = f"The physician reviewer is {certified} and is licensed to practice in {states}."
        return [f"{opening} {middle} {practice}"]
    separator = _pick(rng, (", ", ", ", "; "))
    return [
        f"{opening} {practice}",
        "\n".join(
            [
                "| The Expert Reviewer has the following credentials:",
                f"| State(s) of Licensure: {separator.join(case.licensure)}",
                f"| Certification(s)/Specialty: {', '.join(case.specialties)}",
            ]
        ),
    ]


def _decision_blocks(rng: random.Random, case: _Case, numbered: bool) -> list[str]:
    blocks = [
        "The Final Determination was based on decisions for the disputed items/services set "
        "forth below:"
    ]
    for number, item in enumerate(case.items, 1):
        lead = f"{number}. " if numbered else ""
        blocks += [
            f"**{lead}{item.heading}:** {_outcome_word(rng, item)}",
            f"**Claims Administrator guideline:** {item.ca.text}",
            f"**MAXIMUS guideline:** {item.imr.text}",
            f"**Decision rationale:** {item.rationale}",
        ]
    return blocks


def _header_table(case: _Case, label: str = "Case Number") -> str:
    day = "%m/%d/%Y"
    return "\n".join(
        [
            f"| {label}: {case.case_number}",
            f"| Date Assigned: {case.assigned.strftime(day)}  "
            f"Date of Injury: {case.injury.strftime(day)}",
            f"| Decision Date: {case.decision.strftime(day)}  "
            f"UR Denial Date: {case.ur_denial.strftime(day)}",
            f"| Priority: {case.priority}  Application Received: {case.received.strftime(day)}",
        ]
    )


_SUMMARY_LEAD = (
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:"
)


def _dwc_letter(rng: random.Random, case: _Case) -> list[str]:
    """The blocks of a DWC letter (with or without its header)."""
    blocks = [_header_table(case), "HOW THE IMR FINAL DETERMINATION WAS MADE"]
    blocks += _credentials(rng, case, prose=rng.random() < 0.3)
    blocks += ["CLINICAL CASE SUMMARY", _SUMMARY_LEAD, *_summary(rng, case)]
    blocks += ["IMR ISSUES, DECISIONS AND RATIONALES"]
    blocks += _decision_blocks(rng, case, numbered=rng.random() < 0.15)
    return blocks


def _documents(rng: random.Random, case: _Case) -> str:
    start = case.injury + dt.timedelta(days=rng.randint(1, 40))
    lines = [
        f"Application of Independent Medical Review, received {_date_text(rng, case.received, 'slash')}",
        f"Utilization Review Determination dated {_date_text(rng, case.ur_denial, 'slash')}",
        f"Medical records from {case.clinic}, dated {start.strftime('%m/%d/%Y')} to "
        f"{case.report.strftime('%m/%d/%Y')}",
    ]
    if rng.random() < 0.6:
        lines.append(f"Progress reports dated {case.report.strftime('%m/%d/%Y')}")
    if rng.random() < 0.5:
        lines.append(
            f"Request for Authorization dated {(case.report + dt.timedelta(days=2)).strftime('%m/%d/%Y')}"
        )
    return "\n".join(f"| {line}" for line in lines)


def _maximus_letter(rng: random.Random, case: _Case) -> list[str]:
    first, last = case.employee
    title = "Mr." if case.sex == "male" else "Ms."
    outcomes = {item.outcome for item in case.items}
    verdict, meaning = (
        ("UPHOLD", "none of the disputed items/services are medically necessary and appropriate")
        if outcomes == {"upheld"}
        else (
            "OVERTURN",
            "all of the disputed items/services are medically necessary and appropriate",
        )
        if outcomes == {"overturned"}
        else (
            "PARTIALLY OVERTURN",
            "some, but not all, of the disputed items/services are medically necessary and "
            "appropriate",
        )
    )
    disputed = "; ".join(_lower_first(item.decided) for item in case.items)
    director = _person(rng)
    return [
        "MAXIMUS FEDERAL SERVICES, INC.",
        "| Independent Medical Review\n| P.O. Box 138009\n| Sacramento, CA 95813-8009",
        "**Notice of Independent Medical Review Determination**",
        f"| Dated: {case.decision.strftime('%m/%d/%Y')}",
        "\n".join(
            [
                *_header_table(case, "IMR Case Number").splitlines(),
                f"| Employee Name: {first} {last}  Provider Name: {case.provider[0]} "
                f"{case.provider[1]}, MD",
            ]
        ),
        f"Treatment(s) in Dispute Listed on IMR Application: {disputed}.",
        f"Dear {title} {last}:",
        "MAXIMUS Federal Services, Inc. has completed the Independent Medical Review (IMR) of the "
        "workers' compensation case named above. This letter gives you the Final Determination "
        "and explains how it was reached.",
        f"**Final Determination: {verdict}.** This means we decided that {meaning}. The reasons "
        "for each decision are explained below.",
        "This determination is final and binding, except for an appeal to the Workers' "
        "Compensation Appeals Board as provided by the Labor Code, filed within 30 days of the "
        "date of this letter.",
        f"| Sincerely,\n|\n| {director[0]} {director[1]}, MD\n| Medical Director",
        "| cc: Department of Industrial Relations, Division of Workers' Compensation\n"
        "| cc: Claims Administrator; Requesting Provider",
        "HOW THE IMR FINAL DETERMINATION WAS MADE",
        *_credentials(rng, case, prose=True),
        "DOCUMENTS REVIEWED",
        _documents(rng, case),
        "CLINICAL CASE SUMMARY",
        _SUMMARY_LEAD,
        *_summary(rng, case),
        "IMR DECISION(S) AND RATIONALE(S)",
        *_decision_blocks(rng, case, numbered=True),
    ]


def _professional_letter(rng: random.Random, case: _Case) -> list[str]:
    day = "%m/%d/%Y"
    blocks = [
        "MEDICAL PROFESSIONAL REVIEW",
        "Independent Medical Review Final Determination",
        "\n".join(
            [
                f"| Case Number: {case.case_number}  Date Assigned: {case.assigned.strftime(day)}",
                f"| Date of Injury: {case.injury.strftime(day)}  "
                f"Decision Date: {case.decision.strftime(day)}",
                f"| UR Denial Date: {case.ur_denial.strftime(day)}  Priority: {case.priority}",
                f"| Application Received: {case.received.strftime(day)}",
            ]
        ),
        "ISSUE AT DISPUTE",
    ]
    for number, item in enumerate(case.items, 1):
        blocks.append(f"**{number}. {item.heading}:** {_outcome_word(rng, item)}")
    blocks += ["CASE SUMMARY", *_summary(rng, case)]
    blocks += ["DOCUMENTS REVIEWED FOR DETERMINATION", _documents(rng, case)]
    blocks.append("MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY")
    for number, item in enumerate(case.items, 1):
        blocks += [
            f"**{number}. Claims Administrator guideline:** {item.ca.text}",
            f"**MAXIMUS guideline:** {item.imr.text}",
            f"**Why relied upon:** {item.why}",
        ]
    blocks.append(
        "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY"
    )
    for number, item in enumerate(case.items, 1):
        blocks.append(f"**{number}. Decision rationale:** {item.rationale}")
    blocks += [
        "MEDICAL REVIEWER QUALIFICATIONS",
        f"| State(s) of Licensure: {', '.join(case.licensure)}\n"
        f"| Certification(s)/Specialty: {', '.join(case.specialties)}",
        f"The reviewer has been in active clinical practice for more than {rng.choice((5, 10, 15))} "
        "years and is currently working at least 24 hours a week in active practice.",
    ]
    return blocks


def _source(rng: random.Random, case: _Case) -> str:
    """The letter as an :mod:`imrkg.typeset` source."""
    options: list[str] = [f"# synthetic IMR letter {letter_name(case.index)} (imrkg synth)"]
    width = rng.randint(84, 102)
    if case.layout == "headerless":
        blocks = _dwc_letter(rng, case)
        options += ["header: no", f"double_lines: {'yes' if rng.random() < 0.35 else 'no'}"]
    elif case.layout == "header":
        blocks = _dwc_letter(rng, case)
        if rng.random() < 0.7:
            options.append(
                f"running_header: Final Determination Letter for IMR Case Number {case.case_number}"
            )
        options.append(f"double_lines: {'yes' if rng.random() < 0.05 else 'no'}")
    elif case.layout == "maximus":
        blocks = _maximus_letter(rng, case)
        options += [f"running_header: IMR Case Number: {case.case_number}", "label_chars: 24"]
    else:
        blocks = _professional_letter(rng, case)
        options.append(
            f"running_header: IMR Case Number: {case.case_number} | Medical Professional Review"
        )
    options += [
        f"title: IMR Final Determination {case.case_number}",
        f"width: {width}",
        f"break_words: {'yes' if rng.random() < 0.12 else 'no'}",
    ]
    return "\n".join(options) + "\n---\n" + "\n\n".join(blocks) + "\n"


# =====================================================================
# The record a letter must extract to.


def _expected(case: _Case) -> dict[str, Any]:
    catalog = _catalog()
    headerless = case.layout == "headerless"

    def iso(day: dt.date) -> str | None:
        return None if headerless else day.isoformat()

    items = []
    for item in case.items:
        entry: dict[str, Any] = {
            "request": item.heading,
            "treatment": item.treatment.label.lower(),
            "treatment_iri": item.treatment.iri,
            "quantity": item.quantity,
            "body_regions": [catalog.regions[r].label.lower() for r in item.request.regions],
            "outcome": item.outcome,
            "ca_guidelines": sorted(set(item.ca.ids)),
            "imr_guidelines": sorted(set(item.imr.ids)),
            "imr_pages": item.imr.pages,
            "reasons": item.reasons,
        }
        if item.partial is not None:
            entry["partial"] = item.partial
        if item.request.strength is not None:
            count = item.quantity if item.request.counted else None
            entry["drug"] = {"strength": _strength_record(item.request.strength), "count": count}
        items.append(entry)
    outcomes = {item.outcome for item in case.items}
    return {
        "letter": letter_name(case.index),
        "source": [f"letters/{letter_name(case.index)}.txt"],
        "layout": case.layout,
        "case_number": None if headerless else case.case_number,
        "dates": {
            "assigned": iso(case.assigned),
            "decision": iso(case.decision),
            "ur_denial": iso(case.ur_denial),
            "application_received": iso(case.received),
        },
        "reviewer": {
            "licensure": list(case.licensure),
            "specialties": [s.lower() for s in case.specialties],
        },
        "worker": {"age": case.age, "sex": case.sex},
        "injury": {"date": case.injury.isoformat()},
        "diagnoses": {
            "keywords": [d.lower() for d in case.diagnoses],
            "count": [len(case.diagnoses), len(case.diagnoses)],
        },
        "prior_treatments": {
            "keywords": [p[1].lower() for p in case.prior],
            "absent": [case.absent] if case.absent else [],
        },
        "items": items,
        "extra": {
            "letter_outcome": "Upheld"
            if outcomes == {"upheld"}
            else "Overturned"
            if outcomes == {"overturned"}
            else "Partially Overturned",
            "ur_date": case.ur_denial.isoformat(),
        },
    }


def _strength_record(written: str) -> str:
    """A strength as letter records write it: '10/325 mg', '5%'."""
    value = re.sub(r"\s+", "", written)
    match = re.fullmatch(r"([\d./]+)(mg|%)", value)
    if match is None:
        return written
    return value if match.group(2) == "%" else f"{match.group(1)} {match.group(2)}"


# =====================================================================
# Public interface.


def letter_name(index: int) -> str:
    """The file name (without suffix) of the letter at ``index``.

    >>> letter_name(42)
    'synth-000042'
    """
    return f"synth-{index:06d}"


def letter_rng(seed: int, index: int) -> random.Random:
    """The random generator of one letter of a corpus: letters never share a stream."""
    return random.Random(f"imrkg-synth/{seed}/{index}")


def _salt(seed: int) -> int:
    return random.Random(f"imrkg-synth/{seed}").randrange(10_000_000)


def synth_letter(rng: random.Random, index: int, *, salt: int = 0) -> tuple[str, dict[str, Any]]:
    """One synthetic letter: its :mod:`imrkg.typeset` source and its expected record.

    ``index`` names the letter (:func:`letter_name`) and, with ``salt``, gives
    its case number; everything else comes from ``rng``.
    """
    case = _case(rng, index, salt)
    return _source(rng, case), _expected(case)


def iter_letters(n: int, seed: int = 0) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, source, expected record) of the first ``n`` letters of the corpus ``seed``,
    made one at a time."""
    salt = _salt(seed)
    for index in range(n):
        source, expected = synth_letter(letter_rng(seed, index), index, salt=salt)
        yield letter_name(index), source, expected


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synth_corpus` wrote."""

    out: Path
    letters: int
    items: int
    overturned: int
    partial: int
    pdfs: int
    layouts: dict[str, int]

    @property
    def expected(self) -> Path:
        """The expected records, one JSON object per line."""
        return self.out / "expected.jsonl"

    def line(self) -> str:
        """A one-line account of the corpus."""
        layouts = ", ".join(f"{self.layouts.get(name, 0)} {name}" for name in LAYOUTS)
        share = 100.0 * self.overturned / self.items if self.items else 0.0
        pdfs = f", {self.pdfs} PDFs" if self.pdfs else ""
        return (
            f"{self.letters} letters ({layouts}), {self.items} items, {self.overturned} "
            f"overturned ({share:.1f}%), {self.partial} partial authorizations{pdfs}"
        )


def synth_corpus(
    n: int,
    out: Path,
    seed: int = 0,
    pdf: bool = False,
    on_letter: Callable[[], None] | None = None,
) -> SynthSummary:
    """Write ``n`` letters to ``out/letters/`` (``.txt``, and ``.pdf`` with ``pdf``) and
    their expected records to ``out/expected.jsonl``.

    Letters are made and written one at a time. ``expected.jsonl`` is written
    beside its final name and renamed at the end, so it is there whole or not
    at all. ``on_letter`` is called after each letter (a progress bar).
    Raises :class:`SynthError` for a count below 1 or an output folder that
    already holds letters.
    """
    if n < 1:
        raise SynthError(f"N must be at least 1, not {n}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out}: not a folder")
    letters = out / "letters"
    if letters.exists() and (not letters.is_dir() or any(letters.iterdir())):
        raise SynthError(f"{letters}: already holds files; give a new or empty folder")
    # typesetting imports reportlab; only a run that writes letters pays for it
    from imrkg.typeset import parse_source, render_pdf, render_text

    letters.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    layouts: Counter[str] = Counter()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or removed
        "w", encoding="utf-8", dir=out, prefix=".expected.jsonl.", delete=False
    )
    try:
        with handle:
            for name, source, expected in iter_letters(n, seed):
                letter = parse_source(source, name)
                (letters / f"{name}.txt").write_text(render_text(letter), encoding="utf-8")
                if pdf:
                    render_pdf(letter, letters / f"{name}.pdf")
                    expected["source"].append(f"letters/{name}.pdf")
                    counts["pdfs"] += 1
                handle.write(json.dumps(expected, ensure_ascii=False) + "\n")
                layouts[expected["layout"]] += 1
                counts["items"] += len(expected["items"])
                counts["overturned"] += sum(i["outcome"] == "overturned" for i in expected["items"])
                counts["partial"] += sum("partial" in i for i in expected["items"])
                if on_letter is not None:
                    on_letter()
        Path(handle.name).replace(out / "expected.jsonl")
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return SynthSummary(
        out=out,
        letters=n,
        items=counts["items"],
        overturned=counts["overturned"],
        partial=counts["partial"],
        pdfs=counts["pdfs"],
        layouts=dict(layouts),
    )
