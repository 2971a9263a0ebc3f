"""The repository holds its own sources: every citation resolves to docs/references.md.

Sources, tests, examples, benchmarks and docs cite public documents by a key in
brackets (``[EMIR-RTS-153]``); each key has an entry with an address in
``docs/references.md``. Documents that are not public never appear.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "docs" / "references.md"
SCANNED = ("src", "tests", "examples", "benchmarks", "docs", "README.md")

#: Names of working papers that are not part of the repository; citing them
#: would send a reader to a document they cannot open.
UNPUBLISHED = tuple(
    # Joined here so that this file, which must name them, does not match itself.
    "".join(parts)
    for parts in (
        ("rules-and-", "precedents"),
        ("quant-", "methods"),
        ("peer-", "systems"),
        ("seed ", "document"),
        ("seed-", "ccp"),
        ("../", "shared"),
    )
)

#: A citation key: words of two or more characters joined by hyphens, starting with a
#: capital, e.g. [CME-SAFEGUARDS-2023], [BoE-SST-2024], [CFTC-39.11]; a markdown link
#: ``[text](url)`` or a character class like ``[A-Z]`` is not one.
KEY = re.compile(r"\[([A-Z][A-Za-z0-9]+(?:-[A-Za-z0-9][A-Za-z0-9.]*[A-Za-z0-9])+)\](?!\()")
ENTRY = re.compile(r"^### \[([^\]]+)\]", re.MULTILINE)
ADDRESS = re.compile(r"https?://\S+")


def _generated(path: Path) -> bool:
    """Build and cache output (package metadata copies README.md): not the sources."""
    return any(
        part.endswith(".egg-info") or part.startswith((".", "__pycache__"))
        for part in path.relative_to(ROOT).parts
    )


def _text_files(*roots: str) -> list[Path]:
    """Every readable text file under ``roots`` (files or folders of the repository)."""
    files: list[Path] = []
    for name in roots:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            if _generated(candidate) or candidate.resolve() == Path(__file__).resolve():
                continue
            try:
                candidate.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary data (Parquet): no citations there
            files.append(candidate)
    return files


def _entries() -> dict[str, str]:
    """Entry key -> entry body, from docs/references.md."""
    text = REFERENCES.read_text(encoding="utf-8")
    heads = list(ENTRY.finditer(text))
    return {
        head.group(1): text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else None]
        for i, head in enumerate(heads)
    }


def test_no_file_cites_a_document_outside_the_repository() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {name!r}"
        for path in _text_files(*SCANNED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for name in UNPUBLISHED
        if name in line.lower()
    ]
    assert not offending, "cite docs/references.md instead:\n" + "\n".join(offending)


def test_every_cited_key_has_an_entry() -> None:
    entries = _entries()
    missing = [
        f"{path.relative_to(ROOT)}:{number}: [{key}]"
        for path in _text_files("src", "tests", "examples", "benchmarks", "README.md")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for key in KEY.findall(line)
        if key not in entries
    ]
    assert not missing, "keys without an entry in docs/references.md:\n" + "\n".join(missing)


def test_every_entry_has_a_web_address() -> None:
    entries = _entries()
    assert entries, "docs/references.md has no entries"
    without = [key for key, body in entries.items() if not ADDRESS.search(body)]
    assert not without, f"entries without an http(s) address: {without}"


def test_entry_keys_are_unique_and_citable() -> None:
    keys = ENTRY.findall(REFERENCES.read_text(encoding="utf-8"))
    assert len(keys) == len(set(keys)), "a key is defined twice"
    assert [k for k in keys if not KEY.fullmatch(f"[{k}]")] == []


@pytest.mark.parametrize(
    ("line", "keys"),
    [
        ("# RTS 153/2013 Art 28(1)(a) [EMIR-RTS-153]: a 25% buffer", ["EMIR-RTS-153"]),
        ("(docs/references.md [BASEL-CRE54], CRE54.29)", ["BASEL-CRE54"]),
        ("[BoE-SST-2024] and [CFTC-39.11].", ["BoE-SST-2024", "CFTC-39.11"]),
        ('dtype="datetime64[D]", [V], [A-Z]', []),
        ("[krx-2013](examples/krx-2013/README.md), [CME-style](x)", []),
    ],
)
def test_key_pattern_finds_citations_only(line: str, keys: list[str]) -> None:
    assert KEY.findall(line) == keys
