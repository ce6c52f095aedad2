"""Accuracy on real IMR letters, measured by the corpus' own scorer.

Runs ``imrkg extract`` on every real letter in ``../shared/corpus`` (text and
PDF) and scores the records against the hand-written gold and the silver
header/outcome expectations. Skipped, with the reason shown, where the corpus
is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED, requires_shared

GOLD_BAR = 0.95
SILVER_BAR = 0.99


def _score(records: Path, expectations: Path) -> float:
    result = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "score.py"), str(records), str(expectations)],
        capture_output=True,
        text=True,
        check=True,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("score:"), result.stdout
    return float(last.split()[1])


@pytest.fixture(scope="module")
def real_records(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("real") / "records.jsonl"
    corpus = SHARED / "corpus"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "imrkg",
            "extract",
            str(corpus / "letters"),
            str(corpus / "pdfs"),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    return out, run


@requires_shared
def test_every_real_letter_extracts(
    real_records: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, run = real_records
    letters = sorted((SHARED / "corpus" / "letters").glob("*.txt")) + sorted(
        (SHARED / "corpus" / "pdfs").glob("*.pdf")
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    sources = [Path(json.loads(line)["source"]).name for line in out.read_text().splitlines()]
    assert sorted(sources) == sorted(p.name for p in letters)
    assert len(sources) == 123


@requires_shared
def test_gold_score_meets_the_bar(
    real_records: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = real_records
    assert _score(out, SHARED / "corpus" / "gold") >= GOLD_BAR


@requires_shared
def test_silver_score_meets_the_bar(
    real_records: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, _ = real_records
    assert _score(out, SHARED / "corpus" / "silver") >= SILVER_BAR


def _expected_outcomes() -> list[str]:
    """Every item outcome the gold (where a letter has one) or the silver file gives."""
    corpus = SHARED / "corpus"
    outcomes: list[str] = []
    for letter in sorted((corpus / "letters").glob("*.txt")) + sorted(
        (corpus / "pdfs").glob("*.pdf")
    ):
        gold = corpus / "gold" / f"{letter.stem}.json"
        data = json.loads(
            (gold if gold.exists() else corpus / "silver" / f"{letter.stem}.json").read_text()
        )
        outcomes += (
            [item["outcome"] for item in data["items"]] if "items" in data else data["outcomes"]
        )
    return outcomes


@requires_shared
def test_outcomes_by_category_add_up_to_the_expected_items(
    real_records: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The graph of the real letters answers the first question with the corpus' own totals."""
    from imrkg.aggregates import refresh
    from imrkg.graph import letter_graph
    from imrkg.queries import run_named
    from imrkg.record import record_from_json
    from imrkg.results import Solutions
    from imrkg.store import KnowledgeStore

    out, _ = real_records
    store = KnowledgeStore(tmp_path_factory.mktemp("real-store") / "store")
    store.load_vocabularies()
    for line in out.read_text().splitlines():
        store.replace_graph(letter_graph(record_from_json(json.loads(line))))
    refresh(store)  # the query reads the aggregate cells, which a build keeps
    answer = run_named(store, "outcomes-by-treatment-category")
    assert isinstance(answer, Solutions)
    expected = _expected_outcomes()
    assert sum(answer.column("items")) == len(expected)
    assert sum(answer.column("overturned")) == expected.count("overturned")
    assert sum(answer.column("upheld")) == expected.count("upheld")
