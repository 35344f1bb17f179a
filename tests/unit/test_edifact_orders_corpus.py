"""ORDERS capture against real documents written by others (shared/corpus/edifact, read in place, never copied).

The oracle is independent of the capture: the tokenizer's segments (checked against pydifact in
test_edifact_corpus.py) say how many LIN each message has and what its QTY and PRI say, and the envelope
reader (`read_interchanges`) says which messages are sound.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.capture.edifact_orders import capture_edifact
from conveyor.channels.capture.model import Captured, CapturedOrder, Ignored, Rejected
from conveyor.channels.edi.edifact import (
    Interchange,
    Segment,
    read_interchanges,
    tokenize,
)
from conveyor.channels.edi.edifact.receipt import InterchangeReceipt
from conveyor.testing import corpus

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
EDIFACT = CORPUS / "edifact"
if not (EDIFACT / "orders").is_dir():
    pytest.skip(f"the shared EDIFACT corpus is not at {EDIFACT} (set CONVEYOR_CORPUS)", allow_module_level=True)

ORDERS = sorted((EDIFACT / "orders").glob("*.edi"))
OTHER = sorted((EDIFACT / "other").glob("*.edi"))
HUGE = EDIFACT / "orders" / "pydifact__huge_file2.edi"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "edifact"
# Interchange envelope defects (checked by hand, see test_edifact_corpus.py): they go into the receipt and
# do not void the messages, each of which is checked on its own.
INTERCHANGE_DEFECTS = {
    "pydifact__huge_file2.edi": {"missing_trailer:UNZ"},
    "pydifact__order.edi": {"missing_trailer:UNZ"},
    "pydifact__order2.edi": {"missing_trailer:UNZ"},
    "pydifact__wikipedia_de.edi": {"reference_mismatch:UNZ"},
}


def ids(path: Path) -> str:
    return path.name


def expected_lines(run: list[Segment]) -> list[tuple[Decimal, Decimal | None]]:
    """(ordered quantity, unit price) per LIN, read straight from the segments: QTY+21 (else QTY+1) and
    PRI+AAA (else AAB, per its unit price basis) before the next LIN."""
    lines: list[dict[str, Decimal]] = []
    for segment in run:
        if segment.tag == "LIN":
            lines.append({})
        elif lines and segment.tag in ("QTY", "PRI"):
            qualifier, value = segment.value(1, 1), segment.value(1, 2).replace(",", ".")
            if value:
                basis = Decimal(segment.value(1, 5) or 1) if segment.tag == "PRI" else 1
                lines[-1].setdefault(f"{segment.tag}{qualifier}", Decimal(value) / basis)
    return [(line.get("QTY21", line.get("QTY1", Decimal(-1))), line.get("PRIAAA", line.get("PRIAAB")))
            for line in lines]


def messages_of(path: Path) -> Iterator[list[Segment]]:
    current: list[Segment] | None = None
    for segment in tokenize(path.read_bytes()):
        if segment.tag == "UNH":
            current = []
        if current is not None:
            current.append(segment)
        if segment.tag == "UNT" and current is not None:
            yield current
            current = None


def sound(path: Path) -> set[str]:
    """The references of the messages the envelope reader accepts."""
    return {m.reference for i in read_interchanges(path.read_bytes()) if isinstance(i, Interchange)
            for m in i.all_messages()}


@pytest.mark.parametrize("path", ORDERS, ids=ids)
def test_every_sound_orders_message_is_captured_line_for_line(path: Path) -> None:
    receipts: list[InterchangeReceipt] = []
    with path.open("rb") as stream:
        items = list(capture_edifact(stream, name=path.name, on_receipt=receipts.append))
    runs = list(messages_of(path))
    envelope = [i for i in items if isinstance(i, Rejected) and ", message " not in i.where]
    assert len(items) - len(envelope) == len(runs)
    good = sound(path)
    for item, run in zip([i for i in items if i not in envelope], runs, strict=True):
        reference = run[0].value(1)
        assert item.control is not None and item.control.transaction == reference
        if reference not in good:
            assert isinstance(item, Rejected) and item.reason, item
            continue
        assert isinstance(item, CapturedOrder), item
        assert item.external_id == next(s.value(2) for s in run if s.tag == "BGM")
        assert len(item.lines) == sum(1 for s in run if s.tag == "LIN")
        assert [(line.quantity, line.unit_price) for line in item.lines] == expected_lines(run)
        assert all(line.where.endswith("(LIN)") for line in item.lines)
        assert item.where.startswith(f"{path.name}: interchange ")
    defects = {f"{f.code}:{f.tag}" for r in receipts for f in r.faults}
    assert defects == INTERCHANGE_DEFECTS.get(path.name, set())
    assert sorted(f.reason for r in receipts for f in r.faults) == sorted(i.reason.split("; the messages")[0]
                                                                       for i in envelope)  # shown as well
    assert sum(len(r.messages) for r in receipts) == len(runs)


def test_every_small_orders_file_of_the_corpus_gives_orders() -> None:
    verdicts = {type(i).__name__ for p in ORDERS if p != HUGE for i in capture_edifact(p.read_bytes(), name=p.name)
                if ", message " in i.where}
    assert verdicts == {"CapturedOrder"}


@pytest.mark.parametrize("path", OTHER, ids=ids)
def test_other_messages_are_ignored(path: Path) -> None:
    items = list(capture_edifact(path.read_bytes(), name=path.name))
    assert items and all(isinstance(i, Ignored) for i in items), items
    assert len(items) == len(list(messages_of(path)))


# the huge file


def _measure(source: bytes | Path) -> tuple[list[Captured], float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        if isinstance(source, Path):
            with source.open("rb") as stream:
                items = list(capture_edifact(stream, name=source.name))
        else:
            items = list(capture_edifact(source, name="huge-reenveloped.edi"))
        return items, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.skipif(not HUGE.is_file(), reason="the huge ORDERS file is not in the corpus")
def test_the_huge_file_streams_and_is_rejected_for_its_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    # One UNH, then the 14-segment body of order.edi repeated 8,432 times (BGM included), then UNT+16.
    [item, no_unz], seconds, peak = _measure(HUGE)
    assert isinstance(no_unz, Rejected) and no_unz.code == "missing_trailer"
    assert isinstance(item, Rejected) and item.code == "count_mismatch"
    assert "UNT01" in item.reason and "expected '109619', found '16'" in item.reason
    assert "BGM may appear only once" in item.reason
    size = HUGE.stat().st_size
    assert peak < size / 2, peak  # streamed: never the file, never its segments
    with capsys.disabled():
        print(f"\n{HUGE.name} as is: rejected in {seconds:.2f} s, tracemalloc peak {peak / 1e6:.2f} MB "
              f"for {size / 1e6:.2f} MB")


def reenveloped() -> bytes:
    return corpus.reenveloped(HUGE)


@pytest.mark.skipif(not HUGE.is_file(), reason="the huge ORDERS file is not in the corpus")
def test_the_huge_files_lines_are_captured_in_bounded_memory(capsys: pytest.CaptureFixture[str]) -> None:
    data = reenveloped()
    [order], seconds, peak = _measure(data)
    assert isinstance(order, CapturedOrder)
    assert len(order.lines) == 16_864
    run = next(messages_of(HUGE))
    lines = [line for line in expected_lines(run)]
    assert [(line.quantity, line.unit_price) for line in order.lines] == lines
    assert {line.item.gtin for line in order.lines} == {"5020436373085", "5020436373108"}
    # What is kept is the captured lines (a CapturedLine with its ItemRef, Decimals and strings is ~400
    # bytes); the scanner holds one 64 KB chunk and one message's state.
    assert peak < 1_000 * len(order.lines), peak
    assert seconds < 30
    with capsys.disabled():
        print(f"\n{HUGE.name} re-enveloped ({len(data) / 1e6:.2f} MB, 16,864 lines): captured in {seconds:.2f} s, "
              f"tracemalloc peak {peak / 1e6:.2f} MB ({peak // len(order.lines)} bytes a line)")


# fuzzing


SMALL = {p.name: p.read_bytes() for p in ORDERS if p.stat().st_size < 10_000}
SMALL["orders_eancom_full.edi"] = (FIXTURES / "orders_eancom_full.edi").read_bytes()
interesting_bytes = st.one_of(st.sampled_from(list(b"'+:?,.0123456789 \r\nUNAHTZBGMLINQTYPRI\x00\xe9")),
                              st.integers(0, 255))
mutations = st.lists(st.tuples(st.sampled_from(["flip", "drop", "insert", "copy"]), st.integers(0, 1 << 20),
                               st.integers(0, 1 << 20), interesting_bytes), min_size=1, max_size=8)


def mutate(data: bytes, changes: list[tuple[str, int, int, int]]) -> bytes:
    buffer = bytearray(data)
    for operation, where, other, byte in changes:
        if operation == "insert" or not buffer:
            buffer.insert(where % (len(buffer) + 1), byte)
        elif operation == "drop":
            del buffer[where % len(buffer)]
        elif operation == "copy":  # a run of the document repeated elsewhere: whole segments move around
            start = other % len(buffer)
            buffer[where % len(buffer):where % len(buffer)] = buffer[start:start + 40]
        else:
            buffer[where % len(buffer)] = byte
    return bytes(buffer)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SMALL)), mutations, st.integers(1, 512))
def test_mutated_documents_give_orders_rejections_or_ignored_and_never_raise(
        name: str, changes: list[tuple[str, int, int, int]], chunk_size: int) -> None:
    data = mutate(SMALL[name], changes)
    receipts: list[InterchangeReceipt] = []
    items = list(capture_edifact(data, name=name, on_receipt=receipts.append, chunk_size=chunk_size))
    assert items
    for item in items:
        assert isinstance(item, CapturedOrder | Rejected | Ignored)
        assert item.where.startswith(name)
        if isinstance(item, CapturedOrder):
            assert item.lines and all(line.quantity > 0 for line in item.lines)
            assert item.external_id and item.control is not None
        elif isinstance(item, Rejected):
            assert item.reason and item.code
    from_messages = [i for i in items if ", message " in i.where]
    assert sum(len(r.messages) for r in receipts) == len(from_messages)
    accepted = [m.accepted for r in receipts for m in r.messages]
    assert accepted == [not isinstance(i, Rejected) for i in from_messages]
