"""The N1 loops of an 850 (N1, N2, N3, N4, PER): parties and their addresses, as the document has them.

Address keys (see model.AddressDict): name N102, company N201 (and N202), line1 N301, line2 N302 (and any
further N3), city N401, region N402, postal_code N403, country N404, phone the first PER number of type TE.
A key the document leaves empty is left out; nothing is invented (no country when N404 is absent). N404
is ISO 3166 alpha-2 in X12; the alpha-3 codes partners send instead for the usual countries (USA, CAN, MEX,
...) are turned into alpha-2, anything else is kept as written for the core to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conveyor.channels.capture.x12_850_values import text
from conveyor.channels.edi.x12 import Segment

_ALPHA3 = {
    "USA": "US", "CAN": "CA", "MEX": "MX", "PRI": "PR", "GBR": "GB", "IRL": "IE", "DEU": "DE", "FRA": "FR",
    "NLD": "NL", "BEL": "BE", "ESP": "ES", "ITA": "IT", "CHE": "CH", "AUT": "AT", "SWE": "SE", "DNK": "DK",
    "POL": "PL", "CHN": "CN", "JPN": "JP", "KOR": "KR", "TWN": "TW", "HKG": "HK", "IND": "IN", "AUS": "AU",
    "NZL": "NZ", "BRA": "BR",
}
_PHONE_PAIRS = ((3, 4), (5, 6), (7, 8))  # PER03/04, PER05/06, PER07/08: communication qualifier, number


@dataclass
class Party:
    """One N1 loop as read."""

    code: str  # N101: ST ship to, BT bill to, BY buyer, BS bill and ship to, VN vendor, SF ship from, ...
    name: str = ""  # N102
    qualifier: str = ""  # N103: 92 assigned by buyer, 1 DUNS, 9 DUNS+4, UL GLN, ...
    id: str = ""  # N104
    names: list[str] = field(default_factory=list)  # N201, N202
    streets: list[str] = field(default_factory=list)  # N301, N302, ...
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""

    @classmethod
    def of(cls, n1: Segment, component: str) -> Party:
        return cls(text(n1, 1, component), text(n1, 2, component), text(n1, 3, component), text(n1, 4, component))

    def add(self, segment: Segment, component: str) -> None:
        """N2, N3, N4 or PER inside this loop."""
        values = [text(segment, reference, component) for reference in range(1, 9)]
        if segment.tag == "N2":
            self.names += [value for value in values[:2] if value]
        elif segment.tag == "N3":
            self.streets += [value for value in values[:2] if value]
        elif segment.tag == "N4" and not (self.city or self.postal_code):
            self.city, self.region, self.postal_code = values[0], values[1], values[2]
            self.country = _ALPHA3.get(values[3].upper(), values[3])
        elif segment.tag == "PER" and not self.phone:
            self.phone = next((values[number - 1] for qualifier, number in _PHONE_PAIRS
                               if values[qualifier - 1] == "TE" and values[number - 1]), "")

    def address(self) -> dict[str, str] | None:
        """The address keys the document fills, or None when it gives no name, street or place."""
        values = {"name": self.name, "company": " ".join(self.names),
                  "line1": self.streets[0] if self.streets else "", "line2": ", ".join(self.streets[1:]),
                  "city": self.city, "region": self.region, "postal_code": self.postal_code,
                  "country": self.country, "phone": self.phone}
        address = {key: value for key, value in values.items() if value}
        return address if set(address) - {"phone"} else None

    def summary(self) -> dict[str, Any]:
        """What to keep in extra["parties"]: the identification the core may map (a store or DC number)."""
        kept: dict[str, Any] = {"name": self.name, "qualifier": self.qualifier, "id": self.id}
        return {key: value for key, value in kept.items() if value}
