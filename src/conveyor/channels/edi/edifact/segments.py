"""A segment and how its text (tag, data elements, components, released characters) becomes values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from conveyor.channels.edi.edifact.errors import NO_POSITION, EdifactError, ErrorCode, Position
from conveyor.channels.edi.edifact.syntax import Delimiters

Element = str | tuple[str, ...]  # a simple value, or the components of a composite
TAG = re.compile(r"[A-Z0-9]{3}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment. Equality ignores `position`, so a segment read back equals the one written."""

    tag: str
    elements: tuple[Element, ...] = ()
    position: Position = field(default=NO_POSITION, compare=False)

    def composite(self, number: int) -> tuple[str, ...]:
        """Data element `number` (1-based, as in ``UNB02``) as a tuple of components; () when absent."""
        if number > len(self.elements):
            return ()
        value = self.elements[number - 1]
        return value if isinstance(value, tuple) else (value,)

    def value(self, number: int, component: int = 1) -> str:
        """Component `component` of data element `number`, both 1-based; "" when absent."""
        parts = self.composite(number)
        return parts[component - 1] if component <= len(parts) else ""


def parse_segment(text: str, delimiters: Delimiters, position: Position) -> Segment | EdifactError:
    """One segment's decoded text, without its terminator, as a `Segment` (or the reason it is not one)."""
    tag = text[:3]
    if not TAG.fullmatch(tag) or (len(text) > 3 and text[3] != delimiters.element):
        return EdifactError(ErrorCode.INVALID_TAG, "a segment starts with a tag of three letters or digits",
                            position, expected="a tag such as 'UNH'", found=text[:8])
    if len(text) == 3:
        return Segment(tag, (), position)
    body, component = text[4:], delimiters.component
    if delimiters.release is None or delimiters.release not in body:
        return Segment(tag, tuple(tuple(p.split(component)) if component in p else p
                                  for p in body.split(delimiters.element)), position)
    return _released(tag, body, delimiters, position)


@lru_cache(maxsize=16)
def _release_pattern(delimiters: Delimiters) -> re.Pattern[str]:
    """A value up to the next unreleased separator (or the end of the segment)."""
    release = re.escape(delimiters.release or "")
    separators = re.escape(delimiters.element + delimiters.component)
    plain = f"[^{release}{separators}]*"
    return re.compile(f"({plain}(?:{release}.{plain})*)([{separators}]|\\Z)", re.DOTALL)


def _released(tag: str, body: str, delimiters: Delimiters, position: Position) -> Segment | EdifactError:
    value_pattern = _release_pattern(delimiters)
    release = delimiters.release or ""  # never empty here: this path is taken for bodies holding it
    elements: list[Element] = []
    components: list[str] = []
    start = 0
    while True:
        match = value_pattern.match(body, start)
        if match is None:
            return EdifactError(ErrorCode.UNTERMINATED_SEGMENT, "a release character ends the segment",
                                position, tag=tag)
        value, separator = match.groups()
        components.append(_unrelease(value, release) if release in value else value)
        if separator != delimiters.component:
            elements.append(tuple(components) if len(components) > 1 else components[0])
            components = []
            if not separator:
                return Segment(tag, tuple(elements), position)
        start = match.end()


def _unrelease(value: str, release: str) -> str:
    """`value` with each release character dropped and the character after it kept as data."""
    parts = value.split(release)
    out, index = [parts[0]], 1
    while index < len(parts):
        if parts[index]:  # its first character was released; the rest is plain
            out.append(parts[index])
            index += 1
        else:  # a released release character; the part after it is plain
            out.append(release)
            out.append(parts[index + 1] if index + 1 < len(parts) else "")
            index += 2
    return "".join(out)
