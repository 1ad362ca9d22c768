"""KnownKeys: a set of keys on disk, exact as written, answering for keys not yet written out."""

from __future__ import annotations

import pytest

from importer.load.input_state import KnownKeys

pytestmark = pytest.mark.one_profile


def test_every_key_added_is_known_exactly_as_written_whether_or_not_it_has_been_written_out() -> None:
    known = KnownKeys()
    assert "K1" not in known  # nothing yet: no file either
    for n in range(2_500):  # two batches written, 500 keys waiting
        known.add(f"K{n}")
    assert "K0" in known and "K2499" in known  # the waiting ones are written before the answer
    assert "K2500" not in known and "k0" not in known and " K0" not in known and 0 not in known
    known.add("K0")  # a key twice is one key
    known.add("Ø-ÆØÅ")
    assert "Ø-ÆØÅ" in known and "K1234" in known
    known.close()
    assert "K0" not in known  # closed: its file is gone
