"""Read the clinical case summary: who was injured, how, what they have, what they had.

Each reader takes the letter's normalized text and the ``[start, end)`` of the
summary, and returns what it finds with offsets in that text, so that the
extractor can give every value its span. The readers follow the reading rules
of the gold letters: diagnoses are what the summary names as diagnoses
("diagnosed with", "diagnoses include", "current diagnosis"), one entry per
condition; prior treatments are treatments received before the request, as
the summary states them ("treatment to date has included"), never planned or
requested ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from imrkg.loader.sentences import sentence_spans
from imrkg.loader.values import DATE_PATTERN, date_from_match


@dataclass(frozen=True)
class Found:
    """A value read from the summary and ``[start, end)`` of the words behind it."""

    text: str
    start: int
    end: int


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n,;:.":
        start += 1
    while end > start and text[end - 1] in " \t\n,;:.":
        end -= 1
    return start, end


def split_on(text: str, start: int, end: int, separator: str) -> list[tuple[int, int]]:
    """``text[start:end]`` cut at every match of ``separator``, each piece trimmed, empty ones dropped."""
    pieces, cursor = [], start
    for match in re.finditer(separator, text[start:end]):
        pieces.append(_trim(text, cursor, start + match.start()))
        cursor = start + match.end()
    pieces.append(_trim(text, cursor, end))
    return [(s, e) for s, e in pieces if e > s]


_LATERALITY_ONLY = re.compile(r"^(?:right|left|bilateral|both)$", re.I)
_QUALIFIER = re.compile(
    r"^(?:(?:sub)?sequent encounter|initial encounter|unspecified|not elsewhere classified|NOS|"
    r"(?:[a-z]+\s+)?(?:region|level|side|site)|right|left|bilateral|(?:right|left) side)$",
    re.I,
)


def split_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split an enumeration ('a, b, and c'; 'a; b; c') into its entries.

    Semicolons, where present, separate entries that may hold commas of their
    own; otherwise commas do, and 'and' splits the last entry. A lone
    laterality word is kept with the entry after it ('right and left shoulder
    sprain'), and a trailing qualifier ('subsequent encounter', 'lumbosacral
    region') with the entry before it.
    """
    segment = text[start:end]
    separator = r";" if ";" in segment else r",(?:\s+(?:and|or)\s+)?"
    protected = [(start + a, start + b) for a, b in _protected(segment)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    for match in re.finditer(separator, segment):
        if any(a <= start + match.start() < b for a, b in protected):
            continue
        pieces.append((cursor, start + match.start()))
        cursor = start + match.end()
    pieces.extend(_split_last_and(text, cursor, end, protected))
    trimmed = [_trim(text, s, e) for s, e in pieces]
    trimmed = [(s, e) for s, e in trimmed if e > s]
    merged: list[tuple[int, int]] = []
    carry: int | None = None
    for s, e in trimmed:
        if carry is not None:
            s, carry = carry, None
        if _LATERALITY_ONLY.match(text[s:e]):
            carry = s
            continue
        if merged and _QUALIFIER.match(text[s:e]):
            merged[-1] = (merged[-1][0], e)
            continue
        merged.append((s, e))
    return merged


# Commas and "and" that do not separate entries: inside parentheses, and in the
# ICD-10 wording "muscle, fascia and tendon" that letters copy into diagnoses.
_UNSPLITTABLE = re.compile(
    r"\([^()]*\)|\bmuscles?,?\s+(?:fascia,?\s+(?:and(?:/or)?\s+)?)?tendons?\b", re.I
)


def _protected(segment: str) -> list[tuple[int, int]]:
    return [m.span() for m in _UNSPLITTABLE.finditer(segment)]


def _split_last_and(
    text: str, start: int, end: int, protected: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    pieces, cursor = [], start
    for match in re.finditer(r"^\s*and\s+|\s+and\s+", text[start:end]):
        if any(a <= start + match.start() < b for a, b in protected):
            continue
        if match.start() == 0:
            cursor = start + match.end()
            continue
        pieces.append((cursor, start + match.start()))
        cursor = start + match.end()
    pieces.append((cursor, end))
    return pieces


def _list_after(
    text: str,
    patterns: list[re.Pattern[str]],
    start: int,
    end: int,
    negated: re.Pattern[str] | None = None,
) -> list[Found]:
    """Entries of every enumeration that one of the patterns introduces, each
    sentence once; with ``negated``, an enumeration whose sentence says before
    it that it did not happen ("lack of documentation the patient has
    undergone ...") is skipped."""
    found: list[Found] = []
    seen: set[tuple[int, int]] = set()
    for s_start, s_end in sentence_spans(text, start, end):
        for pattern in patterns:
            match = pattern.search(text, s_start, s_end)
            if not match:
                continue
            if negated is not None and negated.search(text[s_start : match.start("list")]):
                break
            list_end = match.end("list") if "list" in pattern.groupindex else s_end
            for e_start, e_end in split_list(text, match.start("list"), list_end):
                if (e_start, e_end) not in seen:
                    seen.add((e_start, e_end))
                    found.append(Found(" ".join(text[e_start:e_end].split()), e_start, e_end))
            break
    return found


_LIST = r"(?P<list>(?:[^.]|\.(?=\d))+?)\s*(?=\.(?:\s|$)|$|;\s*(?:and\s+)?(?-i:[A-Z])|\s+(?:reportedly\s+)?(?:associated|related)\s+(?:with|to)\s+(?:an?\s+)?(?:industrial|work|occupational))"
_DIAGNOSIS_PATTERNS = [
    re.compile(p + _LIST, re.I)
    for p in (
        r"\bdiagnosed\s+(?:as\s+having|as|with)\s*:?\s+(?:an?\s+)?",
        r"\bdiagnos(?:is|es)\s*(?:,\s*and-or\s+impressions\s*,\s*)?(?:(?:that|which)\s+)?(?:were\s+|was\s+|are\s+|is\s+|has\s+been\s+|have\s+been\s+)?"
        r"(?:noted\s+to\s+)?(?:include[sd]?|includes?|documented|listed|noted|recorded|consist\s+of|of|are|is|were|was)"
        r"\s*(?:as|is|to\s+include|:)?\s*:?\s+(?:an?\s+)?",
        r"\bdiagnoses\s*:\s*",
        r"\b(?:undergoing|being\s+treated\s+for|under\s+treatment\s+for)\s+(?:treatments?\s+for\s+)?(?:the\s+)?"
        r"(?:diagnos(?:is|es)\s+of\s+)?",
        r"\bfiled\s+a\s+claim\s+for\s+",
        r"\bgiven\s+(?:a\s+)?diagnos(?:is|es)\s+of\s+(?:an?\s+)?",
    )
]

_PRIOR_PATTERNS = [
    re.compile(p + _LIST, re.I)
    for p in (
        r"\btreatments?\s+(?:and\s+(?:diagnostic\s+testing|diagnostics|diagnostic\s+studies|evaluations?)\s+)?"
        r"(?:to\s+date|rendered|thus\s+far|so\s+far|history)?\s*"
        r"(?:has\s+|have\s+|was\s+|were\s+)?(?:been\s+)?(?:(?:noted|documented|reported|said)\s+to\s+)?"
        r"(?:include[sd]?|included|consisted\s+of|consist\s+of)\s*:?\s+",
        r"\b(?:previous|prior|past|conservative|relevant)\s+(?:treatments?|care|therapies|therapy)\s+"
        r"(?:to\s+date\s+)?(?:has\s+|have\s+)?(?:been\s+)?(?:include[sd]?|included|consisted\s+of|were)\s*:?\s+",
        r"\b(?:has|have|had)\s+(?:been\s+)?(?:previously\s+)?treated\s+(?:conservatively\s+)?with\s+(?:the\s+following\s*:\s*)?",
        r"\bsurgical\s+history\s+(?:includes?|included|is\s+significant\s+for|of)\s*:?\s+",
        r"\b(?:previously\s+)?received\s+the\s+following\s+treatments?\s*:?\s+",
        r"\b(?:has|have)\s+had\s+(?:prior\s+|previous\s+)?treatments?\s+(?:to\s+include|including|consisting\s+of)\s+",
        r"\b(?:has|have)\s+(?:undergone|received|completed|tried)\s+(?:prior\s+)?(?!an?\s+(?:MRI|x-ray|CT|EMG))",
    )
]
# Things that summaries list among "treatments" but that are not medical care.
_NOT_TREATMENT = re.compile(r"\b(?:attorney|lawyer|legal|representation)\b", re.I)
_NEGATED = re.compile(r"\b(?:no|not|never|lack|lacks|without|denie[sd]|absence)\b", re.I)

_MEDICATION_PATTERNS = [
    re.compile(p + _LIST, re.I)
    for p in (
        r"\b(?:current\s+|her\s+|his\s+|their\s+|the\s+)?(?:only\s+|current\s+|oral\s+)?medi\w{0,2}ations?\s+(?:have\s+|has\s+|were\s+|was\s+)?(?:been\s+)?(?:(?:noted|documented|reported|listed)\s+to\s+)?(?:include[sd]?|included|were|are|is|consist(?:s|ed)?\s+of|listed\s+as)\s*:?\s+",
        r"\b(?:current\s+)?medi\w{0,2}ations?\s*:\s+",
        r"\b(?:is|was|are|were)\s+(?:currently\s+)?(?:taking|prescribed|maintained\s+on)\s+",
    )
]

_AGE_SEX = re.compile(
    r"\b(?P<age>\d{1,3})[- ](?:year|yr)s?[- ]old\s+(?:(?:right|left)[- ]hand(?:ed)?\s+|(?:[A-Za-z-]+\s+){0,2}?)?"
    r"(?P<sex>male|female|man|woman|gentleman|lady|boy|girl)?\b",
    re.I,
)
_SEX_ONLY = re.compile(
    r"\b(?:is|was)\s+an?\s+(?P<sex>male|female|man|woman|gentleman|lady)\b", re.I
)
_SEX_WORDS = {
    "male": "male",
    "man": "male",
    "gentleman": "male",
    "boy": "male",
    "female": "female",
    "woman": "female",
    "lady": "female",
    "girl": "female",
}

_INJURY_DATE = re.compile(
    r"\b(?:injur(?:y|ies|ed)|claim|date\s+of\s+loss|accident|incident)\b[^.]{0,70}?"
    r"\b(?:on|of|from|dated|since|DOI:?|date\s+of\s+injury\s+(?:of\s+|on\s+|is\s+|was\s+)?)\s*(?=\d|[A-Z][a-z]{2,8}\.?\s+\d)",
    re.I,
)
_MECHANISM = [
    re.compile(
        r"\bmechanism\s+of\s+(?:the\s+)?injury\s+(?:is|was)\s+(?:(?:detailed|described|documented|reported|noted|listed|stated)\s+)?(?:as|to\s+be)?\s*(?:when\s+)?(?P<m>[^.]+)",
        re.I,
    ),
    re.compile(
        r"\bmechanism\s+of\s+(?:the\s+)?injury\s+(?:occurred|happened|was\s+that)\s+(?:when|while|as)?\s*(?P<m>[^.]+)",
        re.I,
    ),
    re.compile(
        r"\b(?:injur\w*|hurt)\b[^.]{0,120}?\b(?:while|when|after|from|due\s+to)\s+"
        r"(?!\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)(?P<m>[^.]+)",
        re.I,
    ),
    re.compile(r"\binjur\w*\b[^.]{0,80}?\bas\s+a\s+result\s+of\s+(?P<m>[^.]+)", re.I),
    re.compile(r"\b(?:reported|sustained)\s+(?:pain|injur\w*)\s+from\s+(?P<m>[^.]+)", re.I),
]

_PAIN = re.compile(
    r"(?:\b(?P<v1>\d{1,2}(?:\.\d)?)(?:\s*(?:-|to)\s*(?P<h1>\d{1,2}(?:\.\d)?))?\s*(?:/|out\s+of)\s*10\b(?!\s*(?:/|\d))"
    r"(?:\s*(?:to|-)\s*(?P<h1b>\d{1,2})\s*/\s*10)?"
    r"|\brated\s+(?:at\s+|as\s+)?(?P<v2>\d{1,2}(?:\.\d)?)(?:\s*(?:-|to)\s*(?P<h2>\d{1,2}))?\s+on\s+a\s+(?:scale\s+of\s+(?:0|1)\s*(?:-|to)\s*10|10[- ]point\s+scale|0-10\s+scale))",
    re.I,
)
_PAIN_CONTEXT = re.compile(
    r"^[^.]{0,30}?\b(with(?:out)?)\s+(?:the\s+use\s+of\s+|his\s+|her\s+)?medications?", re.I
)

_UR_SENTENCE = re.compile(
    r"\b(?:utilization\s+review|UR|previously\s+denied|non-?certified)\b", re.I
)
_UR_ACTION = re.compile(
    r"\b(?P<action>non-?certif(?:ied|y)|modified|denied|certif(?:ied|y)|approved|authorized|partially\s+certified|determined)\b",
    re.I,
)
_UR_REQUEST = re.compile(
    r"\b(?:(?:the\s+)?requests?\s+for|certify|non-?certify|modified\s+the\s+request\s+for|denied\s+the\s+request\s+for)\s+"
    r"(?P<request>[^.;]+?)(?=\s+(?:was|were|is|to|due|as|because|and\s+non-?certif|and\s+modif|and\s+denied|based)\b|[.;]|$)",
    re.I,
)


def diagnoses(text: str, start: int, end: int) -> list[Found]:
    return _list_after(text, _DIAGNOSIS_PATTERNS, start, end)


def prior_treatments(text: str, start: int, end: int) -> list[Found]:
    found = _list_after(text, _PRIOR_PATTERNS, start, end, negated=_NEGATED)
    return [f for f in found if not _NOT_TREATMENT.search(f.text)]


def medications(
    text: str, start: int, end: int, is_drug: Callable[[int, int], bool]
) -> list[Found]:
    """Current medications. An entry must name a drug: a capitalized name, a
    strength, or a word ``is_drug`` (for ``text[start:end]``) knows; "list not
    provided" is not a medication."""
    return [
        f
        for f in _list_after(text, _MEDICATION_PATTERNS, start, end)
        if (f.text[:1].isupper() and len(f.text.split()) <= 4)
        or re.search(r"\d\s*(?:mg|mcg|%|ml)\b", f.text, re.I)
        or is_drug(f.start, f.end)
    ]


def age_and_sex(text: str, start: int, end: int) -> tuple[Found | None, Found | None]:
    age: Found | None = None
    sex: Found | None = None
    match = _AGE_SEX.search(text, start, end)
    if match:
        age = Found(match.group("age"), match.start("age"), match.end("age"))
        if match.group("sex"):
            sex = Found(
                _SEX_WORDS[match.group("sex").lower()], match.start("sex"), match.end("sex")
            )
    if sex is None:
        only = _SEX_ONLY.search(text, start, end)
        if only:
            sex = Found(_SEX_WORDS[only.group("sex").lower()], only.start("sex"), only.end("sex"))
    return age, sex


def injury_date(text: str, start: int, end: int) -> Found | None:
    for match in _INJURY_DATE.finditer(text, start, end):
        date = DATE_PATTERN.match(text, match.end())
        if date:
            iso = date_from_match(date)
            if iso:
                return Found(iso, date.start(), date.end())
    return None


def mechanism(text: str, start: int, end: int) -> Found | None:
    for pattern in _MECHANISM:
        match = pattern.search(text, start, end)
        if match:
            s, e = _trim(text, match.start("m"), match.end("m"))
            if e > s:
                return Found(" ".join(text[s:e].split()), s, e)
    return None


@dataclass(frozen=True)
class PainFound:
    value: float
    high: float | None
    context: str | None
    start: int
    end: int


def pain_scores(text: str, start: int, end: int) -> list[PainFound]:
    """Pain ratings out of 10; '6-8/10' is a range, '8/10 to 4/10' two ratings (a change)."""
    found = []
    for match in _PAIN.finditer(text, start, end):
        value = match.group("v1") or match.group("v2")
        high = match.group("h1") or match.group("h1b") or match.group("h2")
        if value is None or float(value) > 10 or (high is not None and float(high) > 10):
            continue
        context_match = _PAIN_CONTEXT.match(text, match.end(), end)
        context = f"{context_match.group(1).lower()} medications" if context_match else None
        if high is not None and float(high) < float(value):
            second = (
                match.start("h1b")
                if match.group("h1b")
                else match.start("h1" if match.group("h1") else "h2")
            )
            found.append(PainFound(float(value), None, None, match.start(), second))
            found.append(PainFound(float(high), None, context, second, match.end()))
            continue
        found.append(
            PainFound(
                float(value), float(high) if high else None, context, match.start(), match.end()
            )
        )
    return found


@dataclass(frozen=True)
class URFound:
    date: Found | None
    actions: list[tuple[str, Found]]


def utilization_review(text: str, start: int, end: int) -> URFound:
    """The utilization review decision the summary reports: its date and what it did to each request."""
    date: Found | None = None
    actions: list[tuple[str, Found]] = []
    for s_start, s_end in sentence_spans(text, start, end):
        if not _UR_SENTENCE.search(text, s_start, s_end):
            continue
        if date is None:
            for match in DATE_PATTERN.finditer(text, s_start, s_end):
                iso = date_from_match(match)
                if iso:
                    date = Found(iso, match.start(), match.end())
                    break
        action = _UR_ACTION.search(text, s_start, s_end)
        if action is None:
            continue
        verb = action.group("action").lower().replace("-", "")
        verb = {
            "noncertify": "non-certified",
            "noncertified": "non-certified",
            "certify": "certified",
        }.get(verb, verb)
        for request in _UR_REQUEST.finditer(text, s_start, s_end):
            rs, re_ = _trim(text, request.start("request"), request.end("request"))
            if re_ > rs:
                actions.append((verb, Found(" ".join(text[rs:re_].split()), rs, re_)))
    return URFound(date, actions)
