"""The ISA header: the fixed-size segment that opens an interchange and declares its delimiters."""

from __future__ import annotations

from typing import NamedTuple

from conveyor.channels.edi.x12.segments import Delimiters, delimiter_problem

_LINE_BREAKS = "\r\n"
_ISA_MAX = 256  # characters an ISA may take without line breaks (the standard says 106)
# ISA element widths, ISA01 to ISA16: the ISA is a fixed-size segment.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


class IsaHeader(NamedTuple):
    elements: tuple[str, ...]
    delimiters: Delimiters
    length: int  # characters of input it took, terminator included
    warning: str | None


def declares_repetition(version: str, isa11: str) -> bool:
    """From ISA version 00402 on, ISA11 is the repetition separator, unless it is 'U'."""
    return version.isascii() and version.isdigit() and int(version) >= 402 and isa11 != "U"


def starts_isa(text: str) -> bool:
    head = text[:24]
    if "\r" in head or "\n" in head:
        head = head.replace("\r", "").replace("\n", "")
    return head.startswith("ISA") and (len(head) == 3 or not head[3].isalnum())


def parse_isa(data: str) -> IsaHeader | str:
    """Read the ISA at the start of `data`, line breaks ignored; a message when its delimiters are unusable."""
    chars: list[str] = []
    separator = ""
    separators = 0
    index = 0
    while index < len(data) and len(chars) < _ISA_MAX:
        char = data[index]
        index += 1
        if char in _LINE_BREAKS:
            continue
        chars.append(char)
        if len(chars) == 4:
            separator, separators = char, 1
        elif char == separator:
            separators += 1
            if separators == 16:
                break
    if separators < 16:
        ending = "the input ends" if index >= len(data) else f"no more within {_ISA_MAX} characters"
        return f"ISA has {max(separators - 1, 0)} elements before {ending}; expected 16"
    while index < len(data) and data[index] in _LINE_BREAKS:
        index += 1
    if index + 1 >= len(data):
        return "the input ends before ISA16 and the segment terminator after it"
    component, terminator, end = data[index], data[index + 1], index + 2
    if terminator in _LINE_BREAKS:  # a line break, or a file wrapped just before the terminator?
        after = end
        while after < len(data) and data[after] in _LINE_BREAKS:
            after += 1
        if after < len(data) and not data[after].isalnum() and data[after] not in " \t":
            terminator, end = data[after], after + 1
    problem = delimiter_problem(separator, component, terminator, None)
    if problem is not None:
        return f"ISA declares unusable delimiters: {problem}"
    elements = tuple("".join(chars).split(separator)[1:16]) + (component,)
    repetition, warning = None, None
    if declares_repetition(elements[11], elements[10]):
        problem = delimiter_problem(separator, component, terminator, elements[10])
        if problem is None:
            repetition = elements[10]
        else:
            warning = f"ISA11 should be the repetition separator in version {elements[11]}: {problem}"
    return IsaHeader(elements, Delimiters(separator, component, terminator, repetition), end, warning)


