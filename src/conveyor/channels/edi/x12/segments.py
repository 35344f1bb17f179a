"""X12 values: segments, their elements, and the delimiters that separate them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

from conveyor.channels.edi.x12.errors import Position, X12Error, X12ErrorCode

SEGMENT_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_LINE_BREAKS = "\r\n"


@dataclass(frozen=True, slots=True)
class Repeated:
    """An element holding several repetitions (ISA11, version 00402 and later); each may have components."""

    values: tuple[str | tuple[str, ...], ...]


# A plain value, a tuple of components, or repetitions.
Element: TypeAlias = str | tuple[str, ...] | Repeated


def delimiter_problem(element: str, component: str, segment: str, repetition: str | None) -> str | None:
    """Why these delimiters cannot work, or None when they can."""
    named = {"element separator": element, "component separator": component, "segment terminator": segment}
    if repetition is not None:
        named["repetition separator"] = repetition
    for name, char in named.items():
        if len(char) != 1:
            return f"the {name} must be one character, not {char!r}"
        if char.isalnum() or char == " ":
            return f"the {name} {char!r} is a letter, digit or space, which occur in data"
        if char in _LINE_BREAKS and name != "segment terminator":
            return f"the {name} is a line break; only the segment terminator may be CR or LF"
    if len(set(named.values())) < len(named):
        return f"the delimiters must all differ: {named}"
    return None


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The delimiters of an interchange; `repetition` is None when it declares none (before version 00402)."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    def __post_init__(self) -> None:
        problem = delimiter_problem(self.element, self.component, self.segment, self.repetition)
        if problem is not None:
            raise X12Error(X12ErrorCode.INVALID_DELIMITERS, problem)


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment. Equality looks at the tag and elements only, not at where the segment was read."""

    tag: str
    elements: tuple[Element, ...] = ()
    number: int = field(default=0, compare=False)
    number_in_transaction: int | None = field(default=None, compare=False)
    offset: int = field(default=0, compare=False)

    @property
    def position(self) -> Position:
        return Position(self.number, self.number_in_transaction, self.offset)

    def element(self, reference: int) -> Element:
        """The element numbered as in X12 (1 is the first after the tag); '' when the segment is shorter."""
        return self.elements[reference - 1] if 0 < reference <= len(self.elements) else ""
