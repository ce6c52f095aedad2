// The imr-kg endpoint's page: list the named queries, run one with its parameters,
// run free SPARQL, and show the answer as a table. Plain script, no library: the page
// must work offline, served by the endpoint alone.
"use strict";

const PREFIXES = [
  ["imr:", "https://w3id.org/imr-kg/ontology#"],
  ["id:", "https://w3id.org/imr-kg/id/"],
  ["vocab:", "https://w3id.org/imr-kg/vocab/"],
  ["skos:", "http://www.w3.org/2004/02/skos/core#"],
  ["rdfs:", "http://www.w3.org/2000/01/rdf-schema#"],
  ["xsd:", "http://www.w3.org/2001/XMLSchema#"],
];

const $ = (id) => document.getElementById(id);
let current = null;

function shortIri(iri) {
  for (const [prefix, namespace] of PREFIXES) {
    if (iri.startsWith(namespace)) return prefix + iri.slice(namespace.length);
  }
  return iri;
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

function showTable(data, truncated) {
  const result = $("result");
  result.replaceChildren();
  if ("boolean" in data) {
    result.textContent = data.boolean ? "yes" : "no";
    return;
  }
  const vars = data.head.vars;
  const table = document.createElement("table");
  table.id = "result-table";
  const head = table.createTHead().insertRow();
  for (const v of vars) {
    const th = document.createElement("th");
    th.textContent = v;
    th.scope = "col";
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const binding of data.results.bindings) {
    const row = body.insertRow();
    for (const v of vars) {
      const cell = row.insertCell();
      const term = binding[v];
      if (!term) continue;
      cell.textContent = term.type === "uri" ? shortIri(term.value) : term.value;
      if (term.type === "uri") cell.title = term.value;
      if (term.datatype && /#(integer|decimal|double|float|int|long)$/.test(term.datatype)) {
        cell.className = "number";
      }
    }
  }
  result.appendChild(table);
  const rows = data.results.bindings.length;
  setStatus(`${rows} row${rows === 1 ? "" : "s"}${truncated ? " (cut at the row cap)" : ""}`, false);
}

function showText(text) {
  const pre = document.createElement("pre");
  pre.id = "result-text";
  pre.textContent = text;
  $("result").replaceChildren(pre);
}

async function answer(response) {
  if (!response.ok) {
    setStatus(`${response.status}: ${(await response.text()).trim()}`, true);
    $("result").replaceChildren();
    return;
  }
  const type = response.headers.get("Content-Type") || "";
  const truncated = response.headers.get("X-IMRKG-Truncated") === "true";
  if (type.startsWith("application/sparql-results+json")) {
    showTable(await response.json(), truncated);
  } else {
    showText(await response.text());
    setStatus(truncated ? "graph (cut at the row cap)" : "graph", false);
  }
}

const ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";

function queryUrl(format) {
  const params = new URLSearchParams();
  for (const input of $("query-params").querySelectorAll("input")) {
    if (input.value.trim() !== "") params.set(input.name, input.value.trim());
  }
  if (format) params.set("format", format);
  const text = params.toString();
  return `/queries/${encodeURIComponent(current.name)}${text ? "?" + text : ""}`;
}

function choose(query, item) {
  current = query;
  for (const li of $("query-list").children) li.classList.toggle("chosen", li === item);
  $("query-title").textContent = query.name;
  $("query-description").textContent = query.description;
  const params = $("query-params");
  params.replaceChildren();
  for (const p of query.parameters) {
    const label = document.createElement("label");
    label.textContent = `${p.name} (${p.type}${p.required ? ", required" : ""})`;
    label.title = p.description;
    const input = document.createElement("input");
    input.name = p.name;
    input.id = `param-${p.name}`;
    input.value = p.default || "";
    input.placeholder = p.description;
    input.required = p.required;
    label.appendChild(input);
    params.appendChild(label);
  }
  $("query-source").href = `/queries/${encodeURIComponent(query.name)}.rq`;
  $("query-form").hidden = false;
  $("result").replaceChildren();
  setStatus("", false);
}

async function loadQueries() {
  const response = await fetch("/queries", { headers: { Accept: "application/json" } });
  const queries = await response.json();
  const list = $("query-list");
  for (const query of queries) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = query.name;
    button.title = query.summary;
    button.dataset.query = query.name;
    button.addEventListener("click", () => choose(query, item));
    const summary = document.createElement("span");
    summary.textContent = query.summary;
    item.append(button, summary);
    list.appendChild(item);
  }
}

$("query-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current) return;
  setStatus("running...", false);
  $("query-csv").href = queryUrl("csv");
  await answer(await fetch(queryUrl(null), { headers: { Accept: ACCEPT } }));
});

$("query-params").addEventListener("input", () => {
  if (current) $("query-csv").href = queryUrl("csv");
});

$("sparql-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  setStatus("running...", false);
  const body = new URLSearchParams({ query: $("sparql-text").value });
  await answer(
    await fetch("/sparql", {
      method: "POST",
      headers: { Accept: ACCEPT, "Content-Type": "application/x-www-form-urlencoded" },
      body,
    }),
  );
});

loadQueries().catch((error) => setStatus(`cannot list the queries: ${error}`, true));
