"""Real X12 documents written by others, read from the shared corpus (never copied into the project).

The corpus index (INDEX.md) lists, for every document, its delimiters and how many interchanges,
transactions per set id, PO1, N1, HL and IT1 segments it holds: the reader must find the same. Documents
named Invalid, Corrupt, ERR or SyntaxNotes, or noted as having no ISA, are broken on purpose.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.edi.x12 import (
    Delimiters,
    Interchange,
    X12Error,
    X12ErrorCode,
    iter_segments,
    read_interchanges,
)

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
X12 = CORPUS / "x12"
if not X12.is_dir():
    pytest.skip(f"the shared corpus of real X12 documents is not at {X12} (set CONVEYOR_CORPUS to its folder)",
                allow_module_level=True)

BROKEN_NAME = re.compile(r"Invalid|Corrupt|ERR|SyntaxNotes")
ORACLES = {"856/EdiEngine__856.Crossdock.OK.json": "856/EdiEngine__856.Crossdock.OK.edi"}
# Broken on purpose, but in a way the tokenizer and envelope reader are right not to see.
BEYOND_THE_READER = {
    "EdiEngine__850.SyntaxNotes.ERR.edi": "PO1 has PO106 without PO107 and PO4 PO405 without PO406, against syntax "
                                          "notes of the 850; element relations belong to the 850 mapping",
}
_WRAPPED = "the index counts 'PO1*' in the raw text and misses the 'PO1\\n*' that the 80-column wrap splits"
# Where INDEX.md says otherwise than the document, checked by hand: the document's values.
INDEX_ERRATA: dict[str, tuple[dict[str, Any], str]] = {
    "850/bots__850_fixed__850-004010-08.x12": ({"PO1": 11}, _WRAPPED),
    "850/bots__850_fixed__850-004010.16.x12": ({"PO1": 11}, _WRAPPED),
    "850/bots__850_fixed__850-004010.15.x12": ({"elem": "|"}, "the index writes '/' for '|', which would end "
                                                              "its Markdown table cell"),
}


def index_notes() -> dict[str, str]:
    notes = {}
    for line in (CORPUS / "INDEX.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("x12/"):
            note = cells[4]
            if note.startswith('"') and note.endswith('"'):  # quoted as in CSV
                note = note[1:-1].replace('""', '"')
            notes[cells[0].removeprefix("x12/")] = note
    return notes


NOTES = index_notes()
DOCUMENTS = sorted(str(path.relative_to(X12)) for path in X12.rglob("*") if path.suffix in (".x12", ".edi"))
BROKEN = [name for name in DOCUMENTS if BROKEN_NAME.search(name) or "no ISA" in NOTES.get(name, "")]
VALID = [name for name in DOCUMENTS if name not in BROKEN]


def expected(name: str) -> dict[str, Any]:
    """What INDEX.md says of a document: delimiters and counts, with its errata applied."""
    note = NOTES[name]
    found = re.search(r"ISA=(\d+) ST=(\{[^}]*\}) PO1=(\d+) N1=(\d+) HL=(\d+) IT1=(\d+)", note)
    assert found, f"no counts in the index note {note!r}"
    isa, set_ids, po1, n1, hl, it1 = found.groups()
    quoted = r"('(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")"
    values = {key: ast.literal_eval(value) for key, value in re.findall(rf"(elem|sub|segterm)={quoted}", note)}
    values |= {"ISA": int(isa), "ST": ast.literal_eval(set_ids), "PO1": int(po1), "N1": int(n1), "HL": int(hl),
               "IT1": int(it1)}
    return values | INDEX_ERRATA.get(name, ({}, ""))[0]


def read(name: str, **options: Any) -> list[Interchange]:
    with (X12 / name).open("rb") as stream:
        return list(read_interchanges(stream, **options))


def test_the_corpus_is_covered_and_its_errata_still_apply() -> None:
    files = sorted(str(path.relative_to(X12)) for path in X12.rglob("*") if path.is_file())
    assert sorted([*DOCUMENTS, *ORACLES]) == files
    assert set(DOCUMENTS) <= set(NOTES), "every document is in INDEX.md"
    assert len(VALID) > 50 and BROKEN
    assert set(INDEX_ERRATA) <= set(VALID)


@pytest.mark.parametrize("name", VALID)
def test_valid_documents_read_without_problems(name: str) -> None:
    with (X12 / name).open("rb") as stream:
        segments = list(iter_segments(stream))
    interchanges = read(name)
    assert [str(error) for interchange in interchanges for error in interchange.all_errors()] == []
    tags = Counter(segment.tag for segment in segments)
    found: dict[str, Any] = {tag: tags[tag] for tag in ("ISA", "PO1", "N1", "HL", "IT1")}
    found["ST"] = dict(Counter(segment.elements[0] for segment in segments if segment.tag == "ST"))
    for interchange in interchanges:
        delimiters = interchange.delimiters
        found |= {"elem": delimiters.element, "sub": delimiters.component, "segterm": delimiters.segment}
    assert found == expected(name)


@pytest.mark.parametrize("name", [name for name in VALID if name.startswith("850/")])
def test_every_purchase_order_has_po1_lines(name: str, record_property: Any) -> None:
    # Control numbers repeat across the corpus (even within one group), so the report lists them in order.
    lines = [(f"{interchange.control_number}/{group.control_number}/{transaction.control_number}",
              transaction.count("PO1"))
             for interchange in read(name) for group in interchange.groups for transaction in group.transactions
             if transaction.set_id == "850"]
    record_property("po1_per_transaction", lines)
    print(f"{name}: PO1 per transaction (ISA13/GS06/ST02) {lines}")
    assert lines and all(count > 0 for _, count in lines)


@pytest.mark.parametrize("name", BROKEN)
def test_broken_documents_give_a_precise_error_not_a_crash(name: str) -> None:
    try:
        interchanges = read(name)
    except X12Error as error:
        assert error.code in X12ErrorCode and error.position is not None and error.message
        return
    errors = [error for interchange in interchanges for error in interchange.all_errors()]
    assert errors or Path(name).name in BEYOND_THE_READER


def test_an_ebcdic_document_is_refused_with_the_reason_and_reads_when_decoded() -> None:
    name = "850/bots__850_fixed__ebcdic.x12"
    with pytest.raises(X12Error) as raised:
        read(name)
    error = raised.value
    assert error.code == X12ErrorCode.NOT_X12 and error.position is not None and error.position.offset == 0
    assert "EBCDIC" in error.message and "encoding='cp037'" in error.message
    [interchange] = read(name, encoding="cp037")
    [transaction] = interchange.groups[0].transactions
    assert interchange.ok and transaction.set_id == "850" and transaction.count("PO1") == 4


def test_syntax_note_violations_reach_the_mapping_exactly() -> None:
    [good] = read("850/EdiEngine__850.OK.edi")
    [broken] = read("850/EdiEngine__850.SyntaxNotes.ERR.edi")
    assert good.ok and broken.ok
    pairs = zip(good.groups[0].transactions[0].segments, broken.groups[0].transactions[0].segments, strict=True)
    differences = [(a.tag, reference, a.element(reference), b.element(reference)) for a, b in pairs
                   for reference in range(1, 13) if a.element(reference) != b.element(reference)]
    assert differences == [("PO1", 7, "065322-117", ""), ("PO4", 5, "", "X"), ("PO4", 6, "3", "")]


def test_edi_engine_parses_the_856_as_we_do() -> None:
    def flatten(node: dict[str, Any]) -> list[tuple[str, list[str]]]:
        if node["Type"] == "S":
            return [(node["Name"], [element["E"] for element in node["Content"]])]
        return [segment for child in node["Content"] for segment in flatten(child)]

    for oracle, document in ORACLES.items():
        expected = flatten(json.loads((X12 / oracle).read_text()))
        [interchange] = read(document)
        [transaction] = interchange.groups[0].transactions
        assert [(s.tag, list(s.elements)) for s in transaction.segments[1:-1]] == expected


def test_delimiters_seen_across_the_corpus() -> None:
    seen = {interchange.delimiters for name in VALID for interchange in read(name)}
    assert Delimiters("\x7f", ">", "\x15") in seen and Delimiters("|", ">", "~") in seen
    assert Delimiters("*", ">", "~", "-") in seen  # node-x12's 856 declares '-' (ISA11, version 00406)


# -- fuzz: real documents with bytes flipped, dropped or inserted ------------------------------------------

ORIGINALS = [(X12 / name).read_bytes() for name in VALID]
TOKENS = [b"~", b"*", b">", b"^", b":", b"\r\n", b"\n", b"ISA", b"IEA*1*", b"SE*", b"GE*", b"GS*", b"ST*850*",
          b"\xff", b"\xc3", b"\x00", b" ", b"U", b"\xb9", b"\x15"]  # \xb9 is '¹', a digit to str.isdigit
mutation = st.tuples(st.sampled_from(["flip", "drop", "insert"]), st.integers(0, 1 << 20), st.integers(0, 255),
                     st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=6)))


def mutated(data: bytes, mutations: list[tuple[str, int, int, bytes]]) -> bytes:
    result = bytearray(data)
    for kind, where, value, inserted in mutations:
        where %= len(result) + 1
        if kind == "flip" and where < len(result):
            result[where] = value
        elif kind == "drop":
            del result[where:where + 1 + value % 40]
        else:
            result[where:where] = inserted
    return bytes(result)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(ORIGINALS) - 1), st.lists(mutation, min_size=1, max_size=6), st.sampled_from([7, 1 << 16]),
       st.sampled_from(["utf-8", "utf-8", "latin-1", "cp037", "utf-16"]))
def test_mutated_documents_raise_nothing_but_x12_error(document: int, mutations: list[tuple[str, int, int, bytes]],
                                                       chunk_size: int, encoding: str) -> None:
    data = mutated(ORIGINALS[document], mutations)
    try:
        interchanges = list(read_interchanges(data, chunk_size=chunk_size, encoding=encoding))
    except X12Error as error:
        assert error.code in X12ErrorCode and error.message
        return
    for interchange in interchanges:
        for error in interchange.all_errors():
            assert isinstance(error, X12Error) and error.message
            assert error.position is not None and 0 <= error.position.offset <= len(data)
    try:
        for _ in iter_segments(data, chunk_size=chunk_size, encoding=encoding):
            pass
    except X12Error:
        pass
