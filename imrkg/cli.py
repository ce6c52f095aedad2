"""The ``imrkg`` command line.

Thin by design: each command parses its options, calls the library and
reports. Errors are one line on stderr naming the file and the reason; exit
status 0 means every input succeeded, 1 that some input failed, 2 a usage
error.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from imrkg import __version__
from imrkg.errors import ImrKgError, LetterError

LETTER_SUFFIXES = (".pdf", ".txt", ".text")


def letter_paths(paths: tuple[str, ...]) -> Iterator[Path]:
    """Every letter named: files as given, folders searched recursively for .pdf and .txt files."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LETTER_SUFFIXES
            )
            if not found:
                raise LetterError(path, "folder holds no .pdf or .txt letters")
            yield from found
        else:
            yield path


def _progress(items: list[Path], label: str) -> Iterator[Path]:
    """Iterate with a progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty() or len(items) < 2:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, unit="letter", file=sys.stderr, leave=False)


def _error(message: str) -> None:
    click.echo(f"imrkg: error: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="imrkg")
def main() -> None:
    """imr-kg: a knowledge graph of California workers' compensation IMR determination letters."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the records to FILE (JSON Lines) instead of standard output.",
)
@click.option(
    "--no-text", is_flag=True, help="Leave each letter's normalized text out of its record."
)
def extract(paths: tuple[str, ...], output: Path | None, no_text: bool) -> None:
    """Extract one letter record (JSON Lines) from each letter in PATHS (files or folders)."""
    from imrkg.loader.extract import extract_letter
    from imrkg.record import record_to_json

    failed = 0
    letters: list[Path] = []
    for raw in paths:
        try:
            letters.extend(letter_paths((raw,)))
        except LetterError as exc:
            _error(str(exc))
            failed += 1
    sink: IO[str]
    temp_name: str | None = None
    if output is None:
        sink = sys.stdout
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        # written beside the target and renamed over it at the end, so that a failed
        # run never leaves half a file behind
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", encoding="utf-8", dir=output.parent, prefix=f".{output.name}.", delete=False
        )
        sink, temp_name = handle, handle.name
    extracted = 0
    try:
        for path in _progress(letters, "extract"):
            try:
                record = extract_letter(path)
            except ImrKgError as exc:
                _error(str(exc))
                failed += 1
                continue
            except Exception as exc:  # a bug must not cost the other letters
                _error(f"{path}: internal error ({type(exc).__name__}: {exc})")
                failed += 1
                continue
            data = record_to_json(record)
            if no_text:
                data.pop("text", None)
            sink.write(json.dumps(data, ensure_ascii=False) + "\n")
            extracted += 1
        if temp_name is not None:
            sink.close()
            Path(temp_name).replace(output)  # type: ignore[arg-type]
            temp_name = None
    finally:
        if temp_name is not None:
            sink.close()
            Path(temp_name).unlink(missing_ok=True)
    summary = f"imrkg extract: {extracted + failed} letters: {extracted} extracted, {failed} failed"
    click.echo(summary, err=output is None)
    sys.exit(1 if failed else 0)
