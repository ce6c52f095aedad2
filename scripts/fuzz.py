#!/usr/bin/env python3
"""The long fuzzing run: mangle the sample letters many times, check nothing crashes.

Each case takes a bundled sample letter (examples/letters) and mutates it --
its text (lines deleted, duplicated, swapped, shuffled, cut, keywords and
random text inserted), its bytes (random bytes, control characters, invalid
UTF-8 spliced in), its PDF (truncated, bytes flipped, stretches repeated) or
pure noise -- writes the mutant to a file and runs the reader, the extractor
and the mapping to RDF on it. A case passes when it gives a record or an
:class:`imrkg.errors.ImrKgError`; any other exception, or a case running over
the time limit, is a failure. Cases are seeded (case *i* of seed *s* is always
the same mutant), so a failure can be replayed with ``--replay I``.

For each kind of failure (exception type and the line that raised it) the
first mutant is shrunk (lines, then bytes, removed while it still fails the
same way) and saved to the output folder with its traceback.

    python scripts/fuzz.py --cases 10000 --seed 1 --jobs 4
    python scripts/fuzz.py --seed 1 --replay 4711
    python scripts/fuzz.py --real        # the real letters of ../shared/corpus too

Exit status: 0 when no case failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportlab.pdfgen import canvas  # noqa: E402

from imrkg.errors import ImrKgError  # noqa: E402
from imrkg.graph import letter_graph  # noqa: E402
from imrkg.loader.extract import build_record, check_complete  # noqa: E402
from imrkg.loader.layout import REFLOW_RULES, parse_layout  # noqa: E402
from imrkg.loader.read import normalize, read_document  # noqa: E402
from imrkg.loader.vocab import known_words  # noqa: E402
from imrkg.record import LetterRecord, record_to_json  # noqa: E402

LETTERS = ROOT / "examples" / "letters"
NAMES = sorted(p.stem for p in LETTERS.glob("*.txt"))
TEXTS = {name: (LETTERS / f"{name}.txt").read_text(encoding="utf-8") for name in NAMES}
PDFS = {name: (LETTERS / f"{name}.pdf").read_bytes() for name in NAMES}


def _plain_pdf(text: str) -> bytes:
    """The letter drawn line by line into an uncompressed PDF: flipped bytes land in the
    text operators themselves, not in a compressed stream that then fails as a whole."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pageCompression=0, invariant=1)
    for start in range(0, len(text.splitlines()), 64):
        for row, line in enumerate(text.splitlines()[start : start + 64]):
            pdf.setFont("Helvetica", 8)
            pdf.drawString(40, 760 - 11 * row, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


PLAIN_PDFS = {name: _plain_pdf(TEXTS[name]) for name in NAMES}

KEYWORDS = [
    "HOW THE IMR FINAL DETERMINATION WAS MADE",
    "IMR DECISION(S) AND RATIONALE(S)",
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "MEDICAL PROFESSIONAL REVIEW",
    "CLINICAL CASE SUMMARY",
    "DOCUMENTS REVIEWED",
    "ISSUE AT DISPUTE",
    "MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY",
    "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY",
    ": Upheld",
    ": Overturned",
    "1. ",
    "2. ",
    "3.",
    "Decision rationale:",
    "Claims Administrator guideline: Decision based on MTUS",
    "MAXIMUS guideline: Decision based on Non-MTUS Citation ODG",
    "Why relied upon:",
    "Section(s):",
    "Page(s): 60-",
    "was the original request.",
    "was authorized by the Claims Administrator.",
    "The remaining IMR eligible portion of the request is",
    "IMR Case Number:",
    "Date of Injury: 99/99/9999",
    "Date Assigned: 02/30/2016",
    "#",
    "x 0",
    "#999999999999999999999999",
    "times per week for 0 weeks",
    "2-1 times a week for 6-",
    "(",
    ")",
    "-",
    "/",
    "\f",
    "\r",
    "\t",
    "\x00",
    "\x1b",
    "\ufffe",
    "\u00ad",
    "\u00a0",
    "\ufb01",
    "\u200b",
    "\U0001f600",
    "Page 1 of 2",
    "a 0-year-old female",
    "a 250-year-old male",
    "rated 11/10",
    "diagnosed with",
    "Treatment to date has included",
]

KINDS = [("lines", 45), ("bytes", 20), ("pdf", 25), ("noise", 5), ("crossover", 5)]


@dataclass(frozen=True)
class Mutant:
    case: int
    kind: str
    source: str
    data: bytes
    suffix: str


def _random_text(rng: random.Random, size: int) -> str:
    pools = [
        "".join(chr(c) for c in range(32, 127)),
        "".join(chr(c) for c in range(0, 32)),
        "\u00a0\u00ad\u2018\u2019\u201c\u201d\u2013\u2014\u2026\ufb01\ufb02\ufffe\ufeff\u200b\u0301",
        "".join(chr(c) for c in range(0x370, 0x3FF)),
    ]
    pool = rng.choice(pools)
    if rng.random() < 0.1:
        return (
            "".join(chr(rng.randrange(1, 0x2FFFF)) for _ in range(size))
            .encode("utf-8", "replace")
            .decode("utf-8", "replace")
        )
    return "".join(rng.choice(pool) for _ in range(size))


def _piece(rng: random.Random) -> str:
    return rng.choice(KEYWORDS) if rng.random() < 0.6 else _random_text(rng, rng.randint(1, 40))


# Lines worth aiming at: headings, labelled fields, numbered entries, titles.
_MARKED = re.compile(r"^\s*\d{1,2}\.|:\s*(?:Upheld|Overturned)|^[^a-z]{8,}$|^[^:]{1,60}:", re.I)
_PARTS = re.compile(r"^(\s*(?:\d{1,2}\.\s*)?)(.*?)(:\s*\S*\s*)$")


def _mutate_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 8)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            marked = [k for k, line in enumerate(lines) if _MARKED.search(line)]
            i = rng.choice(marked) if marked else i
        op = rng.choice(
            ["delete", "duplicate", "swap", "shuffle", "cut", "insert", "splice", "erase", "gut"]
        )
        if op == "delete":
            del lines[i : i + rng.randint(1, 10)]
        elif op == "duplicate":
            lines[i:i] = lines[i : i + rng.randint(1, 10)] * rng.randint(1, 3)
        elif op == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "shuffle":
            block = lines[i : i + rng.randint(2, 40)]
            rng.shuffle(block)
            lines[i : i + len(block)] = block
        elif op == "cut":
            joined = "\n".join(lines)
            lines = joined[: rng.randint(0, len(joined))].split("\n")
        elif op == "insert":
            lines.insert(i, _piece(rng))
        elif (
            op == "erase"
        ):  # words out of a line: "2. Spinal cord stimulator trial: Upheld" -> "2. : Upheld"
            line = lines[i]
            start = rng.randint(0, len(line))
            lines[i] = line[:start] + line[start + rng.randint(1, max(1, len(line) // 2)) :]
        elif op == "gut":  # a heading's or a field's words replaced: "2. <...>: Upheld"
            parts = _PARTS.match(lines[i])
            if parts:
                middle = "" if rng.random() < 0.5 else _piece(rng)
                lines[i] = parts.group(1) + middle + parts.group(3)
        else:
            pos = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:pos] + _piece(rng) + lines[i][pos:]
    return "\n".join(lines)


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        pos = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.4:
            out[pos:pos] = rng.randbytes(rng.randint(1, 24))
        elif choice < 0.7:
            out[pos:pos] = rng.choice(
                [
                    b"\xff",
                    b"\xfe",
                    b"\xc3",
                    b"\xe2\x80",
                    b"\xed\xa0\x80",
                    b"\x00",
                    b"\x1b[0m",
                    b"\r",
                ]
            )
        elif out:
            out[min(pos, len(out) - 1)] ^= rng.randint(1, 255)
    if rng.random() < 0.05:
        out[:0] = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])
    return bytes(out)


def _mutate_pdf(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["truncate", "flip", "repeat", "delete", "zero"])
        if not out:
            break
        pos = rng.randrange(len(out))
        if op == "truncate":
            del out[pos:]
        elif op == "flip":
            for _ in range(rng.randint(1, 30)):
                out[rng.randrange(len(out))] ^= rng.randint(1, 255)
        elif op == "repeat":
            end = min(len(out), pos + rng.randint(1, 4000))
            out[end:end] = out[pos:end]
        elif op == "delete":
            del out[pos : pos + rng.randint(1, 500)]
        else:
            end = min(len(out), pos + rng.randint(1, 200))
            out[pos:end] = bytes(end - pos)
    return bytes(out)


def make_mutant(seed: int, case: int) -> Mutant:
    """Case ``case`` of seed ``seed``: always the same mutant."""
    rng = random.Random(f"{seed}:{case}")
    kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
    name = rng.choice(sorted(TEXTS))
    if kind == "lines":
        return Mutant(
            case,
            kind,
            name,
            _mutate_lines(rng, TEXTS[name]).encode("utf-8", "surrogatepass"),
            ".txt",
        )
    if kind == "bytes":
        text = _mutate_lines(rng, TEXTS[name]) if rng.random() < 0.5 else TEXTS[name]
        return Mutant(case, kind, name, _mutate_bytes(rng, text.encode("utf-8")), ".txt")
    if kind == "pdf":
        pool = PLAIN_PDFS if rng.random() < 0.5 else PDFS
        name = rng.choice(sorted(pool))
        return Mutant(case, kind, f"{name}.pdf", _mutate_pdf(rng, pool[name]), ".pdf")
    if kind == "crossover":  # the head of one letter on the tail of another
        other = rng.choice(sorted(TEXTS))
        a, b = TEXTS[name], TEXTS[other]
        text = a[: rng.randint(0, len(a))] + b[rng.randint(0, len(b)) :]
        return Mutant(case, kind, f"{name}+{other}", text.encode("utf-8"), ".txt")
    pdf = rng.random() < 0.5
    head = b"%PDF-1.4\n" if pdf else b""
    return Mutant(
        case, kind, "noise", head + rng.randbytes(rng.randint(0, 4000)), ".pdf" if pdf else ".txt"
    )


class CaseTimeout(BaseException):
    """A case ran over its time limit (a BaseException, so that no handler under test eats it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CaseTimeout


@dataclass(frozen=True)
class Outcome:
    case: int
    kind: str
    result: str  # "record", "refused: <reason>", or "FAIL <type> at <file:line>"
    seconds: float
    detail: str = ""


_SCRATCH: Path | None = None
_TIMEOUT = 20


def _init(timeout: int, real: bool = False) -> None:
    global _SCRATCH, _TIMEOUT
    _SCRATCH = Path(tempfile.mkdtemp(prefix="imrkg-fuzz-"))
    _TIMEOUT = timeout
    signal.signal(signal.SIGALRM, _alarm)
    if real:
        add_real_letters()


REAL = ROOT.parent / "shared" / "corpus"


def add_real_letters() -> int:
    """Add the real letters beside the checkout (../shared/corpus: texts and DWC PDFs) to
    the letters mutated; how many there are."""
    for path in sorted((REAL / "letters").glob("*.txt")):
        TEXTS[f"real/{path.stem}"] = path.read_text(encoding="utf-8")
    for path in sorted((REAL / "pdfs").glob("*.pdf")):
        PDFS[f"real/{path.stem}"] = path.read_bytes()
    return sum(1 for name in [*TEXTS, *PDFS] if name.startswith("real/"))


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "/imrkg/" in f.filename] or frames
    if not inside:
        return "?"
    last = inside[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def extract(path: Path) -> LetterRecord:
    """What :func:`imrkg.loader.extract.extract_letter` does, and the mapping to RDF, with the
    completeness check last: the record is built from a truncated letter too, before it is
    refused, so that the record builder sees every mutant the layout parser accepts."""
    document = read_document(path)
    text = normalize(document, REFLOW_RULES, known_words())
    layout = parse_layout(text)
    record = build_record(text, layout)
    json.dumps(record_to_json(record), ensure_ascii=False).encode("utf-8")  # what extract prints
    letter_graph(record)
    check_complete(text, layout)
    return record


def run_bytes(data: bytes, suffix: str, timeout: int, scratch: Path) -> tuple[str, str]:
    """Run the pipeline on one file's bytes: (result, detail)."""
    path = scratch / f"mutant{suffix}"
    path.write_bytes(data)
    signal.alarm(timeout)
    try:
        record = extract(path)
    except CaseTimeout:
        return f"FAIL Timeout (over {timeout} s)", ""
    except ImrKgError as exc:
        reason = str(exc)[len(str(path)) + 2 :]
        if "\n" in str(exc) or not str(exc).startswith(f"{path}: "):
            return "FAIL malformed ImrKgError message", str(exc)
        return "refused: " + reason.split(" (")[0].split(":")[0], ""
    except Exception as exc:
        return f"FAIL {type(exc).__name__} at {_where(exc)}", traceback.format_exc()
    finally:
        signal.alarm(0)
    if not record.items:
        return "FAIL record without items", ""
    return "record", ""


def run_case(args: tuple[int, int]) -> Outcome:
    seed, case = args
    assert _SCRATCH is not None
    mutant = make_mutant(seed, case)
    started = time.perf_counter()
    result, detail = run_bytes(mutant.data, mutant.suffix, _TIMEOUT, _SCRATCH)
    return Outcome(case, mutant.kind, result, time.perf_counter() - started, detail)


def _shrink(data: bytes, suffix: str, fails: Callable[[bytes], bool], budget: int) -> bytes:
    """Remove chunks of lines, then of bytes, while the mutant still fails the same way."""
    tries = 0
    for unit in (b"\n", None):
        pieces: list[bytes] = (
            [p + b"\n" for p in data.split(b"\n")] if unit else [bytes([b]) for b in data]
        )
        if unit:
            pieces[-1] = pieces[-1][:-1]
        chunk = max(1, len(pieces) // 2)
        while chunk >= 1 and tries < budget:
            start, changed = 0, False
            while start < len(pieces) and tries < budget:
                candidate = pieces[:start] + pieces[start + chunk :]
                tries += 1
                if candidate and fails(b"".join(candidate)):
                    pieces, changed = candidate, True
                else:
                    start += chunk
            if not changed:
                chunk //= 2
        data = b"".join(pieces)
        if unit is None or len(data) > 4000:
            break  # byte-by-byte shrinking only for what lines left small
    return data


def save_failure(out: Path, seed: int, outcome: Outcome, timeout: int, budget: int) -> Path:
    mutant = make_mutant(seed, outcome.case)
    scratch = Path(tempfile.mkdtemp(prefix="imrkg-shrink-"))

    def fails(data: bytes) -> bool:
        return run_bytes(data, mutant.suffix, timeout, scratch)[0] == outcome.result

    small = (
        mutant.data
        if outcome.result.startswith("FAIL Timeout")
        else _shrink(mutant.data, mutant.suffix, fails, budget)
    )
    slug = "".join(c if c.isalnum() else "-" for c in outcome.result[5:])[:60].strip("-")
    folder = out / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"case-{outcome.case}{mutant.suffix}").write_bytes(mutant.data)
    (folder / f"minimal{mutant.suffix}").write_bytes(small)
    _, detail = run_bytes(small, mutant.suffix, timeout, scratch)
    (folder / "traceback.txt").write_text(
        f"seed {seed} case {outcome.case} ({mutant.kind} of {mutant.source})\n"
        f"{outcome.result}\n\n{detail or outcome.detail}",
        encoding="utf-8",
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="how many cases (10000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (1)")
    parser.add_argument("--start", type=int, default=0, help="the first case number (0)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--timeout", type=int, default=20, help="seconds a case may take (20)")
    parser.add_argument(
        "--out", type=Path, default=Path("fuzz-failures"), help="where repros go (fuzz-failures/)"
    )
    parser.add_argument("--shrink", type=int, default=400, help="runs spent shrinking a failure")
    parser.add_argument("--replay", type=int, help="run one case and show its outcome")
    parser.add_argument(
        "--real",
        action="store_true",
        help="mutate the real letters of ../shared/corpus too (texts and DWC PDFs)",
    )
    args = parser.parse_args(argv)
    if args.real and not add_real_letters():
        parser.error(f"--real: no letters in {REAL}")

    if args.replay is not None:
        _init(args.timeout)
        outcome = run_case((args.seed, args.replay))
        print(f"case {outcome.case} ({outcome.kind}): {outcome.result} in {outcome.seconds:.2f} s")
        print(outcome.detail, end="")
        return 1 if outcome.result.startswith("FAIL") else 0

    started = time.perf_counter()
    cases = [(args.seed, i) for i in range(args.start, args.start + args.cases)]
    results: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    first_failure: dict[str, Outcome] = {}
    slowest: Outcome | None = None
    with multiprocessing.Pool(
        args.jobs, initializer=_init, initargs=(args.timeout, args.real)
    ) as pool:
        for done, outcome in enumerate(pool.imap_unordered(run_case, cases, chunksize=8), 1):
            results[outcome.result] += 1
            kinds[outcome.kind] += 1
            if outcome.result.startswith("FAIL"):
                first_failure.setdefault(outcome.result, outcome)
            if slowest is None or outcome.seconds > slowest.seconds:
                slowest = outcome
            if done % 1000 == 0:
                print(
                    f"  {done} cases, {sum(v for k, v in results.items() if k.startswith('FAIL'))} failed, "
                    f"{time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                )

    elapsed = time.perf_counter() - started
    failed = sum(n for r, n in results.items() if r.startswith("FAIL"))
    print(
        f"imrkg fuzz: seed {args.seed}, cases {args.start}-{args.start + args.cases - 1}: "
        f"{args.cases} tried in {elapsed:.0f} s with {args.jobs} workers, {failed} failed"
        + (" (real letters included)" if args.real else "")
    )
    print("  mutants: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    for result, count in sorted(results.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {count:6d}  {result}")
    if slowest is not None:
        print(f"  slowest: case {slowest.case} ({slowest.kind}) {slowest.seconds:.2f} s")
    for result, outcome in sorted(first_failure.items()):
        _init(args.timeout)
        folder = save_failure(args.out, args.seed, outcome, args.timeout, args.shrink)
        print(f"  repro of '{result}' (case {outcome.case}): {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
