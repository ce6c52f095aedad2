"""The query library: headers, parameter binding and checking, the query and sparql commands."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib import XSD, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery

from imrkg.cli import main
from imrkg.errors import QueryError, ResourceError
from imrkg.queries import (
    PARAMETER_TYPES,
    bind,
    bound_values,
    is_update,
    library,
    named_query,
    parse_query_file,
    run_named,
    run_sparql,
    where_openings,
)
from imrkg.record import Duration, Item, Treatment
from imrkg.results import Solutions
from imrkg.store import KnowledgeStore
from tests.conftest import SAMPLE_NAMES, listening_trap, parse_rdf, sample_record

REQUIRED = {
    "outcomes-by-treatment-category": [
        "category",
        "subcategory",
        "items",
        "upheld",
        "overturned",
        "uphold_rate",
    ],
    "outcomes-by-treatment": ["treatment", "items", "upheld", "overturned", "uphold_rate"],
    "outcomes-by-specialty": ["specialty", "items", "upheld", "overturned", "uphold_rate"],
    "outcomes-by-guideline": ["guideline", "edition", "section", "items", "upheld", "overturned"],
    "denial-reasons": ["reason", "items", "share"],
    "over-guideline-limit": [
        "case",
        "item",
        "treatment",
        "quantity",
        "limit",
        "guideline",
        "outcome",
    ],
    "partial-authorizations": ["case", "item", "requested", "authorized", "disputed", "outcome"],
    "overturned-items": ["case", "item", "treatment", "guideline", "rationale_excerpt"],
    "similar-cases": [
        "case",
        "treatment",
        "shared_regions",
        "shared_diagnoses",
        "score",
        "outcome",
    ],
    "case": [],
    "evidence": ["field", "value", "quote", "start", "end"],
    "ca-vs-imr-citations": ["ca_guideline", "imr_guideline", "items", "same"],
    "time-to-decision": ["category", "letters", "mean_days", "min_days", "max_days"],
    "outcomes-by-age-sex": ["age_band", "sex", "items", "upheld", "overturned"],
    "diagnoses-for-treatment": ["diagnosis", "icd10", "letters"],
}
REQUIRED_PARAMS = {
    "outcomes-by-treatment": {"min_items"},
    "denial-reasons": {"treatment"},
    "overturned-items": {"treatment"},
    "similar-cases": {"case", "limit"},
    "case": {"case"},
    "evidence": {"case", "item"},
    "diagnoses-for-treatment": {"treatment"},
}
CASE = "CM17-0029641"  # the header-lumbar-partial sample


@pytest.fixture(scope="module")
def store_path(sample_store_path: Path) -> Path:
    return sample_store_path


@pytest.fixture(scope="module")
def store(store_path: Path) -> KnowledgeStore:
    return KnowledgeStore(store_path, read_only=True)


# -------------------------------------------------------------- the library


def test_the_required_queries_are_there_with_their_columns(store: KnowledgeStore) -> None:
    queries = library()
    for name, columns in REQUIRED.items():
        assert name in queries, name
        params = {"case": CASE, "treatment": "physical therapy"}
        wanted = {p.name: params[p.name] for p in queries[name].parameters if p.name in params}
        answer = run_named(store, name, wanted)
        assert isinstance(answer, Solutions)
        assert answer.variables[: len(columns)] == columns or set(columns) <= set(
            answer.variables
        ), (name, answer.variables)
    for name, params in REQUIRED_PARAMS.items():
        assert params <= {p.name for p in queries[name].parameters}, name


@pytest.mark.parametrize("name", sorted(library()))
def test_every_query_is_documented_and_parses(name: str) -> None:
    query = named_query(name)
    assert query.text.startswith("# summary: ")
    assert len(query.summary) > 20 and len(query.description) > 80
    for parameter in query.parameters:
        assert parameter.type in PARAMETER_TYPES
        assert parameter.description, (name, parameter.name)
    prepareQuery(query.text)  # a second SPARQL parser agrees that it is SPARQL 1.1
    assert where_openings(query.text), "parameters are bound at WHERE clauses"
    assert not re.search(r"\bLIMIT\s+\d", query.text), "the limit parameter caps rows"


def test_query_files_are_self_contained() -> None:
    """Every prefix a query uses is declared in it, so other tools can run the file as is."""
    for query in library().values():
        body = re.sub(r"#[^\n]*|<[^>\s]*>|\"[^\"]*\"", " ", query.text)
        declared = set(re.findall(r"PREFIX\s+([\w-]*):", query.text))
        used = set(re.findall(r"(?<![\w?$])([a-z][\w-]*):[A-Za-z_]", body)) - {"PREFIX"}
        assert used <= declared, (query.name, used - declared)


def test_a_header_with_an_unknown_key_or_bad_param_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("# summary: x\n# descripton: typo\nSELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(ResourceError, match="unknown header key 'descripton'"):
        parse_query_file(bad)
    bad.write_text(
        "# summary: x\n# description: y\n# param: n number\nSELECT * WHERE { ?s ?p ?_n }\n"
    )
    with pytest.raises(ResourceError, match="bad parameter line"):
        parse_query_file(bad)
    bad.write_text(
        "# summary: x\n# description: y\n# param: n integer -- z\nSELECT * WHERE { ?s ?p ?n }\n"
    )
    with pytest.raises(ResourceError, match=r"not used as \?_n"):
        parse_query_file(bad)


def test_unknown_query_names_the_close_ones() -> None:
    with pytest.raises(QueryError, match="did you mean outcomes-by-treatment"):
        named_query("outcomes-by-treatmnt")


# ----------------------------------------------------------------- binding


def test_values_go_into_every_where_clause_and_nowhere_else() -> None:
    text = (
        "PREFIX ex: <urn:ex#WHERE> # WHERE { in a comment\n"
        'SELECT ?a WHERE { ?a ex:p "WHERE { in a string" . '
        "{ SELECT ?a WHERE { ?a ex:q ?_x } } FILTER(?a < ?_x) }"
    )
    bound = bind(text, {"x": Literal(5)})
    assert bound.count("VALUES (?_x)") == 2
    assert '"WHERE { in a string"' in bound and "# WHERE { in a comment" in bound
    prepareQuery(bound)


def test_a_string_value_cannot_escape_its_literal() -> None:
    hostile = 'x" } ; DROP ALL ; SELECT * WHERE { ?s ?p "'
    bound = bind("SELECT ?s WHERE { ?s ?p ?_name }", {"name": Literal(hostile)})
    parsed = prepareQuery(bound)
    graph = rdflib.Graph()
    graph.add((URIRef("urn:s"), URIRef("urn:p"), Literal(hostile)))
    graph.add((URIRef("urn:t"), URIRef("urn:p"), Literal("x")))
    assert [str(r[0]) for r in graph.query(parsed)] == ["urn:s"]


def test_updates_are_recognised() -> None:
    assert is_update("PREFIX ex: <urn:x#>\n# a comment\nDELETE WHERE { ?s ?p ?o }")
    assert is_update("drop all")
    assert not is_update("SELECT * WHERE { ?s ?p ?o } # DELETE")
    assert not is_update("ASK { ?s <urn:insert> ?o }")


# --------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("evidence", {"case": CASE, "item": "two"}, "parameter item: expected an integer"),
        ("evidence", {"case": "CM17 0029641"}, "expected a case number"),
        ("evidence", {"case": "CM99-0000001"}, "no letter CM99-0000001 in the store"),
        ("evidence", {}, "needs parameter case"),
        ("outcomes-by-treatment", {"treatment": "x"}, "has no parameter 'treatment'"),
        ("outcomes-by-treatment", {"min_items": "1.5"}, "expected an integer"),
        ("diagnoses-for-treatment", {"treatment": "acupunctur"}, "did you mean 'acupuncture'"),
        ("diagnoses-for-treatment", {"treatment": "space travel"}, "no treatment 'space travel'"),
        ("similar-cases", {"case": CASE, "limit": "-1"}, "expected an integer|number of rows"),
    ],
)
def test_bad_parameters_are_refused_clearly(
    store: KnowledgeStore, name: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        run_named(store, name, params)


@pytest.mark.parametrize(
    "spelling",
    [
        "physical therapy",
        "Physical  Therapy",
        "PT",
        "physical-therapy",
        "https://w3id.org/imr-kg/vocab/treatment/physical-therapy",
    ],
)
def test_a_treatment_is_named_by_label_local_name_or_iri(
    store: KnowledgeStore, spelling: str
) -> None:
    answer = run_named(store, "diagnoses-for-treatment", {"treatment": spelling})
    reference = run_named(store, "diagnoses-for-treatment", {"treatment": "physical therapy"})
    assert isinstance(answer, Solutions) and isinstance(reference, Solutions)
    assert answer.rows == reference.rows and answer.rows


def test_limit_caps_rows_best_first(store: KnowledgeStore) -> None:
    every = run_named(store, "similar-cases", {"case": CASE, "limit": "1000"})
    three = run_named(store, "similar-cases", {"case": CASE, "limit": "3"})
    assert isinstance(every, Solutions) and isinstance(three, Solutions)
    assert len(every.rows) > 3
    assert three.rows == every.rows[:3] and not three.truncated


def test_a_row_cap_marks_the_answer_cut(store: KnowledgeStore) -> None:
    answer = run_named(store, "outcomes-by-treatment", row_limit=2)
    assert isinstance(answer, Solutions)
    assert len(answer.rows) == 2 and answer.truncated


def test_ad_hoc_sparql_refuses_updates_and_reports_syntax(store: KnowledgeStore) -> None:
    with pytest.raises(QueryError, match="read-only"):
        run_sparql(store, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(QueryError, match="does not parse"):
        run_sparql(store, "SELECT * WHERE { ?s ?p }")


def test_ad_hoc_sparql_never_asks_another_endpoint(store: KnowledgeStore) -> None:
    """Regression: Oxigraph evaluates SERVICE by fetching from the URL it names."""
    with listening_trap() as (url, seen):
        for text in (
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"select * where {{ ?a ?b ?c . service silent <{url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        ):
            with pytest.raises(QueryError, match="SERVICE is not accepted"):
                run_sparql(store, text)
        assert seen == []
    harmless = run_sparql(store, 'SELECT ?service WHERE { BIND ("SERVICE" AS ?service) }')
    assert isinstance(harmless, Solutions) and len(harmless.rows) == 1


def test_a_thirty_day_trial_is_not_over_a_thirty_day_limit() -> None:
    """Regression: 30 days is 30/7 weeks, and 30/7 * 7 is a hair over 30 in floats."""
    tens = Treatment(label="TENS", guideline_limit=30, guideline_limit_unit="day")
    item = Item(request="TENS unit, 30 day trial", outcome="upheld", treatment=tens)
    item.duration = Duration(value=30, unit="day", weeks=30 / 7)
    assert not item.exceeds_guideline_limit()
    item.duration = Duration(value=31, unit="day", weeks=31 / 7)
    assert item.exceeds_guideline_limit()


# ------------------------------------------------------------------ commands


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_query_list_names_every_query() -> None:
    code, out, _ = _run("query", "--list")
    assert code == 0
    for name, query in library().items():
        assert re.search(rf"^{re.escape(name)}\s+{re.escape(query.summary)}$", out, re.M)
    assert "--param treatment=<treatment> (optional)" in out


def test_query_describe_shows_the_description_and_parameters() -> None:
    code, out, _ = _run("query", "evidence", "--describe")
    assert code == 0
    assert named_query("evidence").description in out.replace("\n", " ")
    assert "case (case, required)" in out and "item (integer, optional)" in out


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "xml"])
def test_query_formats_carry_the_same_rows(store_path: Path, fmt: str) -> None:
    code, out, err = _run("query", "outcomes-by-year", "--store", str(store_path), "--format", fmt)
    assert code == 0, err
    store = KnowledgeStore(store_path, read_only=True)
    answer = run_named(store, "outcomes-by-year")
    assert isinstance(answer, Solutions)
    years = [str(row[0]) for row in answer.rows]
    if fmt == "csv":
        parsed = list(csv.DictReader(io.StringIO(out)))
        assert [r["year"] for r in parsed] == years
        assert [int(r["items"]) for r in parsed] == answer.column("items")
    elif fmt == "json":
        data = json.loads(out)
        assert data["head"]["vars"] == answer.variables
        assert [b["year"]["value"] for b in data["results"]["bindings"]] == years
    else:
        result = (
            rdflib.query.Result.parse(io.BytesIO(out.encode()), format=fmt)
            if fmt in ("tsv", "xml")
            else None
        )
        if result is not None:
            assert [str(r[0]) for r in result] == years
        else:
            assert all(year in out for year in years)
    assert f"{len(years)} rows" in err


def test_query_writes_a_file_whole(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "cats.csv"
    code, out, err = _run(
        "query",
        "outcomes-by-treatment-category",
        "--store",
        str(store_path),
        "--format",
        "csv",
        "-o",
        str(target),
    )
    assert code == 0 and out == "", err
    lines = target.read_text().splitlines()
    assert lines[0] == "category,subcategory,items,upheld,overturned,uphold_rate"
    assert not list(target.parent.glob(".*"))


def test_query_case_graph_writes_rdf(store_path: Path) -> None:
    code, out, _ = _run(
        "query",
        "case-graph",
        "-p",
        f"case={CASE}",
        "--store",
        str(store_path),
        "--format",
        "jsonld",
    )
    assert code == 0
    graph = parse_rdf("jsonld", out.encode()).default_graph
    letter = URIRef(f"https://w3id.org/imr-kg/id/letter/{CASE}")
    assert graph.value(letter, URIRef("https://w3id.org/imr-kg/ontology#pageCount")) == Literal(
        1, datatype=XSD.integer
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "outcomes-by-treatmnt"], "no query named 'outcomes-by-treatmnt'"),
        (["query", "evidence", "-p", "case"], "expected NAME=VALUE"),
        (["query", "evidence", "-p", f"case={CASE}", "-p", "item=1.5"], "expected an integer"),
        (["query", "outcomes-by-year", "--format", "turtle"], "does not fit a table"),
        (["sparql", "SELECT * WHERE { ?s ?p }"], "does not parse"),
        (["sparql", "DELETE WHERE { ?s ?p ?o }"], "SPARQL Update is not accepted"),
        (["sparql", "missing.rq"], "missing.rq: cannot read the query"),
    ],
)
def test_command_errors_are_one_line_and_exit_2(
    store_path: Path, args: list[str], message: str
) -> None:
    code, out, err = _run(*args, "--store", str(store_path))
    assert code == 2
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_query_without_a_store_says_so(tmp_path: Path) -> None:
    code, _, err = _run("query", "outcomes-by-year", "--store", str(tmp_path / "none"))
    assert code == 2 and "no imr-kg store here" in err


def test_sparql_reads_text_files_and_stdin(store_path: Path, tmp_path: Path) -> None:
    text = (
        "PREFIX imr: <https://w3id.org/imr-kg/ontology#>\n"
        "SELECT (COUNT(?i) AS ?n) WHERE { ?i a imr:DisputedItem }"
    )
    items = sum(len(sample_record(name, "txt").items) for name in SAMPLE_NAMES)
    query_file = tmp_path / "count.rq"
    query_file.write_text(text)
    for args, stdin in (([text], None), ([str(query_file)], None), (["-"], text)):
        code, out, err = _run(
            "sparql", *args, "--store", str(store_path), "--format", "csv", stdin=stdin
        )
        assert code == 0, err
        assert out.splitlines() == ["n", str(items)]


def test_treatment_labels_are_read_again_when_the_vocabulary_changes(tmp_path: Path) -> None:
    """The treatment labels are kept per store and vocabulary digest (reading them cost ~120
    ms a query): a label that a changed vocabulary adds is found, not missed from the cache."""
    store = KnowledgeStore(tmp_path / "store")
    store.load_vocabularies()
    query = named_query("diagnoses-for-treatment")
    acupuncture = URIRef("https://w3id.org/imr-kg/vocab/treatment/acupuncture")
    assert bound_values(store, query, {"treatment": "acupuncture"})[0]["treatment"] == acupuncture
    with pytest.raises(QueryError, match="no treatment 'needle therapy xyz'"):
        bound_values(store, query, {"treatment": "needle therapy xyz"})
    vocabulary = "<https://w3id.org/imr-kg/graph/vocabulary>"
    digest = "<https://w3id.org/imr-kg/ontology#sourceSha256>"
    store.store.update(
        f"DELETE WHERE {{ GRAPH {vocabulary} {{ {vocabulary} {digest} ?d }} }} ;"
        f" INSERT DATA {{ GRAPH {vocabulary} {{ {vocabulary} {digest} 'changed' ."
        f" {acupuncture.n3()} <http://www.w3.org/2004/02/skos/core#altLabel>"
        " 'needle therapy xyz' } }"
    )
    assert bound_values(store, query, {"treatment": "Needle  therapy XYZ"})[0]["treatment"] == (
        acupuncture
    )
