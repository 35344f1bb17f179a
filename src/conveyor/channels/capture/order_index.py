"""The order ids a file has shown so far, to reject an order whose rows are not consecutive. Pure."""

from __future__ import annotations

from array import array

_ZEROS = (0,)


class OrderIndex:
    """Order ids seen and the line each was first seen on: 12 bytes a slot, 16 to 32 bytes an order (48 for a
    moment while the table doubles).

    Keeps 64-bit fingerprints (the str hash), not the ids, in an open-addressing table, so that memory stays
    small for any file; the price is a chance of about n^2 / 2^65 (3e-10 for 100,000 orders) of taking two
    different ids for one.
    """

    def __init__(self, capacity: int = 1 << 14) -> None:
        self._size = capacity
        self._keys = array("q", _ZEROS) * capacity
        self._lines = array("I", _ZEROS) * capacity
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, order_id: str, line: int) -> int:
        """Remembers `order_id` as first seen on `line`; returns the line it was seen on before, or 0."""
        key = hash(order_id) or 1  # 0 marks an empty slot
        keys, size = self._keys, self._size
        slot = key % size
        while True:
            found = keys[slot]
            if found == key:
                return self._lines[slot]
            if found == 0:
                break
            slot = slot + 1 if slot + 1 < size else 0
        keys[slot] = key
        self._lines[slot] = line if line < 0xFFFFFFFF else 0xFFFFFFFF
        self._count += 1
        if self._count * 4 > size * 3:
            self._grow()
        return 0

    def _grow(self) -> None:
        size = self._size * 2
        keys = array("q", _ZEROS) * size
        lines = array("I", _ZEROS) * size
        for key, line in zip(self._keys, self._lines, strict=True):
            if key:
                slot = key % size
                while keys[slot]:
                    slot = slot + 1 if slot + 1 < size else 0
                keys[slot] = key
                lines[slot] = line
        self._keys, self._lines, self._size = keys, lines, size
