"""Where a document column goes when its value differs between the rows of one document.

A legacy export writes a document one row per line, and a column such as ``Tekst`` may
hold the line's own text on every row rather than the document's on its first. Its header
says "document text", but its values say "line": ``map init`` follows the values, so the
text reaches each line instead of making every document but the one-line ones invalid.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from importer.company.columns import reference_kind
from importer.entities import Entity
from importer.mapping.columns import field_for_column, valid_columns

if TYPE_CHECKING:
    from importer.mapinit.skeleton import Guess

__all__ = ["to_lines"]


_LINE_TEXTS = ("line.description", "line.note")  # where a document's text goes when it differs by line


def to_lines(guesses: list[Guess], varies: dict[str, str], entity: Entity) -> list[Guess]:
    """A document column whose value differs between the rows of one document describes the
    lines, not the document: it goes to the same field of the line (``line.branchNumber``), or,
    for text, to the line's text. A column with no place on the line stays, with a note."""
    valid = frozenset(valid_columns(entity))
    taken = {g.api for g in guesses if g.api is not None}
    out = []
    for guess in guesses:
        api = guess.api
        if guess.source not in varies or api is None or api.startswith("line.") or api == entity.key_field:
            out.append(guess)
            continue
        document = varies[guess.source]
        leaf = api.rsplit(".", 1)[-1]
        found = field_for_column(entity, api)
        text = found is not None and found.type == "string" and reference_kind(api) is None and not found.enum
        places = [c for c in (f"line.{leaf}", *(_LINE_TEXTS if text else ())) if c in valid and c not in taken]
        if places:
            taken.discard(api)
            taken.add(places[0])
            out.append(replace(guess, api=places[0],
                               how=f"{guess.how}; differs within document {document}, so it is the line's"))
        else:
            out.append(replace(guess, sure=False,
                               how=f"{guess.how}; differs within document {document}, and a document has one {api}"))
    return out
