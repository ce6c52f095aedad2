"""Reading the small values letters write in many ways: dates and numbers.

>>> parse_date("10-13-16"), parse_date("May 12, 2003"), parse_date("12/04/07")
('2016-10-13', '2003-05-12', '2007-12-04')
>>> parse_date("13/45/2016") is None
True
>>> parse_number("twelve"), parse_number("2"), parse_number("one-half"), parse_number("twice")
(12.0, 2.0, None, 2.0)
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "twenty-four": 24,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
    "once": 1,
    "twice": 2,
    "thrice": 3,
    "single": 1,
    "a": 1,
    "an": 1,
    "couple": 2,
    "dozen": 12,
}
NUMBER = (
    r"(?:\d+(?:\.\d+)?|"
    + "|".join(sorted((w for w in NUMBER_WORDS if len(w) > 2), key=len, reverse=True))
    + r")"
)

DATE_PATTERN = re.compile(
    r"\b(?:(\d{1,2})\s*([/-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})"
    r"|([A-Z][a-z]{2,8})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}))\b"
)

# Two-digit years are read as the most recent year not after this one.
_CENTURY_PIVOT = 40


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ISO 'YYYY-MM-DD', or None."""
    match = DATE_PATTERN.search(text)
    return date_from_match(match) if match else None


def date_from_match(match: re.Match[str]) -> str | None:
    """The ISO date of a :data:`DATE_PATTERN` match, or None when it is not a real date."""
    if match.group(1):
        month, day, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
        if len(match.group(4)) == 2:
            year += 2000 if year < _CENTURY_PIVOT else 1900
    else:
        month_number = MONTHS.get(match.group(5).lower())
        if month_number is None:
            return None
        month, day, year = month_number, int(match.group(6)), int(match.group(7))
    if not 1900 <= year <= dt.date.today().year + 1:
        return None  # a typo ("December 9, 3026") is not a date to keep
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_number(word: str) -> float | None:
    """A number written in digits or words ('6', 'six', 'twice'), or None."""
    word = word.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    value = NUMBER_WORDS.get(word)
    return float(value) if value is not None else None
