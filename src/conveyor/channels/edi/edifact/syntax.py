"""The service characters (UNA), the character repertoires named in UNB01, and numeric values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from conveyor.channels.edi.edifact.errors import EdifactError, ErrorCode


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The service characters of an interchange, as a UNA service string advice states them.

    `release` is None when UNA4 is a space (no release character); `repetition` is None when UNA5 is a
    space (syntax version 3 reserves it). Repetitions are not split: with a repetition separator, an
    unreleased one stays in the value as it is, and the writer releases it so that it reads back as data.
    """

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str | None = "?"
    repetition: str | None = None
    terminator: str = "'"

    def __post_init__(self) -> None:
        structural = [self.component, self.element, self.terminator]
        structural += [c for c in (self.release, self.repetition) if c is not None]
        for char in structural:
            if len(char) != 1 or not char.isascii() or char.isalnum() or char == " ":
                raise EdifactError(ErrorCode.INVALID_UNA, f"{char!r} cannot be a delimiter: it must be one ASCII "
                                   "character that is neither a letter, a digit nor a space")
        if len(set(structural)) != len(structural):
            raise EdifactError(ErrorCode.INVALID_UNA, "the delimiters must all differ", found=self.una())
        if self.decimal not in (".", ","):
            raise EdifactError(ErrorCode.INVALID_UNA, "the decimal mark must be '.' or ','", element="UNA3",
                               expected=". or ,", found=self.decimal)

    @classmethod
    def from_una(cls, una: str) -> Delimiters:
        """Reads ``UNA:+.? '`` (exactly nine characters)."""
        if len(una) != 9 or not una.startswith("UNA"):
            raise EdifactError(ErrorCode.INVALID_UNA, "a service string advice is 'UNA' and six characters",
                               found=una)
        chars = una[3:]  # component, element, decimal mark, release, repetition, terminator
        return cls(chars[0], chars[1], chars[2], None if chars[3] == " " else chars[3],
                   None if chars[4] == " " else chars[4], chars[5])

    def una(self) -> str:
        return (f"UNA{self.component}{self.element}{self.decimal}{self.release or ' '}{self.repetition or ' '}"
                f"{self.terminator}")

    @property
    def special(self) -> str:
        """Characters that must be released inside a value."""
        return "".join(c for c in (self.release, self.component, self.element, self.repetition, self.terminator)
                       if c is not None)


DEFAULT_DELIMITERS = Delimiters()

_LEVEL_A = "A-Z0-9 .,\\-()/='+:?!\"%&*;<>"
_LEVEL_B = _LEVEL_A + "a-z_"  # the invariant characters of ISO 646


@dataclass(frozen=True, slots=True)
class CharacterSet:
    """A syntax level: how its bytes decode, and which characters it allows (`allowed` is a regex class
    body of the allowed characters, or `forbidden` one of those it forbids)."""

    identifier: str
    codec: str
    allowed: str | None = None
    forbidden: str | None = None

    def pattern(self, delimiters: Delimiters) -> re.Pattern[str]:
        """A regex finding the first character this level does not allow; delimiters are always allowed."""
        return _pattern(self, delimiters.special)


@lru_cache(maxsize=64)
def _pattern(charset: CharacterSet, special: str) -> re.Pattern[str]:
    escaped = re.escape(special)
    if charset.allowed is not None:
        return re.compile(f"[^{charset.allowed}{escaped}]")
    return re.compile(f"(?![{escaped}])[{charset.forbidden}]")


_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f"  # C0, DEL and C1: no graphic character set of ISO 9735 has them
_LATIN = {"UNOC": "iso8859_1", "UNOD": "iso8859_2", "UNOE": "iso8859_5", "UNOF": "iso8859_7",
          "UNOG": "iso8859_3", "UNOH": "iso8859_4", "UNOI": "iso8859_6", "UNOJ": "iso8859_8",
          "UNOK": "iso8859_9"}
CHARACTER_SETS: dict[str, CharacterSet] = {
    "UNOA": CharacterSet("UNOA", "ascii", allowed=_LEVEL_A),
    "UNOB": CharacterSet("UNOB", "ascii", allowed=_LEVEL_B),
    # IATA's identifiers for the same two repertoires (the corpus's huge ORDERS file uses IATB).
    "IATA": CharacterSet("IATA", "ascii", allowed=_LEVEL_A),
    "IATB": CharacterSet("IATB", "ascii", allowed=_LEVEL_B),
    **{name: CharacterSet(name, codec, forbidden=_CONTROLS) for name, codec in _LATIN.items()},
    "UNOW": CharacterSet("UNOW", "utf-8", forbidden=_CONTROLS),
    "UNOY": CharacterSet("UNOY", "utf-8", forbidden=_CONTROLS),
}


def character_set(identifier: str) -> CharacterSet | None:
    """The character set UNB01 names (``UNOC``), or None when Conveyor cannot read it (``UNOX``)."""
    return CHARACTER_SETS.get(identifier)


_NUMBER = re.compile(r"-?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def decimal(value: str, mark: str = ".") -> Decimal:
    """An EDIFACT numeric value as a Decimal: ``decimal("12,50", ",") == Decimal("12.50")``.

    `mark` is the interchange's decimal mark (UNA3); the other mark is accepted too, since EANCOM allows
    both. No sign but a leading minus, no exponent, no thousands separator.
    """
    if mark not in (".", ","):
        raise EdifactError(ErrorCode.INVALID_NUMBER, "the decimal mark must be '.' or ','", found=mark)
    if not _NUMBER.fullmatch(value):
        raise EdifactError(ErrorCode.INVALID_NUMBER, "not an EDIFACT numeric value", expected="digits with at "
                           "most one decimal mark and a leading minus", found=value)
    return Decimal(value.replace(",", "."))
