"""Read a disputed item's heading: what was requested, how much, where.

An item heading comes in three forms:

1. ``<request>: Upheld|Overturned``;
2. ``<X> was the original request. <Y> was authorized by the Claims
   Administrator. The remaining IMR eligible portion of the original request,
   <Z> is: Upheld`` — the IMR decided the remaining portion Z;
3. ``<X> was the original request. <...>, leaving the original request IMR
   eligible. The original request, <X> is: Overturned`` — the IMR decided all of X.

:func:`decided_request` finds the stretch the IMR decided on (and the partial
authorization, if any); :func:`read_quantity` reads how many units it covers,
following the reading rules of the gold letters:

- an explicit count ("#40", "Qty 6", "x 8", "times 6", "(8)", "6 sessions")
  wins over dosing arithmetic;
- otherwise frequency x duration ("2-3 times a week for 6 weeks" is 18,
  "daily" is 7 a week; a range counts its upper bound);
- a duration alone ("for one week"), an amount of a substance ("240 grams")
  or no number at all gives None.

>>> read_quantity("Physical therapy 2-3 times a week for 6 weeks").value
18
>>> read_quantity("Norco 5/325mg #60, 1-2 tabs orally every 4-6 hrs as needed").value
60
>>> read_quantity("Cold therapy for one week").value is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imrkg.loader.values import NUMBER, parse_number

_N = NUMBER
_RANGE = rf"(?P<n1>{_N})(?:\s*(?:-|to|or)\s*(?P<n2>{_N}))?"

# Units that count a service or a dispensed item; refills and substance amounts are not counts.
_COUNT_UNITS = (
    r"sessions?|visits?|treatments?|tablets?|tabs?|capsules?|caps?|pills?|patch(?:es)?|"
    r"injections?|units?|box(?:es)?|tubes?|bottles?|containers?|pads?|packs?|kits?|"
    r"pairs?|appointments?|consultations?|evaluations?|classes|applications?|lozenges?|count|"
    r"suppositor(?:y|ies)|sprays?|vials?|syringes?"
)
# Words that may stand between a number and its unit ("Twelve physical therapy
# sessions"), but not words that make the number a rate or a duration.
_BETWEEN = r"(?:(?!(?:of|for|to|with|per|a|weeks?|days?|months?|times|x)\b)[A-Za-z/-]+\s+)"
_SUBSTANCE = r"(?:grams?|gm|g|mg|mcg|ml|mL|cc|oz|ounces?|liters?|l|%|percent)\b"
_PERIOD = r"(?P<period>week|wk|day|month|mo)s?\b"
_PER = r"(?:a|per|each|every|/|x\s*/?)"

_PARTIAL_REMAINING = re.compile(
    r"^(?P<requested>.+?)\s+was\s+the\s+original\s+request\.\s*(?P<authorized>.+?)\s+was\s+"
    r"(?:authorized|certified|approved|modified)\b[^.]*?\.\s*"
    r"The\s+remaining\s+IMR\s+eligible\s+portion\s+of\s+the\s+original\s+request,?\s*"
    r"(?P<disputed>.+?)(?:\s+is)?\s*$",
    re.I | re.S,
)
_PARTIAL_REMAINING_ONLY = re.compile(
    r"^(?:.*?\.\s*)?The\s+remaining\s+IMR\s+eligible\s+portion\s+of\s+the\s+original\s+request,?\s*"
    r"(?P<disputed>.+?)(?:\s+is)?\s*$",
    re.I | re.S,
)
_PARTIAL_ORIGINAL = re.compile(
    r"^(?P<requested>.+?)\s+was\s+the\s+original\s+request\.\s*(?P<middle>.+?),?\s*leaving\s+"
    r"the\s+original\s+request\s+IMR\s+eligible\.\s*The\s+original\s+request,?\s*"
    r"(?P<disputed>.+?)(?:\s+is)?\s*$",
    re.I | re.S,
)
_ORIGINAL_ONLY = re.compile(
    r"^(?:.*?\.\s*)?The\s+original\s+request,?\s*(?P<disputed>.+?)(?:\s+is)?\s*$", re.I | re.S
)
_AUTHORIZED_IN_MIDDLE = re.compile(
    r"(?:authorized|certified|approved)\s+(?P<what>.+?)$|^(?P<what2>.+?)\s+was\s+(?:authorized|certified|approved)",
    re.I | re.S,
)


@dataclass(frozen=True)
class Piece:
    """A stretch of the heading: its text and ``[start, end)`` in the letter's text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class DecidedRequest:
    """What the IMR decided on, and the partial authorization around it."""

    decided: Piece
    form: str | None = None
    requested: Piece | None = None
    authorized: Piece | None = None


def _piece(request: Piece, match: re.Match[str], group: str) -> Piece | None:
    if match.group(group) is None:
        return None
    start, end = match.span(group)
    text = request.text[start:end].strip().rstrip(",:;").strip()
    lead = len(request.text[start:end]) - len(request.text[start:end].lstrip())
    return Piece(text, request.start + start + lead, request.start + start + lead + len(text))


def decided_request(request: Piece) -> DecidedRequest:
    """The part of a heading the IMR decided on (see the module docstring)."""
    match = _PARTIAL_REMAINING.match(request.text)
    if match:
        decided = _piece(request, match, "disputed")
        if decided is not None:
            return DecidedRequest(
                decided,
                "remaining_portion",
                _piece(request, match, "requested"),
                _piece(request, match, "authorized"),
            )
    match = _PARTIAL_ORIGINAL.match(request.text)
    if match:
        decided = _piece(request, match, "disputed")
        if decided is not None:
            middle = _piece(request, match, "middle")
            authorized = None
            if middle is not None:
                inner = _AUTHORIZED_IN_MIDDLE.search(middle.text)
                if inner:
                    group = "what" if inner.group("what") else "what2"
                    authorized = _piece(middle, inner, group)
            return DecidedRequest(
                decided, "original_request", _piece(request, match, "requested"), authorized
            )
    for pattern, form in (
        (_PARTIAL_REMAINING_ONLY, "remaining_portion"),
        (_ORIGINAL_ONLY, "original_request"),
    ):
        match = pattern.match(request.text)
        if match and ("IMR eligible" in request.text or "original request" in request.text):
            decided = _piece(request, match, "disputed")
            if decided is not None:
                return DecidedRequest(decided, form)
    return DecidedRequest(request)


# ------------------------------------------------------------ quantities


@dataclass(frozen=True)
class Quantity:
    """A quantity and the words it was read from (``start``/``end`` within the text)."""

    value: int | None
    rule: str
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Rate:
    """A frequency ('2-3 times a week') or a duration ('for 6 weeks')."""

    low: float
    high: float
    period: str
    start: int
    end: int


def _num(match: re.Match[str], name: str) -> float | None:
    value = match.groupdict().get(name)
    return parse_number(value) if value else None


def _upper(match: re.Match[str]) -> float | None:
    high = _num(match, "n2")
    low = _num(match, "n1")
    return high if high is not None else low


_EXPLICIT = [
    ("hash", re.compile(rf"#\s*(?P<n1>\d+)(?!\s*(?:{_SUBSTANCE}|\d|/))", re.I)),
    ("qty", re.compile(r"\b(?:qty|quantity)\.?\s*[:#]?\s*(?P<n1>\d+)\b", re.I)),
    ("paren", re.compile(rf"\((?P<n1>\d+)(?:\s*(?:{_COUNT_UNITS}))?\)", re.I)),
    (
        "x",
        re.compile(
            r"(?<![\w/])x\s*(?P<n1>\d+)\b(?!\s*(?:weeks?|wks?|days?|months?|per|/|a\s+week))", re.I
        ),
    ),
    (
        "times",
        re.compile(
            rf"(?<!\d\s)(?<!\d)\btimes\s+(?P<n1>{_N})\b(?!\s*(?:a|per|/|weekly|daily|weeks?|wks?|days?|months?))",
            re.I,
        ),
    ),
    (
        "units",
        re.compile(
            rf"(?<![\d.])\b{_RANGE}\s+{_BETWEEN}{{0,4}}?(?:{_COUNT_UNITS})\b"
            rf"(?!\s*(?:{_PER})\s*(?:week|wk|day|month))",
            re.I,
        ),
    ),
    (
        "lead",
        re.compile(
            # "1 knee scooter", but not "Three phase bone scan" or "Two level fusion"
            rf"^(?:one\s*\(1\)|(?P<n1>{_N}))\s+(?!(?:{_PERIOD}|times?\b|x\b|-|phase|levels?\b"
            r"|views?\b|dimensional|d\b|parts?\b|ways?\b|points?\b|step|hours?\b|refills?\b))(?=[A-Za-z])",
            re.I,
        ),
    ),
    ("trail", re.compile(r",\s*(?P<n1>\d+)\s*$")),
]

_FREQUENCY = [
    re.compile(
        rf"\b{_RANGE}\s*(?:x|times?|sessions?|visits?|treatments?)?\s*(?:{_PER})\s*{_PERIOD}",
        re.I,
    ),
    re.compile(
        rf"\b{_RANGE}\s*(?:x|times?|sessions?|visits?|treatments?)\s*(?P<period>weekly|daily|monthly)\b",
        re.I,
    ),
    re.compile(r"\b(?P<n1>once|twice|thrice)\s+(?P<period>weekly|daily|monthly)\b", re.I),
    re.compile(r"\b(?P<n1>)(?P<period>daily|nightly)\b", re.I),
]
_DURATION = re.compile(
    rf"\b(?:for|x|times|over|during|of)\s+(?:an?\s+(?:additional\s+)?|additional\s+|another\s+)?"
    rf"{_RANGE}\s*(?:-\s*)?{_PERIOD}",
    re.I,
)
_BARE_DURATION = re.compile(rf"\b{_RANGE}\s*(?:-\s*)?{_PERIOD}", re.I)
_N_BY_N = re.compile(
    r"\b(?P<n1>\d{1,2})\s*(?:[xX]|times)\s*(?P<n2>\d{1,2})\b"
    r"(?!\s*(?:mg|ml|cm|mm|a\b|per\b|/|weekly|daily|weeks?|wks?|days?|months?))"
)

_WEEK_FACTOR = {"week": 1.0, "wk": 1.0, "day": 1 / 7, "month": 4.0, "mo": 4.0}
_PER_WEEK = {
    "week": 1.0,
    "wk": 1.0,
    "day": 7.0,
    "month": 0.25,
    "mo": 0.25,
    "weekly": 1.0,
    "daily": 7.0,
    "nightly": 7.0,
    "monthly": 0.25,
}


def _period(word: str) -> str:
    word = word.lower()
    return {
        "wk": "week",
        "mo": "month",
        "weekly": "week",
        "daily": "day",
        "nightly": "day",
        "monthly": "month",
    }.get(word, word)


def read_frequency(text: str) -> Rate | None:
    """The first frequency in the text ('2-3 times a week', 'twice weekly', 'daily')."""
    for pattern in _FREQUENCY:
        match = pattern.search(text)
        if match:
            low = _num(match, "n1") if match.group("n1") else 1.0
            high = _upper(match) if match.group("n1") else 1.0
            if low is None or high is None:
                continue
            return Rate(low, high, _period(match.group("period")), match.start(), match.end())
    return None


def read_duration(text: str) -> Rate | None:
    """The first duration in the text ('for 6 weeks', 'times six weeks', 'one month supply')."""
    match = _DURATION.search(text) or _BARE_DURATION.search(text)
    if not match:
        return None
    low, high = _num(match, "n1"), _upper(match)
    if low is None or high is None:
        return None
    return Rate(low, high, _period(match.group("period")), match.start(), match.end())


def per_week(rate: Rate) -> float:
    return rate.high * _PER_WEEK.get(rate.period, 1.0)


def in_weeks(rate: Rate) -> float:
    return rate.high * _WEEK_FACTOR.get(rate.period, 1.0)


def read_quantity(text: str) -> Quantity:
    """How many units the request covers (see the module docstring)."""
    for rule, pattern in _EXPLICIT:
        matches = list(pattern.finditer(text))
        if not matches:
            continue
        if rule == "lead" and matches[0].group("n1") is None:
            return Quantity(1, rule, matches[0].start(), matches[0].end())
        values = [_upper(m) for m in matches]
        if any(v is None for v in values):
            continue
        if rule == "units" and len(matches) > 1:
            # "two sessions for the lumbar spine ... and eight sessions for the wrist"
            total = sum(v for v in values if v is not None)
            return Quantity(round(total), rule, matches[0].start(), matches[-1].end())
        value = values[0]
        if value is not None and value == int(value) and value > 0:
            return Quantity(int(value), rule, matches[0].start(), matches[0].end())
    n_by_n = _N_BY_N.search(text)
    if n_by_n:
        a, b = int(n_by_n.group("n1")), int(n_by_n.group("n2"))
        return Quantity(a * b, "frequency x duration", n_by_n.start(), n_by_n.end())
    frequency = read_frequency(text)
    duration = read_duration(text[frequency.end :] if frequency else text)
    if frequency and duration:
        if frequency.period == duration.period:
            total = frequency.high * duration.high
        else:
            total = per_week(frequency) * in_weeks(duration)
        start = frequency.start
        end = frequency.end + duration.end
        return Quantity(round(total), "frequency x duration", start, end)
    return Quantity(None, "none")


# ---------------------------------------------------------------- dosage

_STRENGTH = re.compile(
    r"(?P<value>\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)*)\s*(?P<unit>mg|mcg|g|gm|ml|%|units?|meq|iu)"
    r"(?P<per>\s*/\s*(?:g|gm|ml|hr|h|patch|tab|tablet|dose|spray))?(?![A-Za-z])",
    re.I,
)


@dataclass(frozen=True)
class Strength:
    text: str
    value: float | None
    unit: str
    start: int
    end: int


def read_strength(text: str) -> Strength | None:
    """A drug strength ('50mg', '10/325mg', '5%', '300mg/g')."""
    match = _STRENGTH.search(text)
    if not match:
        return None
    raw_value = re.sub(r"\s+", "", match.group("value"))
    unit = match.group("unit").lower() + re.sub(r"\s+", "", (match.group("per") or "").lower())
    first = raw_value.split("/")[0]
    try:
        value: float | None = float(first)
    except ValueError:
        value = None
    text = f"{raw_value}{unit}" if unit.startswith("%") else f"{raw_value} {unit}"
    return Strength(text, value, unit, match.start(), match.end())
