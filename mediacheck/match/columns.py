"""An array that grows along its last axis at amortised cost (the index's new rows)."""

from __future__ import annotations

import numpy as np

GROWTH = 1.5  # capacity kept ahead, as a factor of the rows held
MIN_ROOM = 1024


class Column:
    """The rows so far (``values``, a view) of a buffer with room for more.

    It starts on any array, a read-only memory map included: the first ``extend``
    copies it into a buffer with room, later ones copy only the new rows until that
    room is used up, so n appends copy O(n) values in all.
    """

    def __init__(self, values: np.ndarray):
        self._buffer = values
        self._rows = values.shape[-1]

    @property
    def values(self) -> np.ndarray:
        return self._buffer[..., : self._rows]

    def __len__(self) -> int:
        return self._rows

    def extend(self, more: np.ndarray) -> None:
        if more.shape[-1] == 0:
            return  # a read-only map takes no assignment, even of nothing
        need = self._rows + more.shape[-1]
        dtype = np.promote_types(self._buffer.dtype, more.dtype)  # longer media ids
        if need > self._buffer.shape[-1] or dtype != self._buffer.dtype:
            room = max(need, int(self._rows * GROWTH), self._rows + MIN_ROOM)
            grown = np.empty((*self._buffer.shape[:-1], room), dtype)
            grown[..., : self._rows] = self.values
            self._buffer = grown
        self._buffer[..., self._rows : need] = more
        self._rows = need
