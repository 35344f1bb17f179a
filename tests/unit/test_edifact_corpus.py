"""EDIFACT against real documents written by others (shared/corpus/edifact, read in place, never copied).

INDEX.md beside the corpus states, for each file, its message types and its LIN and NAD counts; those are an
oracle independent of our code, and pydifact (a dev dependency) is a second one for the segments.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.edi.edifact import EdifactError, Interchange, Segment, read_interchanges, scan, tokenize

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
EDIFACT = CORPUS / "edifact"
pytestmark = pytest.mark.skipif(not EDIFACT.is_dir(), reason=f"the shared EDIFACT corpus is not at {EDIFACT}")

FILES = sorted(EDIFACT.glob("**/*.edi")) if EDIFACT.is_dir() else []
HUGE = EDIFACT / "orders" / "pydifact__huge_file2.edi"
BROKEN_NAME = re.compile(r"Invalid|Corrupt|ERR|SyntaxNotes")
# What the envelope checks find in files that are not named as broken: real defects of the documents,
# each checked by hand (code, then the element or the missing trailer).
ENVELOPE_DEFECTS = {
    # UNT+16 closes a message of 109,619 segments (the file was made by repeating a body); no UNZ.
    "pydifact__huge_file2.edi": {"count_mismatch:UNT01", "missing_trailer:UNZ"},
    "pydifact__order.edi": {"missing_trailer:UNZ"},
    "pydifact__order2.edi": {"missing_trailer:UNZ"},
    # UNB05 is 1 and UNB07 (application reference) 1234567; UNZ02 repeats the latter.
    "pydifact__wikipedia_de.edi": {"reference_mismatch:UNZ02"},
}
_ROW = re.compile(r"^\| (edifact/[^ |]+) \|.*\| UNA=(yes|no) msgs=(\{[^}]*\}) LIN=(\d+) NAD=(\d+) \|$", re.M)


def ids(path: Path) -> str:
    return path.name


def index() -> dict[str, tuple[bool, dict[str, int], int, int]]:
    text = (CORPUS / "INDEX.md").read_text(encoding="utf-8")
    return {Path(m[1]).name: (m[2] == "yes", ast.literal_eval(m[3]), int(m[4]), int(m[5]))
            for m in _ROW.finditer(text)}


def problem_keys(items: list[Interchange | EdifactError]) -> set[str]:
    keys = set()
    for item in items:
        for problem in item.problems if isinstance(item, Interchange) else [item]:
            keys.add(f"{problem.code}:{problem.element or problem.expected}")
    return keys


def messages_of(segments: list[Segment]) -> list[list[Segment]]:
    """The UNH…UNT runs of a token stream, whatever the envelope checks think of them."""
    runs: list[list[Segment]] = []
    current: list[Segment] | None = None
    for segment in segments:
        if segment.tag == "UNH":
            current = []
            runs.append(current)
        if current is not None:
            current.append(segment)
        if segment.tag == "UNT":
            current = None
    return runs


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_every_corpus_file_tokenizes_and_matches_its_index_entry(path: Path) -> None:
    with path.open("rb") as stream:
        items = list(scan(stream))
    errors = [i for i in items if isinstance(i, EdifactError)]
    if BROKEN_NAME.search(path.name):
        assert errors or problem_keys(list(read_interchanges(path.read_bytes()))), path.name
        return
    assert not errors, errors
    segments = [i for i in items if isinstance(i, Segment)]
    una, message_types, lin, nad = index()[path.name]
    assert path.read_bytes().startswith(b"UNA") == una
    types = Counter(":".join(s.composite(2)) for s in segments if s.tag == "UNH")
    assert types == message_types
    tags = Counter(s.tag for s in segments)
    assert (tags["LIN"], tags["NAD"]) == (lin, nad)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_envelope_checks_find_exactly_the_known_defects(path: Path) -> None:
    if BROKEN_NAME.search(path.name):
        pytest.skip("named as broken: the tokenizer test checks that it is rejected")
    with path.open("rb") as stream:
        items = list(read_interchanges(stream))
    assert problem_keys(items) == ENVELOPE_DEFECTS.get(path.name, set())
    assert all(isinstance(i, Interchange) for i in items)
    for interchange in items:
        assert isinstance(interchange, Interchange)
        assert interchange.sender.id and interchange.recipient.id and interchange.reference
        for message in interchange.all_messages():
            assert message.segments[-1].value(1) == str(len(message.segments))


def test_each_orders_message_has_order_lines(capsys: pytest.CaptureFixture[str]) -> None:
    report = []
    for path in (p for p in FILES if p.parent.name == "orders" and not BROKEN_NAME.search(p.name)):
        accepted = {(m.reference, len(m.segments)) for i in read_interchanges(path.read_bytes())
                    if isinstance(i, Interchange) for m in i.all_messages()}
        for run in messages_of(list(tokenize(path.read_bytes()))):
            header = run[0]
            if header.value(2) != "ORDERS":
                continue
            lines = sum(1 for s in run if s.tag == "LIN")
            assert lines > 0, f"{path.name} message {header.value(1)}"
            verdict = "accepted" if (header.value(1), len(run)) in accepted else "rejected"
            report.append(f"{path.name:42} UNH {header.value(1):16} {':'.join(header.composite(2)):24} "
                          f"LIN {lines:6} {verdict}")
    assert report
    with capsys.disabled():
        print("\nORDERS messages in the corpus:\n" + "\n".join(report))


@pytest.mark.skipif(not HUGE.is_file(), reason="the huge ORDERS file is not in the corpus")
def test_the_huge_orders_file_streams_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    with HUGE.open("rb") as stream:
        tags = Counter(s.tag for s in tokenize(stream))
    tokenized = time.perf_counter() - started
    started = time.perf_counter()
    with HUGE.open("rb") as stream:
        [interchange] = read_interchanges(stream)
    read = time.perf_counter() - started
    assert sum(tags.values()) == 109_620 and tags["LIN"] == 16_864
    assert isinstance(interchange, Interchange) and not interchange.all_messages()  # UNT01 says 16
    assert tokenized < 10
    with capsys.disabled():
        print(f"\n{HUGE.name}: {HUGE.stat().st_size:,} bytes, {sum(tags.values()):,} segments tokenized in "
              f"{tokenized:.2f} s, read with envelope checks in {read:.2f} s")


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_segments_agree_with_pydifact(path: Path) -> None:
    pytest.importorskip("pydifact")
    from pydifact.segmentcollection import RawSegmentCollection

    def plain(value: str | list[str]) -> str | tuple[str, ...]:
        # pydifact keeps line breaks inside a wrapped segment; ISO 9735 repertoires have none, we drop them.
        if isinstance(value, list):
            return tuple(v.replace("\r", "").replace("\n", "") for v in value)
        return value.replace("\r", "").replace("\n", "")

    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [(s.tag, tuple(plain(e) for e in s.elements))
                  for s in RawSegmentCollection.from_str(data.decode("latin-1")).segments if s.tag != "UNA"]
    ours = [(s.tag, s.elements) for s in tokenize(data)]
    assert len(ours) == len(theirs)
    assert ours == theirs


SMALL = {p.name: p.read_bytes() for p in FILES if p.stat().st_size < 10_000}
interesting_bytes = st.one_of(st.sampled_from(list(b"'+:?* \r\nUNAHTZ\x00\xe9")), st.integers(0, 255))
mutations = st.lists(st.tuples(st.sampled_from(["flip", "drop", "insert"]), st.integers(0, 1 << 20),
                               interesting_bytes), min_size=1, max_size=6)


def mutate(data: bytes, changes: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for operation, where, byte in changes:
        if operation == "insert":
            buffer.insert(where % (len(buffer) + 1), byte)
        elif buffer and operation == "drop":
            del buffer[where % len(buffer)]
        elif buffer:
            buffer[where % len(buffer)] = byte
    return bytes(buffer)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SMALL)), mutations, st.integers(1, 512))
def test_mutated_documents_give_messages_or_edifact_errors_and_nothing_else(name: str,
                                                                           changes: list[tuple[str, int, int]],
                                                                           chunk_size: int) -> None:
    data = mutate(SMALL[name], changes)
    items = list(read_interchanges(data, chunk_size=chunk_size))  # any exception fails the test
    for item in items:
        assert isinstance(item, Interchange | EdifactError)
        if isinstance(item, Interchange):
            assert all(isinstance(p, EdifactError) for p in item.problems)
            for message in item.all_messages():  # what is kept passed its checks
                assert message.segments[0].tag == "UNH" and message.segments[-1].tag == "UNT"
                # UNT01 is numeric: "09" counts nine segments like "9" (the reader compares numbers)
                assert int(message.segments[-1].value(1)) == len(message.segments)
                assert message.segments[-1].value(2) == message.reference
        str(item)
    with contextlib.suppress(EdifactError):  # tokenize raises, but only this
        list(tokenize([data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]))
