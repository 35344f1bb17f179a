"""Acknowledgements back to trading partners, built from what was captured and what the core decided."""

from __future__ import annotations

from conveyor.channels.capture.service import Acknowledger


def acknowledger_for(fmt: str) -> Acknowledger | None:
    """The acknowledger of a document format; None for formats whose senders expect no acknowledgement."""
    return None
