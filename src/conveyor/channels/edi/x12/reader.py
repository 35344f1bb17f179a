"""X12 interchanges, functional groups and transactions, read from a stream with their envelopes checked.

    for interchange in read_interchanges(stream):
        for group in interchange.groups:
            for transaction in group.transactions:
                if transaction.ok:
                    ...  # ST to SE is sound: counts, control numbers, tags and encoding checked
                else:
                    ...  # transaction.errors says what is wrong and where

Good transactions plus the problems found:

- Every problem is an `X12Error` (code, message, position, tag and element, expected, found) kept in
  the `errors` of the innermost envelope it belongs to. A transaction keeps its own: SE01, SE02, no SE,
  bad segment tags or bytes inside it. A group keeps GS and GE problems (GE01, GE02, no GE) and segments
  stray between its transactions. An interchange keeps ISA and IEA problems (ISA field sizes, IEA01,
  IEA02, no IEA), segments outside its groups, and anything found outside every interchange: before its
  ISA if it is the first, otherwise after its IEA.
- `ok` is true when there is no problem at that level or below; `all_errors()` lists them in input order.
  A transaction that is `ok` can be processed even when its group or interchange has a problem; a partner
  policy that refuses the whole interchange checks `interchange.ok` instead.
- Broken data never raises, with two exceptions: an input holding no interchange at all raises
  `X12Error` (`no_interchange`, or `not_x12` with what was found), and so does undecodable input in an
  encoding that is not ASCII-compatible, such as UTF-16 (`invalid_encoding`).
- Memory holds one interchange at a time, and the one before it until the next ISA is read (problems
  after an IEA belong to that interchange). For interchanges of hundreds of megabytes, use
  `tokens.SegmentScanner`, which holds one segment at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from conveyor.channels.edi.x12.envelopes import FunctionalGroup, Interchange, PartyId, Transaction
from conveyor.channels.edi.x12.errors import Position, X12Error, X12ErrorCode
from conveyor.channels.edi.x12.isa import ISA_WIDTHS
from conveyor.channels.edi.x12.segments import Delimiters, Segment
from conveyor.channels.edi.x12.sources import Source
from conveyor.channels.edi.x12.tokens import CHUNK_SIZE, MAX_SEGMENT_LENGTH, SegmentScanner

_ISA_DIGITS = (9, 10, 12, 13)
_ISA_CHOICES = {14: "01", 15: "PTI"}
_ERROR = X12ErrorCode


def read_interchanges(source: Source, *, encoding: str = "utf-8", chunk_size: int = CHUNK_SIZE,
                      max_segment_length: int = MAX_SEGMENT_LENGTH) -> Iterator[Interchange]:
    """Yield every interchange of `source` with its groups and transactions; see the module docstring."""
    scanner = SegmentScanner(source, encoding=encoding, chunk_size=chunk_size,
                             max_segment_length=max_segment_length)
    reader = _Reader(scanner)
    for item in scanner:
        if isinstance(item, Segment):
            reader.segment(item)
        else:
            reader.problem(item)
        if reader.ready:
            yield from reader.ready
            reader.ready.clear()
    reader.finish(Position(scanner.segment_count + 1, None, scanner.offset))
    yield from reader.ready
    if not reader.seen_interchange:
        if reader.orphans:
            raise reader.orphans[0]
        raise X12Error(_ERROR.NO_INTERCHANGE, "the input is empty" if scanner.offset == 0
                       else "the input holds no X12 interchange", expected="ISA")


@dataclass(eq=False)
class _Open:
    """An envelope being read; `header` is its ISA, GS or ST segment."""

    header: Segment
    delimiters: Delimiters
    segments: list[Segment] = field(default_factory=list)  # ST to SE, or an interchange's TA1s
    transactions: list[Transaction] = field(default_factory=list)
    groups: list[FunctionalGroup] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)
    started: int = 0  # groups or transactions begun in it, closed or not


class _Reader:
    def __init__(self, scanner: SegmentScanner) -> None:
        self.scanner = scanner
        self.interchange: _Open | None = None
        self.group: _Open | None = None
        self.transaction: _Open | None = None
        self.delimiters = Delimiters()
        self.closed: _Open | None = None  # the last interchange read, kept for problems after its IEA
        self.orphans: list[X12Error] = []  # problems before the first interchange
        self.ready: list[Interchange] = []
        self.seen_interchange = False
        self.reported = 0  # number of the last segment the scanner reported a problem with
        self.straying = False  # the last segment was out of place (reported once per run of them)
        self.quiet = False

    # -- input ------------------------------------------------------------------------------------------

    def problem(self, error: X12Error) -> None:
        if error.code in (_ERROR.INVALID_ISA, _ERROR.NOT_X12):
            if self.interchange is not None:  # an unreadable ISA ends the interchange before it
                self._end_interchange(None, "an unreadable ISA", error.position)
            self._outside(error)
        else:
            self.reported = error.position.number if error.position else 0
            self._attach(error)

    def segment(self, segment: Segment) -> None:
        self.quiet, self.straying = self.straying, False
        tag = segment.tag
        if tag == "ISA":
            self._isa(segment)
        elif self.interchange is None:
            self._stray(segment, "outside an interchange")
        elif tag == "IEA":
            self._end_interchange(segment, "IEA", segment.position)
        elif tag == "GS":
            self._gs(segment)
        elif tag == "GE":
            self._ge(segment)
        elif tag == "ST":
            self._st(segment)
        elif self.transaction is not None:
            self.transaction.segments.append(segment)
            if tag == "SE":
                self._end_transaction(segment, "SE", segment.position)
        elif tag == "TA1" and self.group is None:
            self.interchange.segments.append(segment)
        else:
            self._stray(segment, "between transactions" if self.group else "outside a functional group")

    def finish(self, end: Position) -> None:
        if self.interchange is not None:
            self._end_interchange(None, "the end of the input", end)
        self._release()

    # -- envelopes --------------------------------------------------------------------------------------

    def _isa(self, isa: Segment) -> None:
        if self.interchange is not None:
            self._end_interchange(None, "the next ISA", isa.position)
        self._release()
        self.delimiters = self.scanner.delimiters or self.delimiters
        self.interchange = _Open(isa, self.delimiters, errors=self.orphans)
        self.orphans = []
        self.seen_interchange = True
        for reference, width in enumerate(ISA_WIDTHS, start=1):
            value = self._text(isa, reference)
            problem = None
            if len(value) != width:
                problem = f"{width} characters"
            elif reference in _ISA_DIGITS and not (value.isascii() and value.isdigit()):
                problem = f"{width} digits"
            elif reference in _ISA_CHOICES and value not in _ISA_CHOICES[reference]:
                problem = f"one of {', '.join(_ISA_CHOICES[reference])}"
            if problem is not None:
                self.interchange.errors.append(X12Error(
                    _ERROR.INVALID_ELEMENT, f"ISA{reference:02d} must be {problem}, found {value!r}",
                    position=isa.position, tag="ISA", element=reference, expected=problem, found=value))

    def _gs(self, gs: Segment) -> None:
        interchange = _opened(self.interchange)
        if self.group is not None:
            self._end_group(None, "the next GS", gs.position)
        self.group = _Open(gs, self.delimiters)
        self.group.errors.extend(self._required(gs, range(1, 9)))
        interchange.started += 1

    def _ge(self, ge: Segment) -> None:
        if self.group is None:
            self._stray(ge, "without a GS before it")
        else:
            self._end_group(ge, "GE", ge.position)

    def _st(self, st: Segment) -> None:
        if self.group is None:
            self._stray(st, "outside a functional group")
            return
        if self.transaction is not None:
            self._end_transaction(None, "the next ST", st.position)
        self.transaction = _Open(st, self.delimiters, segments=[st])
        self.transaction.errors.extend(self._required(st, (1, 2)))
        self.group.started += 1

    def _end_transaction(self, se: Segment | None, found: str, position: Position | None) -> None:
        transaction = _opened(self.transaction)
        if se is None:
            transaction.errors.append(self._missing("SE", transaction, found, position))
        else:
            transaction.errors.extend(self._trailer_problems(se, transaction, len(transaction.segments), "segments"))
        header = transaction.header
        _opened(self.group).transactions.append(Transaction(
            self._text(header, 1), self._text(header, 2), tuple(transaction.segments), tuple(transaction.errors)))
        self.transaction = None

    def _end_group(self, ge: Segment | None, found: str, position: Position | None) -> None:
        if self.transaction is not None:
            self._end_transaction(None, found, position)
        group = _opened(self.group)
        if ge is None:
            group.errors.append(self._missing("GE", group, found, position))
        else:
            group.errors.extend(self._trailer_problems(ge, group, group.started, "transactions"))
        gs = group.header
        text = [self._text(gs, reference) for reference in range(1, 9)]
        _opened(self.interchange).groups.append(FunctionalGroup(
            text[0], text[1], text[2], text[3], text[4], text[5], text[7], tuple(group.transactions),
            tuple(group.errors), gs.position))
        self.group = None

    def _end_interchange(self, iea: Segment | None, found: str, position: Position | None) -> None:
        if self.group is not None:
            self._end_group(None, found, position)
        interchange = _opened(self.interchange)
        if iea is None:
            interchange.errors.append(self._missing("IEA", interchange, found, position))
        else:
            interchange.errors.extend(self._trailer_problems(iea, interchange, interchange.started, "groups"))
        self._release()
        self.closed, self.interchange = interchange, None

    def _release(self) -> None:
        """Hand the interchange read before over, now that nothing more can belong to it."""
        if self.closed is None:
            return
        closed, self.closed = self.closed, None
        isa = closed.header
        text = [self._text(isa, reference) for reference in range(1, 17)]
        self.ready.append(Interchange(
            PartyId(text[4], text[5].strip()), PartyId(text[6], text[7].strip()), text[8], text[9], text[11],
            text[12], text[13] == "1", text[14], closed.delimiters, tuple(closed.groups),
            tuple(closed.segments), tuple(closed.errors), isa.position))

    # -- problems ---------------------------------------------------------------------------------------

    def _attach(self, error: X12Error) -> None:
        target = self.transaction or self.group or self.interchange
        if target is None:
            self._outside(error)
        else:
            target.errors.append(error)

    def _outside(self, error: X12Error) -> None:
        (self.closed.errors if self.closed is not None else self.orphans).append(error)

    def _stray(self, segment: Segment, where: str) -> None:
        if not self.quiet and segment.number != self.reported:
            self._attach(X12Error(
                _ERROR.UNEXPECTED_SEGMENT,
                f"unexpected {segment.tag} segment {where}; skipped up to the next envelope segment that fits",
                position=segment.position, tag=segment.tag, found=segment.tag))
        self.straying = True

    def _required(self, segment: Segment, references: range | tuple[int, ...]) -> list[X12Error]:
        return [X12Error(_ERROR.MISSING_ELEMENT, f"{segment.tag}{reference:02d} is required but empty",
                         position=segment.position, tag=segment.tag, element=reference, found="")
                for reference in references if not self._text(segment, reference)]

    def _missing(self, trailer: str, envelope: _Open, found: str, position: Position | None) -> X12Error:
        header = envelope.header
        number = self._text(header, {"ISA": 13, "GS": 6, "ST": 2}[header.tag])
        return X12Error(_ERROR.MISSING_TRAILER,
                        f"{header.tag} {number!r} (segment {header.number}) has no {trailer}: found {found}",
                        position=position, tag=trailer, expected=trailer, found=found)

    def _trailer_problems(self, trailer: Segment, envelope: _Open, count: int, what: str) -> list[X12Error]:
        problems = []
        counted = self._text(trailer, 1)
        if not (counted.isascii() and counted.isdigit() and int(counted) == count):
            problems.append(X12Error(
                _ERROR.COUNT_MISMATCH, f"{trailer.tag}01 gives {counted!r} {what}, but there are {count}",
                position=trailer.position, tag=trailer.tag, element=1, expected=str(count), found=counted))
        header = envelope.header
        reference = {"ISA": 13, "GS": 6, "ST": 2}[header.tag]
        expected, found = self._text(header, reference), self._text(trailer, 2)
        if found != expected:
            problems.append(X12Error(
                _ERROR.CONTROL_NUMBER_MISMATCH,
                f"{trailer.tag}02 is {found!r}, but the control number in {header.tag}{reference:02d} "
                f"(segment {header.number}) is {expected!r}",
                position=trailer.position, tag=trailer.tag, element=2, expected=expected, found=found))
        return problems

    def _text(self, segment: Segment, reference: int) -> str:
        """An envelope element as text, even if it holds (wrongly) components or repetitions."""
        value = segment.element(reference)
        if isinstance(value, str):
            return value
        component = self.delimiters.component
        if isinstance(value, tuple):
            return component.join(value)
        return (self.delimiters.repetition or "").join(
            part if isinstance(part, str) else component.join(part) for part in value.values)


def _opened(envelope: _Open | None) -> _Open:
    assert envelope is not None, "the reader's state machine opens an envelope before using it"
    return envelope
