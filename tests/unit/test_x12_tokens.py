"""X12 tokenizer, envelope reader and writer, on small documents written here (see test_x12_corpus.py for
real ones). Fixtures are written with '*' '>' '~' '^' and translated to other delimiters where a test
needs them."""

from __future__ import annotations

import io
import string
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conveyor.channels.edi.x12 import (
    Delimiters,
    Interchange,
    PartyId,
    Repeated,
    Segment,
    SegmentScanner,
    X12Error,
    X12ErrorCode,
    build_group,
    build_interchange,
    build_transaction,
    iter_segments,
    read_interchanges,
    write_segments,
)

NOW = datetime(2024, 6, 3, 10, 15)
E = X12ErrorCode


def isa(*, repetition: str = "U", version: str = "00401", control: str = "000000001") -> str:
    fields = ["00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15), "240603",
              "1015", repetition, version, control, "0", "P", ">"]
    return "*".join(["ISA", *fields]) + "~"


def transaction(control: str = "0001", po: str = "PO-1", *, count: str = "5", trailer: str | None = None) -> str:
    return (f"ST*850*{control}~BEG*00*SA*{po}**20240603~PO1*1*2*EA*9.25**VP*SKU-1~CTT*1~"
            f"SE*{count}*{trailer or control}~")


def interchange(*transactions: str, group: str = "1", ge: str | None = None, iea: str = "1*000000001",
                head: str | None = None) -> str:
    ge = ge or f"{len(transactions)}*{group}"
    return (f"{head or isa()}GS*PO*SENDER*RECEIVER*20240603*1015*{group}*X*004010~"
            f"{''.join(transactions)}GE*{ge}~IEA*{iea}~")


def translate(text: str, element: str, component: str, terminator: str, repetition: str = "^") -> str:
    return text.translate(str.maketrans({"*": element, ">": component, "~": terminator, "^": repetition}))


def read(text: str | bytes, **options: str) -> list[Interchange]:
    return list(read_interchanges(text, **options))  # type: ignore[arg-type]


def only_error(interchanges: list[Interchange]) -> X12Error:
    errors = [error for interchange in interchanges for error in interchange.all_errors()]
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


# -- delimiters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("element", "component", "terminator"), [
    ("*", ">", "~"), ("|", "^", "\n"), ("+", ":", "'"), ("\x7f", ">", "\x15"), ("\x1d", "\x1f", "\x1c"),
    ("!", "@", "#"), ("*", ":", "\r"), ("§", "¤", "¶"),
])
def test_the_delimiters_are_the_ones_the_isa_declares(element: str, component: str, terminator: str) -> None:
    text = translate(interchange(transaction().replace("SKU-1", "SKU>1")), element, component, terminator)
    segments = list(iter_segments(text))
    assert [segment.tag for segment in segments] == ["ISA", "GS", "ST", "BEG", "PO1", "CTT", "SE", "GE", "IEA"]
    assert segments[0].elements[15] == component  # ISA16 is never split
    assert segments[4].elements == ("1", "2", "EA", "9.25", "", "VP", ("SKU", "1"))
    assert read(text)[0].delimiters == Delimiters(element, component, terminator)


def test_each_interchange_brings_its_own_delimiters() -> None:
    first = interchange(transaction())
    second = translate(interchange(transaction(), group="2"), "|", "^", "\n", repetition="!")
    interchanges = read(first + "\r\n" + second)
    assert [i.delimiters for i in interchanges] == [Delimiters("*", ">", "~"), Delimiters("|", "^", "\n")]
    assert all(i.ok for i in interchanges)


def test_an_isa_without_its_terminator_is_refused_and_the_next_interchange_read() -> None:
    broken = interchange(transaction()).replace("*>~GS", "*>GS", 1)  # the terminator would be 'G'
    interchanges = read(broken + interchange(transaction("0002")))
    assert len(interchanges) == 1 and interchanges[0].groups[0].transactions[0].control_number == "0002"
    error = interchanges[0].errors[0]
    assert error.code == E.INVALID_ISA and "segment terminator 'G' is a letter" in error.message
    assert error.position is not None and error.position.offset == 0
    assert interchanges[0].groups[0].transactions[0].ok


# -- line breaks ----------------------------------------------------------------------------------------


def wrapped(text: str, width: int = 80, newline: str = "\r\n") -> str:
    return newline.join(text[start:start + width] for start in range(0, len(text), width)) + newline


def test_files_wrapped_at_80_columns_read_as_if_they_were_not() -> None:
    text = interchange(transaction(), transaction("0002", "PO-2")) + interchange(transaction(), group="2")
    for newline in ("\n", "\r\n"):
        assert list(iter_segments(wrapped(text, newline=newline))) == list(iter_segments(text))
        assert all(i.ok for i in read(wrapped(text, newline=newline)))


def test_line_breaks_after_terminators_and_spaces_before_tags_are_not_data() -> None:
    text = interchange(transaction())
    loose = "\r\n  " + text.replace("~", "~\r\n  ") + "   \r\n\r\n"
    assert list(iter_segments(loose)) == list(iter_segments(text))


def test_a_line_break_may_be_the_terminator_with_the_other_one_dropped() -> None:
    text = interchange(transaction())
    for terminator, line_end in (("\n", "\r\n"), ("\r", "\r\n"), ("\n", "\n")):
        lines = translate(text, "*", ">", terminator).replace(terminator, line_end)
        assert list(iter_segments(lines)) == list(iter_segments(text))


def test_a_wrap_between_isa16_and_the_terminator_is_not_taken_for_the_terminator() -> None:
    text = interchange(transaction())
    assert list(iter_segments(text.replace(">~GS", ">\r\n~GS", 1))) == list(iter_segments(text))


def test_the_last_segment_may_lack_its_terminator() -> None:
    text = interchange(transaction())
    assert read(text.removesuffix("~"))[0].ok


# -- structure ------------------------------------------------------------------------------------------


def test_several_interchanges_groups_and_transactions() -> None:
    two_groups = (isa(control="000000002") + "GS*PO*S*R*20240603*1015*7*X*004010~" + transaction("0001")
                  + transaction("0002", "PO-2") + "GE*2*7~GS*PO*S*R*20240603*1015*8*X*004010~"
                  + transaction("0003", "PO-3") + "GE*1*8~IEA*2*000000002~")
    interchanges = read(interchange(transaction()) + two_groups)
    assert [i.control_number for i in interchanges] == ["000000001", "000000002"]
    assert [[g.control_number for g in i.groups] for i in interchanges] == [["1"], ["7", "8"]]
    assert [[t.control_number for g in i.groups for t in g.transactions] for i in interchanges] == [
        ["0001"], ["0001", "0002", "0003"]]
    assert all(i.ok for i in interchanges)


def test_envelope_fields_are_read() -> None:
    [interchange_] = read(interchange(transaction()))
    assert interchange_.sender == PartyId("ZZ", "SENDER") and interchange_.receiver == PartyId("ZZ", "RECEIVER")
    assert (interchange_.version, interchange_.usage, interchange_.acknowledgment_requested) == ("00401", "P", False)
    group = interchange_.groups[0]
    assert (group.functional_id, group.sender_code, group.receiver_code, group.version) == (
        "PO", "SENDER", "RECEIVER", "004010")
    assert (group.transactions[0].set_id, group.transactions[0].count("PO1")) == ("850", 1)


def test_repetition_separator_from_version_00402_when_it_is_not_u() -> None:
    body = transaction().replace("SKU-1", "A^B>C^D")
    [po1] = [s for s in iter_segments(interchange(body, head=isa(repetition="^", version="00501"))) if s.tag == "PO1"]
    assert po1.elements[6] == Repeated(("A", ("B", "C"), "D"))
    for head in (isa(repetition="U", version="00501"), isa(repetition="^", version="00401")):
        [po1] = [s for s in iter_segments(interchange(body, head=head)) if s.tag == "PO1"]
        assert po1.elements[6] == ("A^B", "C^D")


def test_segment_positions_count_bytes_in_binary_and_characters_in_text() -> None:
    text = interchange(transaction(po="MÜLLER"))
    by_bytes = list(iter_segments(text.encode()))
    by_chars = list(iter_segments(text))
    assert by_bytes == by_chars
    po1 = by_bytes[4]
    assert (po1.tag, po1.number, po1.number_in_transaction) == ("PO1", 5, 3)
    assert po1.offset == text.encode().index(b"PO1*") and by_chars[4].offset == text.index("PO1*")
    assert by_bytes[4].offset == by_chars[4].offset + 1  # Ü is two bytes in UTF-8
    assert [s.number_in_transaction for s in by_bytes] == [None, None, 1, 2, 3, 4, 5, None, None]
    assert po1.element(7) == "SKU-1" and po1.element(99) == ""


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 106, 4096])
def test_chunk_boundaries_do_not_matter(chunk_size: int) -> None:
    text = "\ufeff" + wrapped(interchange(transaction(po="ÆØÅ")))
    text += translate(interchange(transaction()), "|", "^", "\n")
    expected = list(iter_segments(text))
    data = text.encode()
    assert list(iter_segments(io.BytesIO(data), chunk_size=chunk_size)) == expected
    chunks = (data[start:start + chunk_size] for start in range(0, len(data), chunk_size))
    assert list(iter_segments(chunks)) == expected
    assert list(iter_segments(io.StringIO(text), chunk_size=chunk_size)) == expected


def test_bytes_that_are_not_utf8_are_reported_where_they_are() -> None:
    data = interchange(transaction(po="M\xfcller")).encode("latin-1")
    [interchange_] = read(data)
    error = only_error([interchange_])
    assert error.code == E.INVALID_ENCODING and error.position is not None
    assert (error.position.number, error.found) == (4, "fc")
    assert f"offset {data.index(bytes([0xFC]))}" in error.message
    assert not interchange_.groups[0].transactions[0].ok
    assert read(data, encoding="latin-1")[0].ok


def test_input_that_is_not_x12() -> None:
    with pytest.raises(X12Error) as raised:
        read(b"<?xml version='1.0'?><order/>")
    assert raised.value.code == E.NOT_X12 and raised.value.found == "<?xml version='1.0'?><or"
    with pytest.raises(X12Error) as raised:
        read(interchange(transaction()).encode("cp037"))
    assert "encoding='cp037'" in raised.value.message
    assert read(interchange(transaction()).encode("cp037"), encoding="cp037")[0].ok
    with pytest.raises(X12Error) as raised:
        read(b"")
    assert raised.value.code == E.NO_INTERCHANGE


# -- envelope problems, each with where it is -----------------------------------------------------------


def test_se01_must_count_the_segments_of_its_transaction() -> None:
    error = only_error(read(interchange(transaction(count="4"))))
    assert (error.code, error.tag, error.element, error.expected, error.found) == (
        E.COUNT_MISMATCH, "SE", 1, "5", "4")
    assert error.position is not None and (error.position.number, error.position.number_in_transaction) == (7, 5)
    assert error.field == "SE01"


def test_se02_must_repeat_st02() -> None:
    error = only_error(read(interchange(transaction(trailer="0009"))))
    assert (error.code, error.tag, error.element, error.expected, error.found) == (
        E.CONTROL_NUMBER_MISMATCH, "SE", 2, "0001", "0009")


@pytest.mark.parametrize(("ge", "element", "code", "expected", "found"), [
    ("2*1", 1, E.COUNT_MISMATCH, "1", "2"), ("1*2", 2, E.CONTROL_NUMBER_MISMATCH, "1", "2"),
])
def test_ge_must_count_the_transactions_and_repeat_gs06(ge: str, element: int, code: X12ErrorCode, expected: str,
                                                        found: str) -> None:
    interchanges = read(interchange(transaction(), ge=ge))
    error = only_error(interchanges)
    assert (error.code, error.tag, error.element, error.expected, error.found) == (code, "GE", element, expected,
                                                                                  found)
    assert error in interchanges[0].groups[0].errors and error.position is not None and error.position.number == 8
    assert interchanges[0].groups[0].transactions[0].ok  # the transaction itself is sound


@pytest.mark.parametrize(("iea", "element", "code", "expected", "found"), [
    ("2*000000001", 1, E.COUNT_MISMATCH, "1", "2"), ("1*000000002", 2, E.CONTROL_NUMBER_MISMATCH, "000000001",
                                                     "000000002"),
])
def test_iea_must_count_the_groups_and_repeat_isa13(iea: str, element: int, code: X12ErrorCode, expected: str,
                                                    found: str) -> None:
    interchanges = read(interchange(transaction(), iea=iea))
    error = only_error(interchanges)
    assert (error.code, error.tag, error.element, error.expected, error.found) == (code, "IEA", element, expected,
                                                                                  found)
    assert error in interchanges[0].errors and error.position is not None and error.position.number == 9


def test_a_transaction_without_se_is_reported_and_its_neighbour_still_read() -> None:
    broken = transaction().replace("SE*5*0001~", "")
    [interchange_] = read(interchange(broken, transaction("0002", "PO-2")))
    first, second = interchange_.groups[0].transactions
    assert second.ok and not first.ok
    [error] = first.errors
    assert (error.code, error.expected, error.found) == (E.MISSING_TRAILER, "SE", "the next ST")
    assert error.position is not None and error.position.number == 7  # where the next ST is


def test_missing_ge_and_iea_are_reported_at_the_end_of_the_input() -> None:
    text = interchange(transaction()).replace("GE*1*1~IEA*1*000000001~", "")
    [interchange_] = read(text)
    [group_error] = interchange_.groups[0].errors
    [interchange_error] = interchange_.errors
    assert (group_error.code, group_error.expected, group_error.found) == (
        E.MISSING_TRAILER, "GE", "the end of the input")
    assert interchange_error.expected == "IEA" and interchange_error.position is not None
    assert interchange_error.position.offset == len(text)
    assert interchange_.groups[0].transactions[0].ok


def test_segments_out_of_place_are_reported_once_per_run() -> None:
    stray = "REF*ZZ*1~REF*ZZ*2~"
    [interchange_] = read(interchange(transaction() + stray, transaction("0002")))
    error = only_error([interchange_])
    assert (error.code, error.tag) == (E.UNEXPECTED_SEGMENT, "REF") and error in interchange_.groups[0].errors
    assert error.position is not None and error.position.number == 8
    assert all(t.ok for t in interchange_.groups[0].transactions)


def test_a_transaction_outside_a_group_is_skipped_and_reported() -> None:
    text = isa() + transaction() + "IEA*0*000000001~"
    [interchange_] = read(text)
    error = only_error([interchange_])
    assert (error.code, error.tag, error.found) == (E.UNEXPECTED_SEGMENT, "ST", "ST") and interchange_.groups == ()


def test_a_bad_segment_tag_breaks_only_its_transaction() -> None:
    [interchange_] = read(interchange(transaction().replace("CTT", "c t"), transaction("0002")))
    first, second = interchange_.groups[0].transactions
    [error] = first.errors
    assert (error.code, error.found) == (E.INVALID_SEGMENT_TAG, "c t") and second.ok
    assert error.position is not None and error.position.number_in_transaction == 4


def test_required_envelope_elements() -> None:
    [interchange_] = read(interchange(transaction().replace("ST*850*0001", "ST*850*").replace("SE*5*0001",
                                                                                                  "SE*5*")))
    error = only_error([interchange_])
    assert (error.code, error.field) == (E.MISSING_ELEMENT, "ST02")


def test_isa_fields_have_fixed_sizes() -> None:
    head = isa().replace("SENDER         ", "SENDER")
    [interchange_] = read(interchange(transaction(), head=head))
    error = only_error([interchange_])
    assert (error.code, error.field, error.found) == (E.INVALID_ELEMENT, "ISA06", "SENDER")
    assert interchange_.sender == PartyId("ZZ", "SENDER")


def test_data_before_the_first_and_after_the_last_interchange_is_reported_on_it() -> None:
    [interchange_] = read("garbage~" + interchange(transaction()) + "REF*1~")
    before, after = interchange_.errors
    assert before.code == E.NOT_X12 and before.found is not None and before.found.startswith("garbage~ISA*")
    assert (after.code, after.tag) == (E.UNEXPECTED_SEGMENT, "REF")
    assert interchange_.groups[0].transactions[0].ok


def test_a_segment_without_a_terminator_within_the_limit_is_reported() -> None:
    text = interchange(transaction(po="X" * 500), transaction("0002"))
    [interchange_] = read(text, max_segment_length=200)  # type: ignore[arg-type]
    first, second = interchange_.groups[0].transactions
    assert first.errors[0].code == E.SEGMENT_TOO_LONG and second.ok


# -- writing --------------------------------------------------------------------------------------------


def test_envelopes_are_built_with_counts_and_control_numbers() -> None:
    delimiters = Delimiters("*", ">", "~", "^")
    body = [Segment("BAK", ("00", "AC", "PO-1", "20240603")), Segment("PO1", ("1", "2", "EA"))]
    groups = [build_group("PR", sender_code="CONVEYOR", receiver_code="ACME", control_number=12, created_at=NOW,
                          transactions=[build_transaction("855", n, body) for n in (1, 2)])]
    segments = build_interchange(sender=PartyId("ZZ", "CONVEYOR"), receiver=PartyId("01", "123456789"),
                                 control_number=42, created_at=NOW, groups=groups, delimiters=delimiters,
                                 version="00501")
    text = write_segments(segments, delimiters, line_break="\n")
    assert text.splitlines()[0] == (
        "ISA*00*          *00*          *ZZ*CONVEYOR       *01*123456789      *240603*1015*^*00501*000000042*0*P*>~")
    assert text.splitlines()[1:4] == ["GS*PR*CONVEYOR*ACME*20240603*1015*12*X*004010~", "ST*855*0001~",
                                      "BAK*00*AC*PO-1*20240603~"]
    assert text.splitlines()[-3:] == ["SE*4*0002~", "GE*2*12~", "IEA*1*000000042~"]
    [interchange_] = read(text)
    assert interchange_.ok and interchange_.delimiters == delimiters
    assert [t.segments[1:-1] for t in interchange_.groups[0].transactions] == [tuple(body)] * 2


@pytest.mark.parametrize(("value", "name"), [
    ("A*B", "element separator"), ("A>B", "component separator"), ("A~B", "segment terminator"),
    ("A^B", "repetition separator"), ("A\nB", "line break LF"),
])
def test_a_value_holding_a_delimiter_is_refused(value: str, name: str) -> None:
    with pytest.raises(X12Error) as raised:
        write_segments([Segment("N1", ("ST", ("X", value)))], Delimiters("*", ">", "~", "^"))
    assert raised.value.code == E.DELIMITER_IN_VALUE and raised.value.field == "N102"
    assert name in raised.value.message and "no release character" in raised.value.message


def test_writer_refusals() -> None:
    delimiters = Delimiters()
    for bad in (lambda: write_segments([Segment("n1", ())], delimiters),
                lambda: write_segments([Segment("N1", (Repeated(("A", "B")),))], delimiters),
                lambda: build_transaction("850", 0, []),
                lambda: build_transaction("850", 1, [Segment("SE", ("1", "1"))]),
                lambda: build_group("PO", sender_code="S", receiver_code="RR", control_number=1, created_at=NOW,
                                    transactions=[]),
                lambda: build_interchange(sender=PartyId("ZZ", "S"), receiver=PartyId("ZZ", "R"), control_number=1,
                                          created_at=NOW, groups=[], delimiters=Delimiters(repetition="^"))):
        with pytest.raises(X12Error) as raised:
            bad()
        assert raised.value.code == E.INVALID_VALUE, raised.value
    with pytest.raises(X12Error) as raised:
        Delimiters("*", "*", "~")
    assert raised.value.code == E.INVALID_DELIMITERS
    isa_, _ = build_interchange(sender=PartyId("ZZ", "S"), receiver=PartyId("ZZ", "R"), control_number=1,
                                created_at=NOW, groups=[], delimiters=delimiters)
    with pytest.raises(X12Error) as raised:  # ISA11 is data before version 00402
        write_segments([Segment("ISA", (*isa_.elements[:10], "*", *isa_.elements[11:]))], delimiters)
    assert (raised.value.code, raised.value.field) == (E.DELIMITER_IN_VALUE, "ISA11")


# -- properties: what is written reads back the same --------------------------------------------------------

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\x1c\x1d\x1e\x1f\x7f\x15"


@st.composite
def delimiter_sets(draw: st.DrawFn, pool: str) -> Delimiters:
    chars = draw(st.lists(st.sampled_from(pool), min_size=4, max_size=4, unique=True))
    terminator = draw(st.sampled_from([chars[2], chars[2], "\n", "\r"]))
    return Delimiters(chars[0], chars[1], terminator, draw(st.sampled_from([chars[3], None])))


ENVELOPE_TAGS = {"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"}


@st.composite
def bodies(draw: st.DrawFn, delimiters: Delimiters, excluded: frozenset[str] = frozenset({"ISA"})) -> list[Segment]:
    forbidden = [delimiters.element, delimiters.component, delimiters.segment, "\r", "\n"]
    if delimiters.repetition:
        forbidden.append(delimiters.repetition)
    value = st.text(st.characters(exclude_characters="".join(forbidden), exclude_categories=["Cs"]), max_size=8)
    composite = st.lists(value, min_size=2, max_size=4).map(tuple)
    kinds = [value, value, composite]
    if delimiters.repetition:
        kinds.append(st.lists(st.one_of(value, composite), min_size=2, max_size=3).map(lambda v: Repeated(tuple(v))))
    tag = st.builds(str.__add__, st.sampled_from(string.ascii_uppercase),
                    st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=2)
                    ).filter(lambda t: t not in excluded)
    segment = st.builds(Segment, tag, st.lists(st.one_of(*kinds), max_size=6).map(tuple))
    return draw(st.lists(segment, max_size=12))


def enveloped(body: list[Segment], delimiters: Delimiters, line_break: str) -> str:
    isa_, iea = build_interchange(sender=PartyId("ZZ", "S"), receiver=PartyId("ZZ", "R"), control_number=1,
                                  created_at=NOW, groups=[], delimiters=delimiters,
                                  version="00501" if delimiters.repetition else "00401")
    return write_segments([isa_, *body, iea], delimiters, line_break=line_break)


@settings(max_examples=200, deadline=None)
@given(st.data(), delimiter_sets(PUNCTUATION + "§¦¤"), st.sampled_from(["", "\n", "\r\n"]))
def test_written_text_tokenizes_to_the_same_segments(data: st.DataObject, delimiters: Delimiters,
                                                     line_break: str) -> None:
    body = data.draw(bodies(delimiters))
    segments = list(iter_segments(enveloped(body, delimiters, line_break)))
    assert segments[1:-1] == body


@settings(max_examples=200, deadline=None)
@given(st.data(), delimiter_sets(PUNCTUATION), st.integers(1, 64))
def test_written_utf8_bytes_tokenize_to_the_same_segments_in_any_chunks(data: st.DataObject, delimiters: Delimiters,
                                                                        chunk_size: int) -> None:
    body = data.draw(bodies(delimiters))
    raw = enveloped(body, delimiters, "\r\n").encode()
    assert list(iter_segments(io.BytesIO(raw), chunk_size=chunk_size))[1:-1] == body


@settings(max_examples=100, deadline=None)
@given(st.data(), delimiter_sets(PUNCTUATION))
def test_built_envelopes_read_back_without_problems(data: st.DataObject, delimiters: Delimiters) -> None:
    bodies_ = data.draw(st.lists(bodies(delimiters, frozenset(ENVELOPE_TAGS)), min_size=1, max_size=4))
    transactions = [build_transaction("850", n, body) for n, body in enumerate(bodies_, start=1)]
    group = build_group("PO", sender_code="SS", receiver_code="RR", control_number=5, created_at=NOW,
                        transactions=transactions)
    segments = build_interchange(sender=PartyId("ZZ", "S"), receiver=PartyId("ZZ", "R"), control_number=9,
                                 created_at=NOW, groups=[group], delimiters=delimiters,
                                 version="00501" if delimiters.repetition else "00401")
    [interchange_] = read(write_segments(segments, delimiters))
    assert interchange_.ok, [str(e) for e in interchange_.all_errors()]
    assert [list(t.segments[1:-1]) for t in interchange_.groups[0].transactions] == bodies_


# -- streaming ----------------------------------------------------------------------------------------------


def big_file(path: Path, transactions: int, lines: int) -> int:
    """Writes an interchange of `transactions` purchase orders of `lines` lines each; returns its segment count."""
    note = "MSG*" + "LONG FREE-FORM LINE NOTE " * 10
    line = "PO1*{n}*12*EA*9.25**VP*SKU-{n:05d}*UP*012345678905~PID*F****" + "DESCRIPTION " * 6 + f"~{note}~{note}~"
    with path.open("w") as out:
        out.write(isa() + "GS*PO*SENDER*RECEIVER*20240603*1015*1*X*004010~")
        for number in range(1, transactions + 1):
            out.write(f"ST*850*{number:04d}~BEG*00*SA*PO-{number}**20240603~")
            out.write("".join(line.format(n=n) for n in range(1, lines + 1)))
            out.write(f"CTT*{lines}~SE*{4 * lines + 4}*{number:04d}~")
        out.write(f"GE*{transactions}*1~IEA*1*000000001~")
    return 4 + transactions * (4 * lines + 4)


def test_tokenizing_50_mb_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.x12"
    expected = big_file(path, transactions=2500, lines=32)
    assert path.stat().st_size > 50_000_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with path.open("rb") as stream:
            count = transactions = 0
            for segment in iter_segments(stream):
                count += 1
                transactions += segment.tag == "ST"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (count, transactions) == (expected, 2500)
    assert peak < 4 * 2**20, f"peak {peak} bytes after {time.perf_counter() - started:.1f} s"


def test_the_scanner_reports_where_the_input_ended() -> None:
    text = interchange(transaction())
    scanner = SegmentScanner(iter([text[:10], text[10:]]))
    assert sum(1 for _ in scanner) == 9
    assert (scanner.offset, scanner.segment_count) == (len(text), 9)
