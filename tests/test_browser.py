"""The endpoint's page in a real browser: headless Chromium (Debian's, driven by Selenium)
opens the page, runs a named query and free SPARQL, and reads the tables it shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imrkg.queries import run_named
from imrkg.results import Solutions
from imrkg.store import KnowledgeStore
from tests.conftest import running_endpoint

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def page(sample_store_path: Path) -> Iterator[tuple[Any, str]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    with running_endpoint(sample_store_path, workers=1) as url:
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
        try:
            driver.set_page_load_timeout(30)
            yield driver, url
        finally:
            driver.quit()


def _wait(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _table(driver: Any) -> tuple[list[str], list[list[str]]]:
    from selenium.webdriver.common.by import By

    table = _wait(driver, "#result-table tbody tr").find_element(By.XPATH, "ancestor::table")
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = [
        [td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")]
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    return header, rows


def test_the_page_runs_a_named_query_and_shows_its_table(
    page: tuple[Any, str], sample_store_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver, url = page
    driver.get(url + "/")
    _wait(driver, 'button[data-query="outcomes-by-treatment-category"]').click()
    assert driver.find_element(By.ID, "query-title").text == "outcomes-by-treatment-category"
    treatment = driver.find_element(By.ID, "param-treatment")
    treatment.clear()
    treatment.send_keys("physical therapy")
    driver.find_element(By.ID, "run-query").click()
    header, rows = _table(driver)

    store = KnowledgeStore(sample_store_path, read_only=True)
    expected = run_named(store, "outcomes-by-treatment-category", {"treatment": "physical therapy"})
    assert isinstance(expected, Solutions)
    assert header == expected.variables
    assert rows == [["" if t is None else str(t) for t in row] for row in expected.rows]
    assert driver.find_element(By.ID, "status").text.startswith(f"{len(rows)} row")
    csv_link = driver.find_element(By.ID, "query-csv").get_attribute("href")
    assert "format=csv" in csv_link and "treatment=physical+therapy" in csv_link


def test_the_page_runs_free_sparql(page: tuple[Any, str], sample_store_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver, url = page
    driver.get(url + "/")
    box = _wait(driver, "#sparql-text")
    text = box.get_attribute("value")
    driver.find_element(By.ID, "run-sparql").click()
    header, rows = _table(driver)
    store = KnowledgeStore(sample_store_path, read_only=True)
    expected = store.query(text)
    assert isinstance(expected, Solutions)
    assert header == ["outcome", "items"]
    shown = sorted((outcome.split(":")[-1].split("/")[-1], int(n)) for outcome, n in rows)
    assert shown == sorted((str(o).rsplit("/", 1)[-1], int(n)) for o, n in expected.rows)


def test_the_page_shows_an_error_for_a_bad_parameter(page: tuple[Any, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, url = page
    driver.get(url + "/")
    _wait(driver, 'button[data-query="evidence"]').click()
    driver.find_element(By.ID, "param-case").send_keys("CM17-0029641")
    driver.find_element(By.ID, "param-item").send_keys("first")
    driver.find_element(By.ID, "run-query").click()
    status = driver.find_element(By.ID, "status")
    WebDriverWait(driver, 20).until(lambda _: "400" in status.text)
    assert "expected an integer" in status.text
    assert "error" in status.get_attribute("class")
