"""The shared corpus of real documents (never copied into the project): where it is, and one repair."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from conveyor.channels.edi.edifact import (
    MessageType,
    Party,
    Segment,
    build_interchange,
    build_message,
    tokenize,
    write_segments,
)

CORPUS = Path(os.environ.get("CONVEYOR_CORPUS", Path(__file__).resolve().parents[4] / "shared" / "corpus"))
HUGE_ORDERS = CORPUS / "edifact" / "orders" / "pydifact__huge_file2.edi"


def reenveloped(path: Path = HUGE_ORDERS) -> bytes:
    """The huge ORDERS file's own lines in a sound message: the first header, every LIN group, a right UNT.

    As published it is one UNH, then one order's body pasted 8,432 times (BGM included), then UNT+16 and no
    UNZ, so capture rejects it whole; this keeps its 16,864 LIN groups under one header."""
    body: list[Segment] = []
    header_seen = skipping = False
    for segment in list(tokenize(path.read_bytes()))[2:]:
        if segment.tag in ("UNS", "UNT"):
            break
        if segment.tag == "BGM":
            skipping, header_seen = header_seen, True
        elif segment.tag == "LIN":
            skipping = False
        if not skipping:
            body.append(Segment(segment.tag, segment.elements))
    message = build_message("1", MessageType("ORDERS", "D", "96A", "UN", "EAN008"), [*body, Segment("UNS", ("S",))])
    return write_segments(build_interchange([message], sender=Party("6XPPC"), recipient=Party("LHPPC"), reference="1",
                                            prepared=datetime(1994, 1, 1, 9, 50), syntax="IATB", syntax_version="1"))
