"""EDIFACT: the streaming tokenizer, the envelope reader and the writer, on small documents written here."""

from __future__ import annotations

import time
import tracemalloc
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.channels.edi.edifact import (
    DEFAULT_DELIMITERS,
    Delimiters,
    EdifactError,
    ErrorCode,
    Interchange,
    MessageType,
    Party,
    Position,
    Segment,
    build_interchange,
    build_message,
    decimal,
    read_interchanges,
    scan,
    tokenize,
    write_segments,
)

ORDERS = MessageType("ORDERS", "D", "96A", "UN", "EAN008")


def edi(text: str, encoding: str = "latin-1") -> bytes:
    return text.encode(encoding)


def message(reference: str, *body: str, kind: str = "ORDERS:D:96A:UN:EAN008", count: int | None = None,
            trailer_reference: str | None = None) -> str:
    unt = count if count is not None else len(body) + 2
    return f"UNH+{reference}+{kind}'" + "".join(body) + f"UNT+{unt}+{trailer_reference or reference}'"


def interchange(*parts: str, reference: str = "IC1", syntax: str = "UNOC:3", count: int | None = None,
                trailer_reference: str | None = None) -> str:
    unz = count if count is not None else sum(p.count("UNH+") if "UNG+" not in p else 1 for p in parts)
    return (f"UNB+{syntax}+5412345000013:14+8712345678906:14+260318:1015+{reference}'" + "".join(parts)
            + f"UNZ+{unz}+{trailer_reference or reference}'")


ORDER_BODY = ("BGM+220+PO-1001+9'", "DTM+137:20260318:102'", "NAD+BY+5412345000013::9'",
              "LIN+1++4000862141404:EN'", "QTY+21:12'", "UNS+S'")


def read(data: bytes) -> list[Interchange | EdifactError]:
    return list(read_interchanges(data))


def only_interchange(data: bytes) -> Interchange:
    items = read(data)
    assert len(items) == 1 and isinstance(items[0], Interchange), items
    return items[0]


def problems(ic: Interchange) -> list[tuple[ErrorCode, str | None]]:
    return [(p.code, p.element) for p in ic.problems]


# -- delimiters ------------------------------------------------------------------------------------------


def test_without_una_the_default_delimiters_apply() -> None:
    segments = list(tokenize(b"UNB+UNOA:3+S+R+260318:1015+1'UNH+1+ORDERS:D:96A:UN'NAD+BY+5412345000013::9'"))
    assert segments[2] == Segment("NAD", ("BY", ("5412345000013", "", "9")))
    assert segments[0].composite(1) == ("UNOA", "3")
    assert segments[2].value(2, 3) == "9" and segments[2].value(2, 2) == "" and segments[2].value(9) == ""


def test_una_sets_every_delimiter() -> None:
    data = b"UNA;*,! ~UNB*UNOC;3*S*R*260318;1015*X~UNH*1*ORDERS;D;96A;UN~FTX*AAI***A+B:C'D!~E!!~QTY*21;12,5~"
    segments = list(tokenize(data))
    assert [s.tag for s in segments] == ["UNB", "UNH", "FTX", "QTY"]
    assert segments[2].elements == ("AAI", "", "", "A+B:C'D~E!")
    assert decimal(segments[3].value(1, 2), ",") == Decimal("12.5")


def test_a_repetition_separator_is_released_by_the_writer_and_kept_as_data_by_the_reader() -> None:
    delimiters = Delimiters.from_una("UNA:+.?*'")
    assert delimiters.repetition == "*"
    assert list(tokenize(b"UNA:+.?*'FTX+AAI+A*B+C?*D'"))[0].elements == ("AAI", "A*B", "C*D")
    written = write_segments([Segment("FTX", ("5*6",))], delimiters)
    assert written == b"UNA:+.?*'FTX+5?*6'"


def test_a_una_without_release_character_makes_the_question_mark_plain_data() -> None:
    delimiters = Delimiters.from_una("UNA:+.  '")
    assert delimiters.release is None
    assert list(tokenize(b"UNA:+.  'FTX+AAI+WHY?+NOT'"))[0].elements == ("AAI", "WHY?", "NOT")
    with pytest.raises(EdifactError) as raised:
        write_segments([Segment("FTX", ("A+B",))], delimiters)
    assert raised.value.code == ErrorCode.INVALID_VALUE and raised.value.element == "FTX01"


@pytest.mark.parametrize("una", ["UNA:+.? ", "UNA::.? '", "UNA:+;? '", "UNA:+.?+'", "UNA1+.? '"])
def test_a_malformed_una_is_reported(una: str) -> None:
    items = list(scan(edi(una + "UNB+UNOA:3+S+R+260318:1015+1'")))
    assert isinstance(items[0], EdifactError)
    assert items[0].code in (ErrorCode.INVALID_UNA, ErrorCode.UNTERMINATED_SEGMENT)


# -- the release character -------------------------------------------------------------------------------


def test_the_release_character_frees_itself_the_terminator_and_both_separators() -> None:
    segments = list(tokenize(b"FTX+AAI+++DON?'T?+STOP?:NOW??'FTX+AAI+++X??'QTY+21:1'"))
    assert segments[0].elements == ("AAI", "", "", "DON'T+STOP:NOW?")
    assert segments[1].elements == ("AAI", "", "", "X?")  # ?? then ': a released release, then a terminator
    assert segments[2] == Segment("QTY", (("21", "1"),))


def test_a_release_run_split_across_chunks_is_still_counted() -> None:
    data = b"FTX+A??'FTX+B???''QTY+1'"
    expected = [Segment("FTX", ("A?",)), Segment("FTX", ("B?'",)), Segment("QTY", ("1",))]
    for size in range(1, len(data) + 1):
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert list(tokenize(chunks)) == expected, size


# -- line breaks and positions ---------------------------------------------------------------------------


def test_line_breaks_after_terminators_and_inside_wrapped_segments_are_ignored() -> None:
    data = b"UNA:+.? '\r\nUNB+UNOA:3+S+R+260318:1015+1'\r\n\r\nUNH+1+ORDERS:D:96A:UN'DTM+137:200508\n19:102'\nUNT+3+1'"
    segments = list(tokenize(data))
    assert segments[2] == Segment("DTM", (("137", "20050819", "102"),))
    assert [s.position.offset for s in segments] == [data.index(tag) for tag in (b"UNB", b"UNH", b"DTM", b"UNT")]
    assert data[segments[1].position.offset - 4:segments[1].position.offset] == b"\r\n\r\n"


def test_a_byte_order_mark_before_the_first_segment_is_skipped() -> None:
    data = "\ufeffUNA:+.? 'UNB+UNOY:4+S+R+20260318:1015+1'FTX+AAI+++Grüße'".encode()
    for size in (1, 2, 3, 4, len(data)):
        segments = list(tokenize([data[i:i + size] for i in range(0, len(data), size)]))
        assert segments[1].value(4) == "Grüße" and segments[0].position.offset == 12


def test_positions_give_the_segment_number_in_the_file_and_in_the_message_and_the_byte_offset() -> None:
    data = edi(interchange(message("M1", "BGM+220+1'", "LIN+1'"), message("M2", "BGM+220+2'")))
    positions = [(s.tag, s.position) for s in tokenize(data)]
    assert positions[0] == ("UNB", Position(1, 0, None))
    assert [(tag, p.segment, p.in_message) for tag, p in positions[1:]] == [
        ("UNH", 2, 1), ("BGM", 3, 2), ("LIN", 4, 3), ("UNT", 5, 4), ("UNH", 6, 1), ("BGM", 7, 2), ("UNT", 8, 3),
        ("UNZ", 9, None)]
    for tag, position in positions:
        assert data[position.offset:position.offset + 3] == tag.encode()


# -- character sets --------------------------------------------------------------------------------------


def test_unoc_reads_accented_latin_1_text() -> None:
    data = edi("UNB+UNOC:3+S+R+260318:1015+1'NAD+BY+++Müller Straße:Ærø+Crème brûlée'")
    assert list(tokenize(data))[1].elements == ("BY", "", "", ("Müller Straße", "Ærø"), "Crème brûlée")


def test_unoy_reads_utf_8() -> None:
    data = edi("UNB+UNOY:4+S+R+20260318:1015+1'NAD+BY+++Łódź Ωmega 東京'", "utf-8")
    assert list(tokenize(data))[1].value(4) == "Łódź Ωmega 東京"


def test_unoa_refuses_lower_case_letters_and_says_where() -> None:
    data = b"UNB+UNOA:3+S+R+260318:1015+1'NAD+BY+++Acme Ltd'"
    items = list(scan(data))
    error = items[1]
    assert isinstance(error, EdifactError)
    assert error.code == ErrorCode.CHARACTER_NOT_ALLOWED and error.tag == "NAD" and error.found == "c"
    assert error.position == Position(2, data.index(b"NAD"), None) and error.offset == data.index(b"cme")
    assert "UNOA" in str(error)


def test_unoa_refuses_a_byte_beyond_ascii() -> None:
    data = b"UNB+UNOA:3+S+R+260318:1015+1'NAD+BY+++CAF\xc9'"
    error = list(scan(data))[1]
    assert isinstance(error, EdifactError) and error.code == ErrorCode.CHARACTER_NOT_ALLOWED
    assert error.offset == len(data) - 2 and "0xC9" in error.message


def test_unob_allows_lower_case_but_not_accents() -> None:
    assert list(tokenize(b"UNB+UNOB:3+S+R+260318:1015+1'NAD+BY+++Acme_Ltd'"))[1].value(4) == "Acme_Ltd"
    assert isinstance(list(scan(edi("UNB+UNOB:3+S+R+260318:1015+1'NAD+BY+++Acmé'")))[1], EdifactError)


def test_unoc_refuses_control_characters() -> None:
    error = list(scan(b"UNB+UNOC:3+S+R+260318:1015+1'FTX+AAI+++A\tB'"))[1]
    assert isinstance(error, EdifactError) and error.found == "\t"


def test_each_interchange_has_its_own_character_set_and_delimiters() -> None:
    data = (b"UNB+UNOA:3+S+R+260318:1015+1'FTX+AAI+++CAPS'UNZ+0+1'\n"
            + "UNA|*.# ~UNB*UNOY|4*S*R*20260318|1015*2~FTX*AAI***schön #~ ok~UNZ*0*2~".encode())
    segments = list(tokenize(data))
    assert [s.tag for s in segments] == ["UNB", "FTX", "UNZ", "UNB", "FTX", "UNZ"]
    assert segments[4].value(4) == "schön ~ ok"


# -- errors in the token stream --------------------------------------------------------------------------


def test_scan_reports_a_broken_segment_and_goes_on_while_tokenize_raises() -> None:
    data = b"UNB+UNOA:3+S+R+260318:1015+1'FTX+AAI+++bad'QTY+21:1'"
    items = list(scan(data))
    assert isinstance(items[1], EdifactError) and items[2] == Segment("QTY", (("21", "1"),))
    assert items[2].position.segment == 3
    with pytest.raises(EdifactError) as raised:
        list(tokenize(data))
    assert raised.value.code == ErrorCode.CHARACTER_NOT_ALLOWED


def test_data_that_ends_inside_a_segment_is_reported() -> None:
    items = list(scan(b"UNH+1+ORDERS:D:96A:UN'BGM+220+1"))
    assert isinstance(items[-1], EdifactError) and items[-1].code == ErrorCode.UNTERMINATED_SEGMENT
    assert items[-1].position == Position(2, 22, 2)


@pytest.mark.parametrize("data", [b"U'", b"unh+1'", b"UNHX+1'", b"''"])
def test_a_segment_needs_a_three_character_tag(data: bytes) -> None:
    items = list(scan(data))
    assert isinstance(items[0], EdifactError) and items[0].code == ErrorCode.INVALID_TAG


def test_an_endless_segment_is_skipped_without_holding_it_in_memory() -> None:
    data = b"FTX+" + b"A" * 5000 + b"?'" + b"B" * 5000 + b"'QTY+21:1'"
    chunks = [data[i:i + 256] for i in range(0, len(data), 256)]
    items = list(scan(chunks, max_segment=1000))
    assert isinstance(items[0], EdifactError) and items[0].code == ErrorCode.SEGMENT_TOO_LONG
    assert items[1:] == [Segment("QTY", (("21", "1"),))] and items[1].position.segment == 2


# -- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "mark", "expected"), [
    ("12,50", ",", "12.50"), ("12.50", ",", "12.50"), ("12,50", ".", "12.50"), ("-3", ".", "-3"),
    ("0.001", ".", "0.001"), (",5", ",", "0.5"), ("7.", ".", "7")])
def test_decimal_reads_either_decimal_mark(value: str, mark: str, expected: str) -> None:
    assert decimal(value, mark) == Decimal(expected)


@pytest.mark.parametrize("value", ["", "-", "1.234,56", "1e5", "+1", " 1", "12 ", "NaN", "1,2,3", "."])
def test_decimal_refuses_what_is_not_an_edifact_number(value: str) -> None:
    with pytest.raises(EdifactError) as raised:
        decimal(value, ",")
    assert raised.value.code == ErrorCode.INVALID_NUMBER


# -- envelopes -------------------------------------------------------------------------------------------


def test_an_interchange_gives_its_parties_references_and_message_types() -> None:
    data = edi("UNA:+.? '" + interchange(message("M1", *ORDER_BODY), reference="IC0001"))
    ic = only_interchange(data)
    assert ic.ok and ic.reference == "IC0001" and (ic.syntax, ic.syntax_version) == ("UNOC", "3")
    assert ic.sender == Party("5412345000013", "14") and ic.recipient == Party("8712345678906", "14")
    assert (ic.date, ic.time, ic.test) == ("260318", "1015", False)
    [msg] = ic.all_messages()
    assert msg.reference == "M1" and msg.type == ORDERS and str(msg.type) == "ORDERS:D:96A:UN:EAN008"
    assert [s.tag for s in msg.body] == ["BGM", "DTM", "NAD", "LIN", "QTY", "UNS"]
    assert msg.position == Position(2, data.index(b"UNH"), 1) and ic.position == Position(1, 9, None)


def test_several_interchanges_and_messages_in_one_file() -> None:
    data = edi(interchange(message("1", "BGM+220+A'"), message("2", "BGM+220+B'"), reference="X")
               + "\r\n" + interchange(message("3", "BGM+220+C'"), reference="Y"))
    items = read(data)
    assert [(i.reference, [m.reference for m in i.all_messages()]) for i in items if isinstance(i, Interchange)] \
        == [("X", ["1", "2"]), ("Y", ["3"])]
    assert all(isinstance(i, Interchange) and i.ok for i in items)


def test_groups_hold_their_messages_and_are_counted_in_unz() -> None:
    group = ("UNG+ORDERS+5412345000013:14+8712345678906:14+260318:1015+G1+UN+D:96A'"
             + message("1", "BGM+220+A'") + message("2", "BGM+220+B'") + "UNE+2+G1'")
    ic = only_interchange(edi(interchange(group, count=1)))
    assert ic.ok and not ic.messages
    [g] = ic.groups
    assert (g.reference, g.group_id, g.sender, g.recipient) == ("G1", "ORDERS", Party("5412345000013", "14"),
                                                                Party("8712345678906", "14"))
    assert [m.reference for m in g.messages] == ["1", "2"] and len(ic.all_messages()) == 2


def test_a_wrong_une_count_or_reference_is_reported_on_the_interchange() -> None:
    group = "UNG+ORDERS+S+R+260318:1015+G1'" + message("1", "BGM+220+A'") + "UNE+3+G9'"
    ic = only_interchange(edi(interchange(group, count=1)))
    assert problems(ic) == [(ErrorCode.COUNT_MISMATCH, "UNE01"), (ErrorCode.REFERENCE_MISMATCH, "UNE02")]
    assert (ic.problems[0].expected, ic.problems[0].found) == ("1", "3")
    assert ic.problems[1].position == Position(6, ic.problems[1].position.offset, None)
    assert len(ic.all_messages()) == 1


def test_a_wrong_unt_count_drops_that_message_only_and_says_where() -> None:
    data = edi(interchange(message("1", *ORDER_BODY), message("2", *ORDER_BODY, count=7), message("3", "BGM+X'")))
    ic = only_interchange(data)
    assert [m.reference for m in ic.all_messages()] == ["1", "3"]
    [problem] = ic.problems
    assert (problem.code, problem.element, problem.tag) == (ErrorCode.COUNT_MISMATCH, "UNT01", "UNT")
    assert (problem.expected, problem.found) == ("8", "7")
    assert problem.position == Position(17, data.index(b"UNT+7"), 8)
    assert "UNT01" in str(problem) and "segment 17" in str(problem)


def test_a_wrong_unt_reference_drops_that_message() -> None:
    ic = only_interchange(edi(interchange(message("1", "BGM+220+A'", trailer_reference="9"))))
    assert problems(ic) == [(ErrorCode.REFERENCE_MISMATCH, "UNT02")] and not ic.all_messages()
    assert (ic.problems[0].expected, ic.problems[0].found) == ("1", "9")


def test_a_message_without_unt_is_dropped_and_the_next_one_kept() -> None:
    data = edi(interchange("UNH+1+ORDERS:D:96A:UN'BGM+220+A'", message("2", "BGM+220+B'"), count=2))
    ic = only_interchange(data)
    assert [m.reference for m in ic.all_messages()] == ["2"]
    [problem] = ic.problems
    assert (problem.code, problem.expected, problem.found) == (ErrorCode.MISSING_TRAILER, "UNT", "UNH")
    assert problem.position.segment == 4


def test_a_wrong_unz_count_or_reference_keeps_the_messages_but_marks_the_interchange() -> None:
    ic = only_interchange(edi(interchange(message("1", "BGM+220+A'"), count=2, trailer_reference="IC9")))
    assert problems(ic) == [(ErrorCode.COUNT_MISMATCH, "UNZ01"), (ErrorCode.REFERENCE_MISMATCH, "UNZ02")]
    assert not ic.ok and len(ic.all_messages()) == 1
    assert ic.problems[1].expected == "IC1" and ic.problems[1].found == "IC9"


def test_an_interchange_without_unz_is_reported_at_its_unb() -> None:
    data = edi(interchange(message("1", "BGM+220+A'")).rsplit("UNZ", 1)[0])
    ic = only_interchange(data)
    assert [(p.code, p.expected, p.found) for p in ic.problems] == [(ErrorCode.MISSING_TRAILER, "UNZ",
                                                                      "end of data")]
    assert len(ic.all_messages()) == 1


def test_a_second_unb_before_unz_closes_the_first_interchange_with_a_problem() -> None:
    first = interchange(message("1", "BGM+220+A'"), reference="A").rsplit("UNZ", 1)[0]
    items = read(edi(first + interchange(message("2", "BGM+220+B'"), reference="B")))
    assert [(i.reference, i.ok) for i in items if isinstance(i, Interchange)] == [("A", False), ("B", True)]


def test_a_message_outside_any_interchange_is_a_bare_problem() -> None:
    items = read(edi(message("1", "BGM+220+A'") + interchange(message("2", "BGM+220+B'"))))
    assert isinstance(items[0], EdifactError) and items[0].code == ErrorCode.UNEXPECTED_SEGMENT
    assert items[0].expected == "UNB" and items[0].position == Position(1, 0, 1)
    assert isinstance(items[1], Interchange) and items[1].ok and len(items) == 2


def test_an_unknown_syntax_identifier_skips_that_interchange_only() -> None:
    items = read(edi(interchange(message("1", "BGM+220+A'"), syntax="XXXX:1", reference="A")
                     + interchange(message("2", "BGM+220+B'"), reference="B")))
    assert isinstance(items[0], EdifactError)
    assert (items[0].code, items[0].element, items[0].found) == (ErrorCode.UNSUPPORTED_SYNTAX, "UNB01", "XXXX")
    assert isinstance(items[1], Interchange) and items[1].reference == "B" and len(items) == 2


@pytest.mark.parametrize(("unb", "element"), [
    ("UNB+UNOC:3+S+R+260318:1015'", "UNB05"), ("UNB+UNOC:3++R+260318:1015+1'", "UNB02"),
    ("UNB+UNOC+S+R+260318:1015+1'", "UNB01.2"), ("UNB+UNOC:3+S+R+260318+1'", "UNB04.2")])
def test_an_interchange_header_without_a_mandatory_element_is_rejected(unb: str, element: str) -> None:
    items = read(edi(unb + message("1", "BGM+220+A'") + "UNZ+1+1'"))
    assert len(items) == 1 and isinstance(items[0], EdifactError)
    assert (items[0].code, items[0].element, items[0].position) == (ErrorCode.MISSING_ELEMENT, element,
                                                                     Position(1, 0, None))


def test_a_message_header_without_its_version_drops_the_message() -> None:
    ic = only_interchange(edi(interchange(message("1", "BGM+220+A'", kind="ORDERS::96A:UN"),
                                          message("2", "BGM+220+B'"))))
    assert problems(ic) == [(ErrorCode.MISSING_ELEMENT, "UNH02.2")]
    assert [m.reference for m in ic.all_messages()] == ["2"]


def test_segments_between_messages_are_reported_once_per_run() -> None:
    ic = only_interchange(edi(interchange(message("1", "BGM+220+A'"), "FTX+A'FTX+B'FTX+C'")))
    assert problems(ic) == [(ErrorCode.UNEXPECTED_SEGMENT, None)] and ic.problems[0].tag == "FTX"
    assert len(ic.all_messages()) == 1


def test_a_broken_segment_drops_its_message_and_keeps_its_neighbours() -> None:
    data = edi(interchange(message("1", "FTX+AAI+++OK'"), message("2", "FTX+AAI+++not ok'", "QTY+1'"),
                           message("3", "FTX+AAI+++OK'"), syntax="UNOA:3"))
    ic = only_interchange(data)
    assert [m.reference for m in ic.all_messages()] == ["1", "3"]
    assert [(p.code, p.position and p.position.in_message) for p in ic.problems] == [
        (ErrorCode.CHARACTER_NOT_ALLOWED, 2)]


def test_the_test_indicator_is_read() -> None:
    data = b"UNB+UNOA:3+S+R+260318:1015+1++APP++++1'UNZ+0+1'"
    ic = only_interchange(data)
    assert ic.test and ic.application_reference == "APP" and ic.ok


# -- the writer ------------------------------------------------------------------------------------------


def test_the_writer_releases_service_characters() -> None:
    segments = [Segment("FTX", ("AAI", "", "", ("DON'T+STOP", "A:B?"))), Segment("UNS", ("S",)), Segment("CNT")]
    assert write_segments(segments) == b"UNA:+.? 'FTX+AAI+++DON?'T?+STOP:A?:B??'UNS+S'CNT'"
    assert write_segments(segments, una=False, line_break="\r\n").startswith(b"FTX+AAI+++DON?'T?+STOP:A?:B??'\r\n")
    assert list(tokenize(write_segments(segments))) == segments


def test_the_writer_uses_the_delimiters_it_is_given() -> None:
    delimiters = Delimiters(component="|", element="*", decimal=",", release="#", terminator="~")
    written = write_segments([Segment("QTY", (("21", "12,5~"),))], delimiters)
    assert written == b"UNA|*,# ~QTY*21|12,5#~~"


@pytest.mark.parametrize(("segment", "syntax", "code"), [
    (Segment("NAD", ("BY", "Acme")), "UNOA", ErrorCode.CHARACTER_NOT_ALLOWED),
    (Segment("NAD", ("BY", "Łódź")), "UNOC", ErrorCode.CHARACTER_NOT_ALLOWED),
    (Segment("FTX", ("two\nlines",)), "UNOC", ErrorCode.INVALID_VALUE),
    (Segment("ftx", ("A",)), "UNOC", ErrorCode.INVALID_VALUE),
    (Segment("NAD", ("BY",)), "XXXX", ErrorCode.UNSUPPORTED_SYNTAX)])
def test_the_writer_refuses_what_cannot_be_read_back(segment: Segment, syntax: str, code: ErrorCode) -> None:
    with pytest.raises(EdifactError) as raised:
        write_segments([segment], syntax=syntax)
    assert raised.value.code == code


def test_the_writer_takes_the_character_set_from_unb() -> None:
    segments = [Segment("UNB", (("UNOY", "4"), "S", "R", ("20260318", "1015"), "1")), Segment("FTX", ("Łódź",))]
    assert write_segments(segments, una=False).endswith("FTX+Łódź'".encode())


def test_the_envelope_builder_counts_segments_and_messages_and_repeats_references() -> None:
    body = [Segment("BGM", ("220", "PO-1", "9")), Segment("QTY", (("21", "12"),))]
    segments = build_interchange([build_message("M1", ORDERS, body), build_message("M2", ORDERS, body[:1])],
                                 sender=Party("5412345000013", "14"), recipient=Party("8712345678906", "14"),
                                 reference="IC42", prepared=datetime(2026, 3, 18, 10, 15))
    assert segments[0] == Segment("UNB", (("UNOC", "3"), ("5412345000013", "14"), ("8712345678906", "14"),
                                          ("260318", "1015"), "IC42"))
    assert segments[1] == Segment("UNH", ("M1", ("ORDERS", "D", "96A", "UN", "EAN008")))
    assert segments[4] == Segment("UNT", ("4", "M1")) and segments[-1] == Segment("UNZ", ("2", "IC42"))
    ic = only_interchange(write_segments(segments))
    assert ic.ok and [len(m.segments) for m in ic.all_messages()] == [4, 3]


def test_the_envelope_builder_writes_a_four_digit_year_from_syntax_version_4() -> None:
    segments = build_interchange([], sender=Party("S"), recipient=Party("R"), reference="1", syntax="UNOY",
                                 syntax_version="4", prepared=datetime(2026, 3, 18, 10, 15), test=True)
    assert segments[0].composite(4) == ("20260318", "1015") and segments[0].value(11) == "1"
    assert segments[0].elements[1:3] == ("S", "R")


# -- properties ------------------------------------------------------------------------------------------

SERVICE_CANDIDATES = "+:'?*|^~!#$%&;<>@/\\=\"`{}[]"
value_chars = st.sampled_from(list("AZaz09 .,-") + list(SERVICE_CANDIDATES) + ["é", "ß", "Ø"])
values = st.text(value_chars, max_size=8)
elements = st.one_of(values, st.lists(values, min_size=2, max_size=4).map(tuple))
tags = st.from_regex(r"\A[A-TV-Z][A-Z0-9]{2}\Z")  # not UN…: UNA and UNB change how what follows is read
segments_strategy = st.lists(st.builds(Segment, tags, st.lists(elements, max_size=5).map(tuple)), max_size=8)


@st.composite
def delimiter_sets(draw: st.DrawFn) -> Delimiters:
    chars = draw(st.permutations(SERVICE_CANDIDATES))
    repetition = draw(st.sampled_from([None, chars[4]]))
    return Delimiters(component=chars[0], element=chars[1], decimal=draw(st.sampled_from(".,")), release=chars[2],
                      repetition=repetition, terminator=chars[3])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segments_strategy, delimiter_sets(), st.booleans(), st.sampled_from(["", "\n", "\r\n"]),
       st.integers(1, 64))
def test_writing_then_tokenizing_gives_the_same_segments(segments: list[Segment], delimiters: Delimiters,
                                                          una: bool, line_break: str, chunk_size: int) -> None:
    used = delimiters if una else DEFAULT_DELIMITERS  # without UNA the reader assumes the defaults
    written = write_segments(segments, used, una=una, syntax="UNOC", line_break=line_break)
    chunks = [written[i:i + chunk_size] for i in range(0, len(written), chunk_size)]
    assert list(tokenize(chunks)) == segments


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.builds(Segment, tags, st.lists(elements, max_size=4).map(tuple)), max_size=5),
                max_size=4), st.text(st.sampled_from("ABC123-+:'?"), min_size=1, max_size=10))
def test_built_interchanges_read_back_whole(bodies: list[list[Segment]], reference: str) -> None:
    messages = [build_message(f"M{n}", ORDERS, body) for n, body in enumerate(bodies)]
    segments = build_interchange(messages, sender=Party("S", "14"), recipient=Party("R:X"), reference=reference,
                                 prepared=datetime(2026, 3, 18, 10, 15))
    ic = only_interchange(write_segments(segments))
    assert ic.ok and ic.reference == reference and ic.recipient == Party("R:X")
    assert [list(m.body) for m in ic.all_messages()] == bodies


# -- streaming -------------------------------------------------------------------------------------------


class GeneratedFile:
    """A binary file of `size` bytes made of one interchange repeated, produced as it is read."""

    def __init__(self, block: bytes, size: int) -> None:
        self.block, self.size, self.position = block, size - size % len(block), 0

    def read(self, n: int = 65536) -> bytes:
        if self.position >= self.size:
            return b""
        start = self.position % len(self.block)
        chunk = self.block[start:start + n]
        self.position += len(chunk)
        return chunk


def test_tokenizing_a_50_mb_file_keeps_memory_flat() -> None:
    # Long free texts (FTX 4440 allows 5 x 512 characters) keep the segment count, and so the run time under
    # tracemalloc, which slows every allocation about tenfold, near 5 s; dense 40-byte segments give the same
    # peak but take about a minute.
    text = tuple(f"Line {n}, deliver to gate 4, ring the bell, no weekend deliveries; pallets max. 120 cm! "
                 * 4 for n in range(5))
    line = [Segment("LIN", ("1", "", ("4000862141404", "EN"))), Segment("QTY", (("21", "12"),)),
            Segment("IMD", ("F", "", ("", "", "", "Bolt M8x40, zinc plated: box of 100 (DIN 933?)"))),
            Segment("FTX", ("AAI", "", "", text))]
    body = [Segment("BGM", ("220", "PO-1001", "9")), *line * 20, Segment("UNS", ("S",))]
    envelope = build_interchange([build_message(f"M{n}", ORDERS, body) for n in range(20)],
                                 sender=Party("5412345000013", "14"), recipient=Party("8712345678906", "14"),
                                 reference="IC1", prepared=datetime(2026, 3, 18, 10, 15))
    block = write_segments(envelope, line_break="\r\n")
    source = GeneratedFile(block, 50 * 1024 * 1024)
    per_block = len(list(tokenize(block)))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        count = sum(1 for _ in tokenize(source))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == per_block * (source.size // len(block))
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes"
    print(f"{source.size / 1e6:.0f} MB, {count} segments in {time.perf_counter() - started:.1f} s, "
          f"peak {peak / 1e6:.2f} MB")
