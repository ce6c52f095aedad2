"""The synthetic corpus: its letters extract to their own expected records.

The comparison follows the gold reading rules of the shared corpus (and its
scorer, which the tests may not import): keywords are case-insensitive
substrings with ``a|b`` alternatives, guideline IDs are compared as sets,
reasons by F1, and every check counts once in the letter's score.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from imrkg.cli import main
from imrkg.loader.extract import extract_letter
from imrkg.loader.read import read_document
from imrkg.record import record_to_json
from imrkg.synth import (
    LAYOUTS,
    MAX_ITEMS,
    SynthError,
    iter_letters,
    letter_rng,
    synth_corpus,
    synth_letter,
)

Check = Callable[[str, float], None]

SEED = 20240611
TEXT_LETTERS = 40
PDF_LETTERS = 8


# ------------------------------------------------------------ scoring


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).lower()


def _found(keyword: str, texts: list[str]) -> bool:
    return any(_norm(a) in _norm(t) for a in keyword.split("|") for t in texts)


def _labels(entries: Any, key: str) -> list[str]:
    return [e.get(key, "") if isinstance(e, dict) else str(e) for e in entries or []]


def _ids(citations: Any) -> set[str]:
    return {str(c.get("guideline")).upper() for c in citations or [] if isinstance(c, dict)}


def _f1(gold: set[str], got: set[str]) -> float:
    if not gold and not got:
        return 1.0
    hits = len(gold & got)
    if not hits:
        return 0.0
    precision, recall = hits / len(got), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def _treatment(item: dict[str, Any]) -> str:
    treatment = item.get("treatment")
    return str(treatment.get("label", "")) if isinstance(treatment, dict) else ""


def check_item(want: dict[str, Any], got: dict[str, Any], add: Check) -> None:
    add("item.outcome", float(_norm(got.get("outcome")) == want["outcome"]))
    add("item.treatment", float(_found(want["treatment"], [_treatment(got)])))
    add("item.quantity", float(got.get("quantity") == want["quantity"]))
    regions = _labels(got.get("body_regions"), "label")
    add(
        "item.body_regions",
        float(
            len(regions) == len(want["body_regions"])
            and all(_found(k, regions) for k in want["body_regions"])
        ),
    )
    add("item.ca_guidelines", float(_ids(got.get("ca_guidelines")) == set(want["ca_guidelines"])))
    imr = got.get("imr_guidelines")
    add("item.imr_guidelines", float(_ids(imr) == set(want["imr_guidelines"])))
    if want.get("imr_pages"):
        pages = {re.sub(r"\s+", "", str(c.get("pages"))) for c in imr or [] if c.get("pages")}
        add("item.imr_pages", float(want["imr_pages"] in pages))
    add(
        "item.reasons",
        _f1(set(want["reasons"]), {str(r).upper() for r in got.get("reasons") or []}),
    )


def check_letter(want: dict[str, Any], got: dict[str, Any], add: Check) -> None:
    """The checks of the shared corpus' scorer, for one letter (items paired in order)."""
    add("case_number", float(got.get("case_number") == want["case_number"]))
    for key, value in want["dates"].items():
        add(f"dates.{key}", float((got.get("dates") or {}).get(key) == value))
    reviewer = got.get("reviewer") or {}
    add(
        "reviewer.licensure",
        float(
            {_norm(s) for s in reviewer.get("licensure") or []}
            == {_norm(s) for s in want["reviewer"]["licensure"]}
        ),
    )
    specialties = reviewer.get("specialties") or []
    add(
        "reviewer.specialties",
        float(
            len(specialties) == len(want["reviewer"]["specialties"])
            and all(_found(k, specialties) for k in want["reviewer"]["specialties"])
        ),
    )
    worker = got.get("worker") or {}
    add("worker.age", float(worker.get("age") == want["worker"]["age"]))
    add("worker.sex", float((_norm(worker.get("sex")) or None) == want["worker"]["sex"]))
    add("injury.date", float((got.get("injury") or {}).get("date") == want["injury"]["date"]))
    diagnoses = _labels(got.get("diagnoses"), "text")
    for keyword in want["diagnoses"]["keywords"]:
        add("diagnoses.recall", float(_found(keyword, diagnoses)))
    low, high = want["diagnoses"]["count"]
    add("diagnoses.count", float(low <= len(diagnoses) <= high))
    prior = _labels(got.get("prior_treatments"), "text")
    for keyword in want["prior_treatments"]["keywords"]:
        add("prior_treatments.recall", float(_found(keyword, prior)))
    for keyword in want["prior_treatments"]["absent"]:
        add("prior_treatments.precision", float(not _found(keyword, prior)))
    items = got.get("items") or []
    add("items.count", float(len(items) == len(want["items"])))
    for wanted, item in align(want["items"], items):
        if item is None:
            check_item(wanted, {}, lambda name, _: add(name, 0.0))
        else:
            check_item(wanted, item, add)


def align(
    wanted: list[dict[str, Any]], items: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Pair each expected item with the first unused item whose treatment or request holds
    its keyword, else with the next unused one (as the shared scorer pairs them)."""
    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    used: set[int] = set()
    for want in wanted:
        free = [i for i in range(len(items)) if i not in used]
        hits = [
            i
            for i in free
            if _found(want["treatment"], [_treatment(items[i]), str(items[i].get("request", ""))])
        ]
        pick = (hits or free or [None])[0]
        if pick is not None:
            used.add(pick)
        pairs.append((want, items[pick] if pick is not None else None))
    return pairs


class Scores:
    """Checks by field, and the misses for a readable failure."""

    def __init__(self) -> None:
        self.fields: dict[str, list[float]] = defaultdict(list)
        self.misses: list[str] = []

    def letter(self, want: dict[str, Any], got: dict[str, Any]) -> None:
        def add(name: str, value: float) -> None:
            self.fields[name].append(value)
            if value < 1:
                self.misses.append(f"{want['letter']} {name} {value:.2f}")

        check_letter(want, got, add)

    @property
    def total(self) -> float:
        values = [v for vs in self.fields.values() for v in vs]
        return sum(values) / len(values)

    def table(self) -> str:
        return "\n".join(
            f"{name:28s} {sum(vs) / len(vs):.3f} ({len(vs)})"
            for name, vs in sorted(self.fields.items())
        )


# ------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small corpus written by synth_corpus: text letters, and PDFs of the first few."""
    out = tmp_path_factory.mktemp("synth")
    synth_corpus(TEXT_LETTERS, out, seed=SEED)
    return out


@pytest.fixture(scope="module")
def expected(corpus: Path) -> list[dict[str, Any]]:
    lines = (corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


# ------------------------------------------------------------ accuracy


def test_text_letters_extract_to_their_expected_records(
    corpus: Path, expected: list[dict[str, Any]]
) -> None:
    scores = Scores()
    for want in expected:
        (source,) = want["source"]
        scores.letter(want, record_to_json(extract_letter(corpus / source)))
    assert scores.total >= 0.99, scores.table() + "\n" + "\n".join(scores.misses)
    for name, values in scores.fields.items():
        assert sum(values) / len(values) >= 0.95, (name, scores.misses)


@pytest.fixture(scope="module")
def pdf_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("synth-pdf")
    synth_corpus(PDF_LETTERS, out, seed=SEED + 1, pdf=True)
    lines = (out / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return out, [json.loads(line) for line in lines]


def _pdf(out: Path, want: dict[str, Any]) -> Path:
    return out / next(s for s in want["source"] if s.endswith(".pdf"))


def test_pdf_letters_extract_to_their_expected_records(
    pdf_corpus: tuple[Path, list[dict[str, Any]]],
) -> None:
    out, wanted = pdf_corpus
    scores = Scores()
    for want in wanted:
        if len(read_document(_pdf(out, want)).pages) > 1:
            scores.letter(want, record_to_json(extract_letter(_pdf(out, want))))
    assert scores.fields, "no letter of more than one page"
    assert scores.total >= 0.99, scores.table() + "\n" + "\n".join(scores.misses)


def test_one_page_pdf_letters_extract_to_their_expected_records(
    pdf_corpus: tuple[Path, list[dict[str, Any]]],
) -> None:
    out, wanted = pdf_corpus
    scores = Scores()
    for want in wanted:
        if len(read_document(_pdf(out, want)).pages) == 1:
            scores.letter(want, record_to_json(extract_letter(_pdf(out, want))))
    assert scores.fields, "no one-page letter"
    assert scores.total >= 0.99, scores.table() + "\n" + "\n".join(scores.misses)


def test_partial_authorizations_and_drugs_are_read_as_expected(tmp_path: Path) -> None:
    """Beyond the scorer: the partial authorizations and drug strengths letters state,
    on the first letters of a corpus that hold a partial authorization."""
    from imrkg.typeset import parse_source, render_text

    chosen = [
        (name, source, want)
        for name, source, want in iter_letters(300, seed=SEED + 2)
        if any("partial" in item for item in want["items"])
    ][:5]
    assert len(chosen) == 5
    for name, source, want in chosen:
        path = tmp_path / f"{name}.txt"
        path.write_text(render_text(parse_source(source, name)), encoding="utf-8")
        record = extract_letter(path)
        assert len(record.items) == len(want["items"]), name
        for wanted, item in zip(want["items"], record.items, strict=True):
            if "partial" in wanted:
                assert item.partial is not None, wanted["request"]
                assert item.partial.requested_quantity == wanted["partial"]["requested"]
                assert item.partial.authorized_quantity == wanted["partial"]["authorized"]
                assert item.quantity == wanted["quantity"]
            if "drug" in wanted:
                assert item.dosage is not None, wanted["request"]
                assert item.dosage.strength == wanted["drug"]["strength"], wanted["request"]
                assert item.dosage.count == wanted["drug"]["count"], wanted["request"]


def test_reason_sentences_state_their_reason_and_no_other() -> None:
    """Every reason template, for every kind of treatment, states exactly its reason
    to the extractor; the sentences around them state none."""
    from imrkg import synth
    from imrkg.loader.reasons import stated_reasons

    def codes(sentence: str) -> set[str]:
        return {evidence.code for evidence in stated_reasons(sentence)}

    for code, templates in synth._REASON_SENTENCES.items():
        for template in templates:
            for kind, noun in synth._NOUNS.items():
                for prior in ("sessions", "medication use", "injections"):
                    sentence = template.format(
                        noun=noun, Noun=noun.capitalize(), missing=synth._MISSING[kind], prior=prior
                    )
                    assert codes(sentence) == {code}, sentence
    for template in synth._EXCEEDS_COUNT:
        assert codes(template.format(n=12, unit="visits", limit="8-10")) == {
            "EXCEEDS_GUIDELINE_QUANTITY"
        }
    for template in synth._EXCEEDS_DAYS:
        assert codes(template.format(n=60, limit=30)) == {"EXCEEDS_GUIDELINE_QUANTITY"}
    neutral = [
        *synth._GENERAL_GUIDANCE,
        *(
            t.format(Guideline="The ODG", guideline="the ODG", what="this study")
            for t in synth._NEUTRAL_GUIDELINE
        ),
        *(t.format(region="knee", pain=6, finding="mild swelling") for t in synth._PATIENT),
    ]
    for sentence in neutral:
        assert codes(sentence) == set(), sentence


# ------------------------------------------------------------ the corpus


def test_every_layout_appears(expected: list[dict[str, Any]]) -> None:
    assert {want["layout"] for want in expected} == set(LAYOUTS)


def test_same_seed_same_bytes_other_seed_other_letters(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((first, 7), (second, 7), (other, 8)):
        synth_corpus(5, out, seed=seed, pdf=out is not other)

    def files(out: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }

    assert files(first) == files(second)
    assert any(p.endswith(".pdf") for p in files(first))
    assert (first / "expected.jsonl").read_bytes() != (other / "expected.jsonl").read_bytes()


def test_same_seed_same_letters_in_another_process() -> None:
    """The vocabulary's concepts come in an order that changes with the string hash
    seed of the process; the letters must not."""
    script = (
        "import hashlib; from imrkg.synth import iter_letters; "
        "print(hashlib.sha256(repr(list(iter_letters(25, seed=4))).encode()).hexdigest())"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            text=True,
        )
        for hash_seed in (1, 2)
    ]
    digests = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert digests[0] == digests[1] and len(digests[0]) == 64


def test_a_letter_does_not_depend_on_the_corpus_size() -> None:
    few = [source for _, source, _ in iter_letters(3, seed=5)]
    many = [source for _, source, _ in iter_letters(6, seed=5)]
    assert many[:3] == few
    assert synth_letter(letter_rng(5, 2), 2) == synth_letter(letter_rng(5, 2), 2)


def test_distribution_of_a_large_corpus_in_memory() -> None:
    """Items per letter, overturned share, partial authorizations, unique case numbers."""
    counts: list[int] = []
    outcomes: list[str] = []
    partial = 0
    cases: list[str] = []
    layouts: set[str] = set()
    for _, _, want in iter_letters(2000, seed=SEED):
        counts.append(len(want["items"]))
        outcomes += [item["outcome"] for item in want["items"]]
        partial += sum("partial" in item for item in want["items"])
        layouts.add(want["layout"])
        if want["case_number"]:
            cases.append(want["case_number"])
    assert min(counts) >= 1 and max(counts) <= MAX_ITEMS
    assert max(counts) >= 10  # the long tail is there
    assert 1.9 <= statistics.mean(counts) <= 2.5
    assert sum(c <= 3 for c in counts) / len(counts) >= 0.75
    share = outcomes.count("overturned") / len(outcomes)
    assert 0.09 <= share <= 0.13, share
    assert partial >= 50
    assert len(set(cases)) == len(cases)
    years = {int(case[2:4]) for case in cases}
    assert years <= set(range(13, 25)) and len(years) >= 10
    assert layouts == set(LAYOUTS)


def test_case_numbers_are_unique_per_index() -> None:
    numbers = {
        synth_letter(random.Random(0), index, salt=123)[1]["case_number"] for index in range(300)
    }
    assert len(numbers - {None}) == len(numbers) - (None in numbers)


# ------------------------------------------------------------ command line and errors


def test_synth_command_writes_letters_and_expected_records(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    result = CliRunner().invoke(main, ["synth", "3", "-o", str(out), "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "letters").iterdir()) == [
        "synth-000000.txt",
        "synth-000001.txt",
        "synth-000002.txt",
    ]
    lines = (out / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(line)["source"] for line in lines)
    assert "3 letters" in result.output


@pytest.mark.parametrize("count", ["0", "-4", "many", "2.5"])
def test_synth_command_rejects_a_bad_count_in_one_line(tmp_path: Path, count: str) -> None:
    result = CliRunner().invoke(main, ["synth", count, "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imrkg: error: "), result.output
    assert not (tmp_path / "x").exists()


def test_synth_refuses_a_folder_that_already_holds_letters(tmp_path: Path) -> None:
    synth_corpus(1, tmp_path)
    with pytest.raises(SynthError, match="already holds"):
        synth_corpus(1, tmp_path)
    result = CliRunner().invoke(main, ["synth", "1", "-o", str(tmp_path)])
    assert result.exit_code == 2 and result.output.startswith("imrkg: error: ")


def test_a_failed_run_leaves_no_expected_records(tmp_path: Path) -> None:
    calls = 0

    def fail_on_third() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        synth_corpus(5, tmp_path, on_letter=fail_on_third)
    assert not (tmp_path / "expected.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["letters"]
