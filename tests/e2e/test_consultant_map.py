"""The consultant's rehearsal: a cp1252 legacy export with Norwegian headers → ``map init``
→ only the TODO values filled in → the command map init prints runs as printed → ``check``
and ``plan`` on the sandbox read the file through the map alone (no ``--encoding``) → the
sandbox stores the legacy values as the company's ids."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.support.legacy_export import (
    CHOSEN,
    CUSTOMER_COUNT,
    INVOICE_COUNT,
    customer_rows,
    fill_map_file,
    invoice_rows,
    write_export,
)
from tests.support.runs import TOKEN, final_lines, get_json, run_cli

TERMS = CHOSEN["creditTermsId"]
VAT = CHOSEN["line.vatCodeId"]


async def _map_init(source: Path, entity: str, out: Path) -> list[str]:
    """``map init`` as a consultant runs it; the rehearse command it prints, as argv."""
    code, _, err = await run_cli("map", "init", str(source), "-e", entity, "--encoding", "cp1252", "-o", str(out))
    assert code == 0, err
    printed = err.split("rehearse it with: ", 1)[1].splitlines()[0]
    argv = shlex.split(printed)
    assert argv[0] == "importer" and "--encoding" not in argv, printed
    return argv[1:]


@pytest.mark.one_profile
async def test_a_generated_map_with_its_todos_filled_loads_the_legacy_export(start_sandbox, tmp_path):
    kunder, fakturaer = write_export(tmp_path)
    kunder_map, fakturaer_map = tmp_path / "kunder.map.toml", tmp_path / "fakturaer.map.toml"
    rehearse = {"customer": await _map_init(kunder, "customer", kunder_map),
                "invoice": await _map_init(fakturaer, "invoice", fakturaer_map)}
    for path in (kunder_map, fakturaer_map):
        fill_map_file(path, CHOSEN)  # only the TODO values: no other hand edit

    # The printed command runs as printed: the map alone says the file is cp1252.
    for entity, argv in rehearse.items():
        code, _, err = await run_cli(*argv, cwd=str(tmp_path))
        assert code == 0, err
        dry = Path(f"{argv[1]}.dry-run.ndjson")
        assert {line["outcome"] for line in final_lines(dry)} == {"valid"}, err

    plan = tmp_path / "migration.toml"
    plan.write_text('[[step]]\nname = "customers"\ninput = "kunder.csv"\nmap = "kunder.map.toml"\n\n'
                    '[[step]]\nname = "invoices"\ninput = "fakturaer.csv"\nmap = "fakturaer.map.toml"\n',
                    encoding="utf-8")
    async with start_sandbox() as sandbox:
        code, out, err = await run_cli("check", str(kunder), "--map", str(kunder_map), "--base-url", sandbox.url,
                                       "--token", TOKEN)
        assert code == 0, out + err  # every credit terms id the map writes is the company's
        code, out, err = await run_cli("plan", str(plan), "--base-url", sandbox.url, "--token", TOKEN,
                                       timeout=120)
        assert code == 0, out + err
        customers = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
        invoices = {i["referenceNumber"]: i for i in await get_json(f"{sandbox.url}/sandbox/records/invoice")}

    rows = customer_rows()
    assert len(customers) == CUSTOMER_COUNT
    assert {n: c["creditTermsId"] for n, c in customers.items()} == {
        r["Kundenr"]: TERMS[r["Betalingsbetingelse"]] for r in rows}
    assert {n: c["name"] for n, c in customers.items()} == {r["Kundenr"]: r["Navn"] for r in rows}  # ø, not Ã¸
    countries = {n: (c.get("mainAddress") or {}).get("countryId") for n, c in customers.items()}
    assert {countries[r["Kundenr"]] for r in rows if r["Land"] == "Sverige"} == {"SE"}
    assert {countries[r["Kundenr"]] for r in rows if r["Land"] == "Norge"} == {"NO"}

    lines = invoice_rows()
    assert len(invoices) == INVOICE_COUNT
    wanted: dict[str, list[tuple[str, str, str]]] = {}
    for r in lines:
        wanted.setdefault(r["Fakturanr"], []).append((r["Tekst"], r["Varenr"], VAT[r["MVA-sats"]]))
    stored = {ref: [(line["description"], line["inventoryNumber"], line["vatCodeId"]) for line in inv["invoiceLines"]]
              for ref, inv in invoices.items()}
    assert stored == wanted  # each line its own text, item and VAT code
    assert {i["customerNumber"] for i in invoices.values()} <= set(customers)


