"""Shared fixtures: the repository's sample letters and the real corpus beside the checkout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imrkg.loader.extract import extract_letter
from imrkg.record import LetterRecord

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CASES = Path(__file__).resolve().parent / "cases"

SAMPLE_NAMES = sorted(p.stem for p in (EXAMPLES / "expected").glob("*.json"))


def expected(name: str) -> dict[str, Any]:
    """The hand-written expectation of a sample letter."""
    return json.loads((EXAMPLES / "expected" / f"{name}.json").read_text(encoding="utf-8"))


_RECORDS: dict[Path, LetterRecord] = {}


def sample_record(name: str, suffix: str) -> LetterRecord:
    """The record of a sample letter (.txt or .pdf), extracted once per test session."""
    path = EXAMPLES / "letters" / f"{name}.{suffix}"
    if path not in _RECORDS:
        _RECORDS[path] = extract_letter(path)
    return _RECORDS[path]


requires_shared = pytest.mark.skipif(
    not (SHARED / "corpus").is_dir(),
    reason=f"the real-letter corpus is not here ({SHARED / 'corpus'} is absent)",
)
