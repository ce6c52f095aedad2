"""pySHACL (``imrkg.validate``) and Jena SHACL on the same sample data: agreement and time.

    python bench/jena/compare.py [--copies 1 10] [--repeat 5] [--work /tmp/imrkg-jena-compare]

Builds the data from the sample letters (``examples/letters/*.txt``, extracted
and mapped with ``imrkg.graph.letter_graph``) together with the class facts that
``imrkg.validate`` adds (vocabulary concept types, ontology subclass axioms),
writes it as N-Triples, and for each ``--copies`` K validates K copies of the
sample letters (copies after the first under renamed IRIs: the last two digits
of the case number, or of the hash key, shifted) with both validators. It also
breaks the first data set (missing required triples, a wrong datatype, values
outside sh:in and sh:class, an IRI outside the layout, an implausible age: see
:func:`broken`) and compares the results there too.

Agreement is checked on the verdict, the number of violations and warnings,
and the multiset of (severity, focus node, path, source shape) of the results.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH
from rdflib.term import BNode, Node

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from jena_shacl import jena_validate  # noqa: E402

from imrkg.graph import IMR, letter_graph, letter_key  # noqa: E402
from imrkg.loader.extract import extract_letter  # noqa: E402
from imrkg.resources import shapes_dir  # noqa: E402
from imrkg.validate import _class_facts, validate  # noqa: E402

Row = tuple[str, str, str, str]
SHAPES = shapes_dir() / "imr.shapes.ttl"


def sample_graphs() -> list[tuple[str, Graph]]:
    """The sample letters' graphs, with their keys."""
    out = []
    for path in sorted((ROOT / "examples" / "letters").glob("*.txt")):
        record = extract_letter(path)
        out.append((letter_key(record), letter_graph(record)))
    return out


def _renamed_key(key: str, copy: int) -> str:
    """KEY with its last two digits shifted by ``copy`` (1..99): same layout, new IRI."""
    if key.startswith("sha256-"):
        return key[:-2] + f"{(int(key[-2:], 16) + copy) % 256:02x}"
    return key[:-2] + f"{(int(key[-2:]) + copy) % 100:02d}"


def _rename(node: Node, renames: dict[str, str]) -> Node:
    if isinstance(node, URIRef):
        text = str(node)
        for old, new in renames.items():
            if old in text:
                return URIRef(text.replace(old, new))
    return node


def corpus(samples: list[tuple[str, Graph]], copies: int) -> Graph:
    """``copies`` copies of the sample graphs (IRIs renamed) plus the class facts."""
    data = Graph()
    for copy in range(copies):
        for key, graph in samples:
            renames = {f"/{key}": f"/{_renamed_key(key, copy)}"} if copy else {}
            for s, p, o in graph:
                data.add((_rename(s, renames), p, _rename(o, renames)))
    for triple in _class_facts():
        data.add(triple)
    return data


def broken(data: Graph) -> Graph:
    """A copy of ``data`` with faults of several kinds: one letter without its
    identifier and its items without outcomes (sh:minCount), a decision date as
    a plain string (sh:datatype), another letter's first item with an outcome
    outside the list (sh:in), a reviewer's specialty not a concept (sh:class), an
    item typed under an IRI outside the layout (sh:pattern), and a worker aged
    150 (sh:maxInclusive, a warning)."""
    out = Graph()
    for triple in data:
        out.add(triple)
    letters = sorted(out.subjects(RDF.type, IMR.DeterminationLetter), key=str)
    out.remove((letters[0], DCTERMS.identifier, None))
    for item in out.objects(letters[0], IMR.hasItem):
        out.remove((item, IMR.outcome, None))
    for case, date in sorted(out.subject_objects(IMR.decisionDate), key=str)[:1]:
        out.set((case, IMR.decisionDate, Literal(str(date), datatype=XSD.string)))
    item = sorted(out.objects(letters[1], IMR.hasItem), key=str)[0]
    out.set((item, IMR.outcome, URIRef(str(IMR) + "not-an-outcome")))
    reviewer = sorted(out.subjects(RDF.type, IMR.Reviewer), key=str)[0]
    out.set((reviewer, IMR.specialty, URIRef("https://example.org/not-a-specialty")))
    out.add((URIRef(f"{item}-stray"), RDF.type, IMR.DisputedItem))
    worker = sorted(out.subjects(RDF.type, IMR.InjuredWorker), key=str)[0]
    out.set((worker, IMR.age, Literal(150)))
    return out


def _node(text: str) -> str:
    return "_:b" if not text or text.startswith("_:") else text


def pyshacl_rows(report: Graph) -> list[Row]:
    rows = []
    for result in report.subjects(RDF.type, SH.ValidationResult):

        def value(p: URIRef, result: Node = result) -> str:
            v = report.value(result, p)
            return "_:b" if v is None or isinstance(v, BNode) else str(v)

        severity = value(SH.resultSeverity).rsplit("#", 1)[-1]
        rows.append((severity, value(SH.focusNode), value(SH.resultPath), value(SH.sourceShape)))
    return sorted(rows)


def jena_rows(tsv: Path) -> list[Row]:
    rows = []
    for line in tsv.read_text(encoding="utf-8").splitlines():
        severity, focus, path, shape = line.split("\t")[:4]
        if path.startswith("<") and path.endswith(">") and path.count("<") == 1:
            path = path[1:-1]
        elif path:
            path = "_:b"  # a complex path: a blank node in pySHACL's report
        shape = shape if shape.startswith(("http:", "https:", "urn:")) else "_:b"
        rows.append((severity, _node(focus), path or "_:b", shape))
    return sorted(rows)


def pyshacl_process_seconds(data_file: Path) -> tuple[float, int]:
    """Wall time of a fresh Python process that parses the file and validates it."""
    code = (
        "import sys; from rdflib import Graph; from imrkg.validate import validate;"
        "r = validate(Graph().parse(sys.argv[1], format='nt')); print(len(r.violations))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_file)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return time.perf_counter() - started, int(done.stdout.strip())


def compare(label: str, data: Graph, work: Path, repeat: int) -> dict[str, object]:
    data_file = work / f"{label}.nt"
    data.serialize(data_file, format="nt", encoding="utf-8")

    started = time.perf_counter()
    parsed = Graph().parse(data_file, format="nt")
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = validate(parsed)
    py_seconds = time.perf_counter() - started
    py_process, py_process_violations = pyshacl_process_seconds(data_file)

    tsv = work / f"{label}.jena.tsv"
    jena = jena_validate(data_file, SHAPES, repeat=repeat, results_file=tsv)

    py = pyshacl_rows(report.graph)
    je = jena_rows(tsv)
    py_count, je_count = collections.Counter(py), collections.Counter(je)
    only_py = sorted((py_count - je_count).elements())
    only_jena = sorted((je_count - py_count).elements())
    warnings = sum(1 for r in report.results if r.severity == "Warning")
    return {
        "data": label,
        "letters": sum(1 for _ in data.subjects(RDF.type, IMR.DeterminationLetter)),
        "triples": len(data),
        "pyshacl_conforms": report.conforms,
        "jena_conforms": jena["conforms"],
        "pyshacl_violations": len(report.violations),
        "pyshacl_process_violations": py_process_violations,
        "jena_violations": jena["violations"],
        "pyshacl_warnings": warnings,
        "jena_warnings": jena["warnings"],
        "same_results": not only_py and not only_jena,
        "only_pyshacl": only_py[:5],
        "only_jena": only_jena[:5],
        "pyshacl_validate_s": round(py_seconds, 3),
        "pyshacl_parse_s": round(parse_seconds, 3),
        "pyshacl_process_s": round(py_process, 3),
        "jena_process_s": round(jena["total_seconds"], 3),
        "jena_validate_first_s": round(jena["validation_seconds"], 3),
        "jena_validate_warm_median_s": round(
            statistics.median(
                jena["validation_seconds_runs"][1:] or jena["validation_seconds_runs"]
            ),
            3,
        ),
        "jena_load_s": round(jena["load_seconds"], 3),
        "jena_init_s": round(jena["init_seconds"], 3),
    }


def table(rows: Iterable[dict[str, object]]) -> str:
    rows = list(rows)
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=5, help="Jena validation runs per JVM")
    parser.add_argument("--work", type=Path, default=Path("/tmp/imrkg-jena-compare"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    samples = sample_graphs()
    rows = []
    for copies in args.copies:
        data = corpus(samples, copies)
        rows.append(compare(f"samples-x{copies}", data, args.work, args.repeat))
        if copies == args.copies[0]:
            rows.append(compare(f"broken-x{copies}", broken(data), args.work, args.repeat))
    print(json.dumps(rows, indent=2))
    print(table(rows))
    agree = all(
        r["pyshacl_conforms"] == r["jena_conforms"]
        and r["pyshacl_violations"] == r["jena_violations"] == r["pyshacl_process_violations"]
        and r["same_results"]
        for r in rows
    )
    print("agreement:", "yes" if agree else "NO")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
