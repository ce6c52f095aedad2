"""The notebooks run clean on the sample letters and write figures that are not blank.

Each notebook is executed as a user would run it, with nbclient, after a cell that
sets its parameters (as papermill does): the sample store and a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT
from tests.images import assert_drawn, remote_references

NOTEBOOKS = ROOT / "notebooks"
FIGURES = {
    "01-case-graph": ["01-case-graph.png"],
    "02-outcomes": [
        "02-outcomes-by-category.png",
        "02-outcomes-by-specialty.png",
        "02-published-comparison.png",
    ],
    "03-guideline-network": ["03-guideline-network.png"],
    "04-similar-cases": ["04-similar-cases.png"],
}
PAGES = {
    "03-guideline-network": "03-guideline-network.html",
    "04-similar-cases": "04-similar-cases.html",
}


def test_every_notebook_is_tested_here() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_notebook_is_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'parameters'"
    assert "STORE" in tagged[0].source and "OUTPUT" in tagged[0].source


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_notebook_runs_on_the_samples_and_draws(
    name: str, sample_store_path: Path, tmp_path: Path
) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    position = next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    figures = tmp_path / "figures"
    notebook.cells.insert(
        position + 1,
        nbformat.v4.new_code_cell(f"STORE = {str(sample_store_path)!r}\nOUTPUT = {str(figures)!r}"),
    )
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    for figure in FIGURES[name]:
        assert_drawn(figures / figure)
    if name in PAGES:
        page = (figures / PAGES[name]).read_text(encoding="utf-8")
        assert "vis.Network" in page
        assert remote_references(page) == []
