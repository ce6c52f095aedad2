"""The command line: every letter accounted for, one clear line per failure, honest exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from imrkg.cli import main
from tests.conftest import EXAMPLES, SAMPLE_NAMES


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imrkg", *args], capture_output=True, text=True)


def test_extract_the_bundled_samples(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    run = _run("extract", str(EXAMPLES / "letters"), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 * len(SAMPLE_NAMES)
    assert "20 extracted, 0 failed" in run.stdout
    assert all(r["items"] for r in records)


def test_bad_letters_are_named_and_the_rest_still_come_out(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in SAMPLE_NAMES[:2]:
        shutil.copy(EXAMPLES / "letters" / f"{name}.txt", folder)
    (folder / "empty.txt").write_text("")
    (folder / "notes.txt").write_text("Buy milk.\nCall the dentist on Monday.\n")
    (folder / "fake.pdf").write_text("not really a pdf")
    run = _run("extract", str(folder), str(tmp_path / "absent.txt"))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("imrkg: error:")]
    assert len(errors) == 4
    for bad in (
        "empty.txt: empty file",
        "notes.txt: not an IMR determination letter",
        "fake.pdf: not a PDF",
        "absent.txt: no such file",
    ):
        assert any(bad in e for e in errors), bad
    assert len(run.stdout.strip().splitlines()) == 2
    assert "6 letters: 2 extracted, 4 failed" in run.stderr


def test_output_file_is_written_whole_and_nothing_else_is_left(tmp_path: Path) -> None:
    out = tmp_path / "out" / "records.jsonl"
    run = _run("extract", str(EXAMPLES / "letters" / f"{SAMPLE_NAMES[0]}.pdf"), "-o", str(out))
    assert run.returncode == 0
    assert [p.name for p in out.parent.iterdir()] == ["records.jsonl"]


def test_no_text_option() -> None:
    result = CliRunner().invoke(
        main, ["extract", "--no-text", str(EXAMPLES / "letters" / f"{SAMPLE_NAMES[0]}.txt")]
    )
    assert result.exit_code == 0
    record = json.loads(result.stdout.splitlines()[0])
    assert "text" not in record and record["items"]


def test_usage_errors_exit_2() -> None:
    assert CliRunner().invoke(main, ["extract"]).exit_code == 2
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2
