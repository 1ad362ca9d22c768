"""Where a CSV record ends, found without keeping it: the quoting of bytes fed piece by piece.

A record over ``--max-field-size`` is skipped unread, but a quoted field may run over
many lines, so the reader must still know which line end closes the record. This
follows the csv module's rules (a quote opens a field only at its start; inside one, a
doubled quote is a quote, a single one closes it) on bytes, which holds for every
encoding the readers take: quotes and delimiters are single ASCII bytes in all of them.
"""

from __future__ import annotations

__all__ = ["FieldScanner"]

_START, _UNQUOTED, _QUOTED, _QUOTE_SEEN = range(4)  # at a field's start; in one; in quotes; after a quote in quotes
_QUOTE = 0x22


class FieldScanner:
    """Feed a record's lines with :meth:`feed` and :meth:`line_end`; ``longest`` is
    (bytes, 0-based index) of its longest field so far."""

    def __init__(self, delimiter: str) -> None:
        self._delimiter = delimiter.encode("ascii")
        self._state = _START
        self.field = 0  # index of the field being read
        self.field_bytes = 0
        self.longest = (0, 0)

    def feed(self, data: bytes) -> None:
        """Bytes of one line, its line end excepted."""
        pos, size, delimiter = 0, len(data), self._delimiter
        while pos < size:
            state = self._state
            if state == _START:
                if data[pos] == _QUOTE:
                    self._state, self.field_bytes = _QUOTED, self.field_bytes + 1
                    pos += 1
                else:
                    self._state = _UNQUOTED
            elif state == _UNQUOTED:
                i = data.find(delimiter, pos)
                if i < 0:
                    self.field_bytes += size - pos
                    return
                self.field_bytes += i - pos
                self._close()
                pos = i + 1
            elif state == _QUOTED:
                i = data.find(b'"', pos)
                if i < 0:
                    self.field_bytes += size - pos
                    return
                self.field_bytes += i - pos + 1
                self._state = _QUOTE_SEEN
                pos = i + 1
            elif data[pos] == _QUOTE:  # a doubled quote: one quote in the value
                self._state, self.field_bytes = _QUOTED, self.field_bytes + 1
                pos += 1
            elif data[pos:pos + 1] == delimiter:
                self._close()
                pos += 1
            else:  # text after a closing quote: the csv module refuses the rest of the line
                self._state = _UNQUOTED

    def line_end(self, size: int) -> bool:
        """A line end of ``size`` bytes: True when it ends the record (it is not inside quotes)."""
        if self._state == _QUOTED:
            self.field_bytes += size
            return False
        self._close()
        self.field = 0
        return True

    def _close(self) -> None:
        if self.field_bytes > self.longest[0]:
            self.longest = (self.field_bytes, self.field)
        self.field += 1
        self.field_bytes = 0
        self._state = _START
