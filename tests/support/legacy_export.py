"""A Norwegian legacy export as a consultant receives it: cp1252, ``;``-separated, Norwegian
headers, decimal commas, ``dd.mm.yyyy`` dates, country names and payment terms in words,
invoices one row per line with a line text that differs from line to line."""

from __future__ import annotations

import re
from pathlib import Path

CUSTOMER_COUNT = 30
INVOICE_COUNT = 20
TERMS = ("30 dager netto", "14 dager netto", "Kontant")
COUNTRIES = ("Norge", "Sverige", "")  # some rows leave the country empty
ITEMS = ("SERV", "KJØR", "MEL25")
RATES = {"SERV": "25", "KJØR": "25", "MEL25": "15"}
LINE_TEXTS = ("Arbeid på anlegg", "Kjøring til kunde", "Mel til bakeriet")

CHOSEN = {  # what a consultant writes on the TODO lines: the demo company's ids
    "creditTermsId": {"30 dager netto": "30", "14 dager netto": "14", "Kontant": "KONTANT"},
    "line.inventoryNumber": {"SERV": "SERV", "KJØR": "KJØR", "MEL25": "MEL25"},
    "line.vatCodeId": {"25": "3", "15": "31"},
}

CUSTOMER_HEADER = "Kundenr;Navn;Adresse;Postnr;Poststed;Land;Valuta;Betalingsbetingelse"
INVOICE_HEADER = "Fakturanr;Kundenr;Fakturadato;Forfallsdato;Tekst;Varenr;Antall;Pris;MVA-sats"


def customer_rows(count: int = CUSTOMER_COUNT) -> list[dict[str, str]]:
    return [{"Kundenr": str(30001 + i), "Navn": f"Fjordkraft Rør {i} AS", "Adresse": f"Strandkaien {i + 1}",
             "Postnr": f"{5000 + i:04d}", "Poststed": "Bergen" if i % 3 else "Göteborg",
             "Land": COUNTRIES[i % 3], "Valuta": "NOK" if i % 5 else "", "Betalingsbetingelse": TERMS[i % 3]}
            for i in range(count)]


def invoice_rows(count: int = INVOICE_COUNT, customers: int = CUSTOMER_COUNT) -> list[dict[str, str]]:
    rows = []
    for n in range(count):
        for line in range(2 + n % 2):
            item = ITEMS[(n + line) % 3]
            first = line == 0
            rows.append({"Fakturanr": str(710001 + n), "Kundenr": str(30001 + n % customers),
                         "Fakturadato": f"{1 + n % 28:02d}.02.2024" if first else "",
                         "Forfallsdato": f"{1 + n % 28:02d}.03.2024" if first else "",
                         "Tekst": f"{LINE_TEXTS[(n + line) % 3]} {line + 1}", "Varenr": item,
                         "Antall": f"{line + 1},5", "Pris": f"1 {100 + n},50", "MVA-sats": RATES[item]})
    return rows


def write_export(folder: Path, customers: int = CUSTOMER_COUNT, invoices: int = INVOICE_COUNT) -> tuple[Path, Path]:
    """``kunder.csv`` and ``fakturaer.csv`` in ``folder`` (``customers`` customers, ``invoices``
    invoices of two or three rows each), as cp1252 with CRLF line ends."""
    out = []
    for name, header, rows in (("kunder.csv", CUSTOMER_HEADER, customer_rows(customers)),
                               ("fakturaer.csv", INVOICE_HEADER, invoice_rows(invoices, customers))):
        path = folder / name
        lines = [header, *(";".join(row[c] for c in header.split(";")) for row in rows)]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
        out.append(path)
    return out[0], out[1]


_TODO_LINE = re.compile(r'^# (?P<key>"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+) = ""(?P<gap>\s+)# TODO\b.*$')


def fill_todos(text: str, chosen: dict[str, dict[str, str]]) -> str:
    """The map with each TODO value line of ``[values."API column"]`` given its chosen value, and
    nothing else touched: ``chosen`` is API column -> legacy value -> API value."""
    table = None
    out = []
    for line in text.splitlines():
        head = re.match(r'^\[values\.(?:"([^"]+)"|([A-Za-z0-9_-]+))\]', line)
        if head:
            table = head.group(1) or head.group(2)
        elif line.startswith("["):
            table = None
        todo = _TODO_LINE.match(line)
        if todo and table is not None:
            key = todo.group("key")
            legacy = key[1:-1] if key.startswith('"') else key
            line = f'{key} = "{chosen[table][legacy]}"'
        out.append(line)
    return "\n".join(out) + "\n"


def fill_map_file(path: Path, chosen: dict[str, dict[str, str]]) -> None:
    """Fill the TODO value lines of the map at ``path`` (:func:`fill_todos`), checking that every
    value line is then decided and that no other line changed: the only hand edit a consultant makes."""
    text = path.read_text(encoding="utf-8")
    filled = fill_todos(text, chosen)
    assert "TODO" not in filled.split("[values.", 1)[1], filled  # every value line decided
    before, after = text.splitlines(), filled.splitlines()
    assert len(before) == len(after)
    assert all("TODO" in old for old, new in zip(before, after, strict=True) if old != new)  # nothing else edited
    path.write_text(filled, encoding="utf-8")
