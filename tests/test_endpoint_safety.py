"""The endpoint serves health data: reads only, bounded, and nothing fetched from elsewhere.

Each test asks the running endpoint for something it must refuse and checks the
refusal (status and reason) and that the store did not change. Timeout and row
cap are tested in ``test_serve.py``; SERVICE and updates there too.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from imrkg.serve import MAX_BODY, QueryService, make_server
from imrkg.store import KnowledgeStore
from tests.conftest import listening_trap, running_endpoint
from tests.test_serve import fetch, get_query

INJECTION = 'x" } ; DROP ALL ; #'


@pytest.fixture(scope="module")
def endpoint(sample_store_path: Path) -> Iterator[str]:
    with running_endpoint(sample_store_path, timeout=20, row_cap=1000) as url:
        yield url


def _quads(path: Path) -> int:
    return KnowledgeStore(path, read_only=True).triple_count()


def test_the_server_listens_on_the_loopback_address_unless_told(sample_store_path: Path) -> None:
    service = QueryService(sample_store_path)
    try:
        server = make_server(service, port=0)
        try:
            assert server.server_address[0] == "127.0.0.1"
        finally:
            server.server_close()
    finally:
        service.close()
    usage = subprocess.run(
        [sys.executable, "-m", "imrkg", "serve", "--help"], capture_output=True, text=True
    )
    assert "--host TEXT" in usage.stdout and "[default: 127.0.0.1]" in usage.stdout


@pytest.mark.parametrize("verb", ["LOAD <{url}>", "LOAD <{url}> INTO GRAPH <urn:g>", "DROP ALL"])
def test_load_and_drop_are_refused_and_fetch_nothing(
    endpoint: str, sample_store_path: Path, verb: str
) -> None:
    before = _quads(sample_store_path)
    with listening_trap() as (url, seen):
        text = verb.format(url=url)
        for status, _, body in (
            fetch(get_query(endpoint, text)),
            fetch(
                f"{endpoint}/sparql",
                data=text.encode(),
                content_type="application/sparql-update",
            ),
            fetch(
                f"{endpoint}/sparql",
                data=urllib.parse.urlencode({"update": text}).encode(),
                content_type="application/x-www-form-urlencoded",
            ),
        ):
            assert status == 403 and b"read-only" in body
        assert seen == []
    assert _quads(sample_store_path) == before


@pytest.mark.parametrize(
    ("query", "parameter", "reason"),
    [
        ("evidence", "case", "expected a case number"),
        ("outcomes-by-specialty", "treatment", "no treatment"),
        ("evidence", "item", "expected an integer"),
    ],
)
def test_an_injection_attempt_in_a_parameter_is_400_and_changes_nothing(
    endpoint: str, sample_store_path: Path, query: str, parameter: str, reason: str
) -> None:
    before = _quads(sample_store_path)
    params = {"case": "CM17-0029641", parameter: INJECTION}
    if query != "evidence":
        params = {parameter: INJECTION}
    status, headers, body = fetch(f"{endpoint}/queries/{query}?" + urllib.parse.urlencode(params))
    assert status == 400, body
    assert headers["Content-Type"].startswith("text/plain")
    assert reason in body.decode()
    assert _quads(sample_store_path) == before


def test_a_request_body_over_the_cap_is_413_and_the_endpoint_goes_on(endpoint: str) -> None:
    """Refused from the declared length, before a byte of the body is read."""
    host, port = urllib.parse.urlsplit(endpoint).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", "/sparql")
        connection.putheader("Content-Type", "application/sparql-query")
        connection.putheader("Content-Length", str(MAX_BODY + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413 and b"too large" in response.read()
    finally:
        connection.close()
    status, _, _ = fetch(get_query(endpoint, "ASK { ?s ?p ?o }"))
    assert status == 200


def test_json_ld_answers_carry_no_remote_context(endpoint: str) -> None:
    text = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/imr-kg/ontology#DisputedItem> ; ?p ?o }"
    status, headers, body = fetch(get_query(endpoint, text), accept="application/ld+json")
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
    document = json.loads(body)

    def contexts(node: object) -> Iterator[object]:
        if isinstance(node, dict):
            if "@context" in node:
                yield node["@context"]
            for value in node.values():
                yield from contexts(value)
        elif isinstance(node, list):
            for value in node:
                yield from contexts(value)

    for context in contexts(document):
        for entry in context if isinstance(context, list) else [context]:
            assert not isinstance(entry, str), f"a context to fetch: {entry}"


def test_from_names_a_graph_of_the_store_and_fetches_nothing(endpoint: str) -> None:
    """Regression: FROM was ignored (the union of all graphs answered instead); it must
    narrow the query to the graphs named, and never make the engine fetch the URL."""
    with listening_trap() as (url, seen):
        status, _, body = fetch(get_query(endpoint, f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}"))
        assert seen == []
    assert status == 200 and json.loads(body)["results"]["bindings"] == []
    letter = "https://w3id.org/imr-kg/graph/CM17-0029641"
    text = f"SELECT DISTINCT ?case FROM <{letter}> WHERE {{ ?c <http://purl.org/dc/terms/identifier> ?case }}"
    status, _, body = fetch(get_query(endpoint, text))
    cases = [b["case"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert status == 200 and cases == ["CM17-0029641"]
