"""EDIFACT capture: a streaming tokenizer, an envelope reader and a writer.

Layers, each usable on its own:

- `scan(source)` / `tokenize(source)` (tokens.py) turn bytes into `Segment`s (segments.py) as they stream in: a binary
  file, an iterable of chunks or bytes. UNA sets the delimiters, UNB01 the character set (UNOA…UNOK,
  UNOW/UNOY, IATA/IATB), the release character is honoured everywhere, CR/LF line breaks are dropped.
  `scan` yields an `EdifactError` in place of each segment it cannot read and goes on; `tokenize` raises it.
- `read_interchanges(source)` (reader.py) groups segments into `Interchange` → `Group` → `Message`, checks
  the envelopes (UNT/UNE/UNZ counts and references) and yields each interchange with its good messages and
  its `problems`, and a bare `EdifactError` for what lies outside any readable interchange. A broken
  message never hides a good one in the same file, and bad data never raises.
- `write_segments(segments, delimiters, una)` and `build_message` / `build_interchange` (writer.py) write
  EDIFACT back, releasing service characters and counting the envelopes.
- `decimal(value, mark)` (syntax.py) reads a numeric value with either decimal mark.

Every problem is an `EdifactError` with a `code` (`ErrorCode`), a `message`, the `position` of the segment
(number in the file, number in the message, byte offset), the `tag`, the data `element` (``UNT01``) and the
`expected` and `found` values.
"""

from conveyor.channels.edi.edifact.envelopes import Group, Interchange, Message, MessageType, Party
from conveyor.channels.edi.edifact.errors import NO_POSITION, EdifactError, ErrorCode, Position
from conveyor.channels.edi.edifact.reader import read_interchanges
from conveyor.channels.edi.edifact.segments import Element, Segment
from conveyor.channels.edi.edifact.syntax import (
    CHARACTER_SETS,
    DEFAULT_DELIMITERS,
    CharacterSet,
    Delimiters,
    character_set,
    decimal,
)
from conveyor.channels.edi.edifact.tokens import Source, scan, tokenize
from conveyor.channels.edi.edifact.writer import build_interchange, build_message, write_segments

__all__ = [
    "CHARACTER_SETS",
    "DEFAULT_DELIMITERS",
    "NO_POSITION",
    "CharacterSet",
    "Delimiters",
    "EdifactError",
    "Element",
    "ErrorCode",
    "Group",
    "Interchange",
    "Message",
    "MessageType",
    "Party",
    "Position",
    "Segment",
    "Source",
    "build_interchange",
    "build_message",
    "character_set",
    "decimal",
    "read_interchanges",
    "scan",
    "tokenize",
    "write_segments",
]
