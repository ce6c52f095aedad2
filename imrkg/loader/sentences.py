"""Where the sentences of a letter's prose begin and end.

One rule for every reader: a sentence ends at '.', '!' or '?' (closing quotes
and brackets included) before blanks and a capital, digit, quote or bracket,
and also where a period runs into the next sentence without a blank, as PDF
text layers sometimes write it ("...on 10-22-16.The progress report...").
Decimals ("7.5 mg") and initials inside words do not end sentences.

>>> text = "Take 7.5 mg daily. It helped; the pain fell.The next note agrees."
>>> [text[s:e] for s, e in sentence_spans(text, 0, len(text))]
['Take 7.5 mg daily.', 'It helped; the pain fell.', 'The next note agrees.']
>>> [text[s:e] for s, e in sentence_spans(text, 0, len(text), semicolons=True)][1:3]
['It helped', 'the pain fell.']
"""

from __future__ import annotations

import re

BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"(])|(?<=[a-z0-9)]\.)(?=[A-Z][a-z])")
_BREAK_OR_SEMICOLON = re.compile(BREAK.pattern + r"|;\s+")


def breaks(text: str, start: int, end: int) -> list[int]:
    """The offsets where a new sentence starts within ``text[start:end]``."""
    return [m.end() for m in BREAK.finditer(text, start, end)]


def sentence_spans(
    text: str, start: int, end: int, *, semicolons: bool = False
) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence of ``text[start:end]`` (with ``semicolons``,
    clauses split at semicolons count as sentences), blank ones left out."""
    pattern = _BREAK_OR_SEMICOLON if semicolons else BREAK
    spans, current = [], start
    for match in pattern.finditer(text, start, end):
        spans.append((current, match.start()))
        current = match.end()
    spans.append((current, end))
    trimmed = []
    for s, e in spans:
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and text[s:e].strip():
            trimmed.append((s, e))
    return trimmed
