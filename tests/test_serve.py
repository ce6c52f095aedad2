"""The read-only SPARQL endpoint, end to end: a real HTTP client against a running server."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.query import Result

from imrkg.queries import library, run_named
from imrkg.results import Solutions, Triples
from imrkg.store import KnowledgeStore
from tests.conftest import listening_trap, parse_rdf, running_endpoint

ITEMS = """PREFIX imr: <https://w3id.org/imr-kg/ontology#>
SELECT ?item ?number ?outcome WHERE { ?item a imr:DisputedItem ; imr:itemNumber ?number ; imr:outcome ?outcome }
ORDER BY ?item"""
REVIEWERS = """PREFIX imr: <https://w3id.org/imr-kg/ontology#>
CONSTRUCT { ?r imr:specialty ?s } WHERE { ?r a imr:Reviewer ; imr:specialty ?s }"""
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def endpoint(sample_store_path: Path) -> Iterator[str]:
    with running_endpoint(sample_store_path, timeout=20, row_cap=10_000) as url:
        yield url


@pytest.fixture(scope="module")
def store(sample_store_path: Path) -> KnowledgeStore:
    return KnowledgeStore(sample_store_path, read_only=True)


def fetch(
    url: str,
    *,
    accept: str | None = None,
    data: bytes | None = None,
    content_type: str | None = None,
    method: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    headers = {}
    if accept:
        headers["Accept"] = accept
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_query(endpoint: str, text: str, **extra: str) -> str:
    return f"{endpoint}/sparql?" + urllib.parse.urlencode({"query": text, **extra})


def direct(store: KnowledgeStore, text: str) -> Any:
    return store.query(text)


def result_rows(body: bytes, fmt: str) -> list[tuple[str, ...]]:
    parsed = Result.parse(io.BytesIO(body), format=fmt)
    return [tuple(str(v) for v in row) for row in parsed]


# ------------------------------------------------------------------ /sparql


@pytest.mark.parametrize(
    ("accept", "fmt", "media"),
    [
        ("application/sparql-results+json", "json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "xml", "application/sparql-results+xml"),
        ("text/csv", "csv", "text/csv"),
        ("text/tab-separated-values", "tsv", "text/tab-separated-values"),
        (None, "json", "application/sparql-results+json"),
        ("text/html, */*;q=0.1", "json", "application/sparql-results+json"),
    ],
)
def test_select_by_content_negotiation(
    endpoint: str, store: KnowledgeStore, accept: str | None, fmt: str, media: str
) -> None:
    status, headers, body = fetch(get_query(endpoint, ITEMS), accept=accept)
    assert status == 200
    assert headers["Content-Type"].startswith(media)
    expected = direct(store, ITEMS)
    assert isinstance(expected, Solutions) and expected.rows
    assert result_rows(body, fmt) == [tuple(str(t) for t in row) for row in expected.rows]


def test_post_as_form_and_as_query_body(endpoint: str, store: KnowledgeStore) -> None:
    expected = [tuple(str(t) for t in row) for row in direct(store, ITEMS).rows]
    form = urllib.parse.urlencode({"query": ITEMS}).encode()
    for data, content_type in (
        (form, "application/x-www-form-urlencoded"),
        (ITEMS.encode(), "application/sparql-query"),
    ):
        status, _, body = fetch(
            f"{endpoint}/sparql", data=data, content_type=content_type, accept="text/csv"
        )
        assert status == 200
        assert result_rows(body, "csv") == expected


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "jsonld"),
        ("application/n-triples", "ntriples"),
    ],
)
def test_construct_as_turtle_json_ld_or_n_triples(
    endpoint: str, store: KnowledgeStore, accept: str, fmt: str
) -> None:
    status, headers, body = fetch(get_query(endpoint, REVIEWERS), accept=accept)
    assert status == 200 and headers["Content-Type"].startswith(accept)
    expected = direct(store, REVIEWERS)
    assert isinstance(expected, Triples) and len(expected.graph)
    assert isomorphic(parse_rdf(fmt, body).default_graph, expected.graph)


def test_ask_and_a_format_parameter(endpoint: str) -> None:
    status, _, body = fetch(get_query(endpoint, "ASK { ?s a ?type }"))
    assert status == 200 and json.loads(body) == {"head": {}, "boolean": True}
    status, headers, body = fetch(get_query(endpoint, ITEMS, format="tsv"), accept="text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/tab-separated-values")
    assert body.startswith(b"?item\t?number\t?outcome\n")


def test_an_answer_that_fits_no_accepted_type_is_406(endpoint: str) -> None:
    status, _, body = fetch(get_query(endpoint, REVIEWERS), accept="text/csv")
    assert status == 406 and b"text/turtle" in body


def test_default_graph_uri_narrows_the_dataset(endpoint: str, store: KnowledgeStore) -> None:
    count = "PREFIX imr: <https://w3id.org/imr-kg/ontology#> SELECT (COUNT(?i) AS ?n) WHERE { ?i a imr:DisputedItem }"
    graph = store.letter_graphs()[0]
    status, _, body = fetch(
        get_query(endpoint, count, **{"default-graph-uri": graph}), accept="text/csv"
    )
    assert status == 200
    one = int(body.decode().splitlines()[1])
    status, _, body = fetch(get_query(endpoint, count), accept="text/csv")
    every = int(body.decode().splitlines()[1])
    assert 0 < one < every
    assert one == len(
        list(
            store.graph(graph).subjects(
                rdflib.RDF.type, rdflib.URIRef("https://w3id.org/imr-kg/ontology#DisputedItem")
            )
        )
    )


def test_without_a_query_the_service_describes_itself(endpoint: str) -> None:
    status, headers, body = fetch(f"{endpoint}/sparql")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, rdflib.RDF.type, sd.Service) in graph
    assert (None, sd.supportedLanguage, sd.SPARQL11Query) in graph


def test_federated_queries_are_refused_and_fetch_nothing(endpoint: str) -> None:
    """Regression: a SERVICE clause would have the engine fetch from any URL it names."""
    with listening_trap() as (url, seen):
        text = f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
        for status, _, body in (
            fetch(get_query(endpoint, text)),
            fetch(
                f"{endpoint}/sparql", data=text.encode(), content_type="application/sparql-query"
            ),
        ):
            assert status == 403 and b"SERVICE is not accepted" in body
        assert seen == []


def test_updates_are_refused_and_change_nothing(endpoint: str, store: KnowledgeStore) -> None:
    before = store.triple_count()
    update = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    attempts = [
        fetch(f"{endpoint}/sparql", data=update.encode(), content_type="application/sparql-update"),
        fetch(
            f"{endpoint}/sparql",
            data=urllib.parse.urlencode({"update": update}).encode(),
            content_type="application/x-www-form-urlencoded",
        ),
        fetch(get_query(endpoint, update)),
        fetch(f"{endpoint}/sparql?" + urllib.parse.urlencode({"update": "CLEAR ALL"})),
    ]
    for status, _, body in attempts:
        assert status == 403 and b"read-only" in body
    for method in ("PUT", "DELETE"):
        status, _, _ = fetch(f"{endpoint}/sparql", data=b"", method=method)
        assert status == 405
    assert KnowledgeStore(store.path, read_only=True).triple_count() == before


def test_bad_sparql_is_400_with_the_reason(endpoint: str) -> None:
    status, headers, body = fetch(get_query(endpoint, "SELECT * WHERE { ?s ?p }"))
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    assert b"does not parse" in body


# ----------------------------------------------------------------- /queries


def test_the_catalog_lists_every_named_query(endpoint: str) -> None:
    status, _, body = fetch(f"{endpoint}/queries")
    assert status == 200
    catalog = {q["name"]: q for q in json.loads(body)}
    assert set(catalog) == set(library())
    evidence = catalog["evidence"]
    assert evidence["description"] == library()["evidence"].description
    assert [(p["name"], p["type"], p["required"]) for p in evidence["parameters"]] == [
        ("case", "case", True),
        ("item", "integer", False),
    ]


def test_named_queries_answer_with_their_parameters(endpoint: str, store: KnowledgeStore) -> None:
    params = {"treatment": "physical therapy"}
    status, headers, body = fetch(
        f"{endpoint}/queries/outcomes-by-specialty?" + urllib.parse.urlencode(params),
        accept="text/csv",
    )
    assert status == 200
    expected = run_named(store, "outcomes-by-specialty", params)
    assert isinstance(expected, Solutions)
    assert result_rows(body, "csv") == [tuple(str(t) for t in row) for row in expected.rows]
    assert headers["X-IMRKG-Rows"] == str(len(expected.rows))
    status, headers, body = fetch(f"{endpoint}/queries/case-graph?case=CM17-0029641")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, headers, body = fetch(f"{endpoint}/queries/evidence.rq")
    assert status == 200 and body.decode() == library()["evidence"].text


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/queries/no-such-query", 404, "no query named 'no-such-query'"),
        ("/queries/evidence", 400, "needs parameter case"),
        ("/queries/evidence?case=CM17-0029641&item=first", 400, "expected an integer"),
        ("/queries/outcomes-by-treatment?treatment=acupuncture", 400, "has no parameter"),
        (
            "/queries/denial-reasons?treatment=unicorn%20therapy",
            400,
            "no treatment 'unicorn therapy'",
        ),
        ("/nowhere", 404, "nothing at /nowhere"),
        ("/sparql?query=ASK%7B%7D&format=yaml", 400, "unknown format 'yaml'"),
    ],
)
def test_errors_are_plain_statuses_with_a_reason(
    endpoint: str, path: str, status: int, message: str
) -> None:
    got, headers, body = fetch(endpoint + path)
    assert got == status
    assert headers["Content-Type"].startswith("text/plain")
    assert message in body.decode()


def test_the_page_and_its_assets_come_from_the_endpoint(endpoint: str) -> None:
    status, headers, page = fetch(endpoint + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = page.decode()
    assert 'src="/static/app.js"' in text and 'href="/static/app.css"' in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), "nothing from elsewhere"
    for asset, media in (("/static/app.js", "text/javascript"), ("/static/app.css", "text/css")):
        status, headers, body = fetch(endpoint + asset)
        assert status == 200 and headers["Content-Type"].startswith(media) and body
        # namespace IRIs name things; no other address may appear (nothing is fetched from it)
        rest = re.sub(
            rb"https://w3id\.org/imr-kg/[\w#/-]*|http://www\.w3\.org/[\w#/.-]*", b"", body
        )
        assert b"http://" not in rest and b"https://" not in rest


# ----------------------------------------------------------- timeout and cap


def test_a_row_cap_cuts_and_says_so(sample_store_path: Path) -> None:
    with running_endpoint(sample_store_path, row_cap=3, workers=1) as url:
        status, headers, body = fetch(
            get_query(url, ITEMS), accept="application/sparql-results+json"
        )
        assert status == 200
        assert headers.get("X-IMRKG-Truncated") == "true"
        assert len(json.loads(body)["results"]["bindings"]) == 3
        status, headers, _ = fetch(get_query(url, "ASK { ?s ?p ?o }"))
        assert status == 200 and "X-IMRKG-Truncated" not in headers


def test_a_query_past_the_timeout_is_stopped_and_the_endpoint_goes_on(
    sample_store_path: Path,
) -> None:
    with running_endpoint(sample_store_path, timeout=1.5, workers=1) as url:
        started = time.monotonic()
        status, _, body = fetch(get_query(url, SLOW))
        assert status == 503 and b"timeout" in body
        assert time.monotonic() - started < 10
        status, _, body = fetch(get_query(url, "ASK { ?s ?p ?o }"))
        assert status == 200 and json.loads(body)["boolean"] is True


# ------------------------------------------------------ the command, for real


def test_imrkg_serve_runs_as_a_command_and_stops_on_sigterm(sample_store_path: Path) -> None:
    command = [sys.executable, "-m", "imrkg", "serve", "--store", str(sample_store_path)]
    with subprocess.Popen(
        [*command, "--port", "0", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            assert match, line
            status, _, body = fetch(match.group(1) + "queries/outcomes-by-year?format=csv")
            assert status == 200 and body.startswith(b"year,letters,items")
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
    assert code == 0


def test_imrkg_serve_without_a_store_exits_2(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "imrkg", "serve", "--store", str(tmp_path / "none"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "no imr-kg store here" in run.stderr and "Traceback" not in run.stderr
