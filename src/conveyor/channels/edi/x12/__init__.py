"""X12: a streaming tokenizer, an envelope reader that checks counts and control numbers, and a writer.

Reading: `read_interchanges(stream)` yields `Interchange`s holding `FunctionalGroup`s holding
`Transaction`s, each with the problems found in it (`errors`, `ok`); see `reader.py`. Lower down,
`iter_segments(stream)` and `SegmentScanner(stream)` yield `Segment`s one at a time (`tokens.py`).
Writing: `write_segments(segments, delimiters)`, and `build_transaction`, `build_group` and
`build_interchange` for envelopes with correct counts and control numbers (`writer.py`).
"""

from conveyor.channels.edi.x12.envelopes import FunctionalGroup, Interchange, PartyId, Transaction
from conveyor.channels.edi.x12.errors import Position, X12Error, X12ErrorCode
from conveyor.channels.edi.x12.reader import read_interchanges
from conveyor.channels.edi.x12.segments import Delimiters, Element, Repeated, Segment
from conveyor.channels.edi.x12.sources import Source
from conveyor.channels.edi.x12.tokens import SegmentScanner, iter_segments
from conveyor.channels.edi.x12.writer import build_group, build_interchange, build_transaction, write_segments

__all__ = [
    "Delimiters",
    "Element",
    "FunctionalGroup",
    "Interchange",
    "PartyId",
    "Position",
    "Repeated",
    "Segment",
    "SegmentScanner",
    "Source",
    "Transaction",
    "X12Error",
    "X12ErrorCode",
    "build_group",
    "build_interchange",
    "build_transaction",
    "iter_segments",
    "read_interchanges",
    "write_segments",
]
