"""``map init --company``: value maps from a legacy file's values to the company's ids, each guess explained."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from importer.company import Company, dump_company
from importer.company.demo import demo_company
from importer.entities import ENTITIES
from importer.mapinit.skeleton import render, suggest_map
from importer.mapinit.valuemaps import Placed, place
from importer.mapping.mapfile import load_map
from tests.support.runs import run_cli

TODAY = dt.date(2026, 12, 5)
COMPANY = demo_company(TODAY)

# A legacy Norwegian invoice export: terms written as words, VAT as rates.
INVOICES = (
    "Fakturanr;Kundenr;Fakturadato;Betalingsbet.;Valuta;Varenr;Antall;Pris;MVA\n"
    "1001;10;03.02.2024;30 dager netto;NKR;Konsulenttime;2;1 000,00;25\n"
    "1001;10;;;;sylt;3;50,00;15\n"
    "1002;11;04.02.2024;14 dager;NOK;222;1;100,00;0\n"
    "1003;12;05.02.2024;Kontant;kr;UTGATT;1;10,00;7\n"
    "1004;12;05.02.2024;60 dager;Euro;FRAKT;1;10,00;25\n"
)


def _skeleton(tmp_path: Path, text: str = INVOICES, entity: str = "invoice"):
    path = tmp_path / "legacy.csv"
    path.write_text(text, encoding="utf-8")
    return suggest_map(path, ENTITIES[entity], company=COMPANY, today=TODAY)


def test_norwegian_terms_and_vat_rates_become_the_companys_ids(tmp_path):
    skeleton = _skeleton(tmp_path)
    values = {v.api: v for v in skeleton.values}
    terms, vat = values["creditTermsId"], values["line.vatCodeId"]
    assert terms.mapped == {"30 dager netto": "30", "14 dager": "14", "Kontant": "KONTANT"}
    assert terms.notes["30 dager netto"].startswith("dueDay1 30")
    assert terms.notes["14 dager"].startswith("dueDay1 14")
    assert terms.todo == ["60 dager"]  # the company has no 60-day terms: the candidates are named
    assert "not a credit terms id of this company" in terms.notes["60 dager"]
    assert "30 (30 dager netto)" in terms.notes["60 dager"] and "KONTANT (Kontant)" in terms.notes["60 dager"]

    assert vat.mapped == {"25": "3", "15": "31", "0": "5"}
    assert vat.notes["25"].startswith("output VAT 25 % today") and "check" not in vat.notes["25"]
    # Three categories are 0 %: the domestic one that counts in the VAT total wins, the others are named.
    assert "also 0 %" in vat.notes["0"] and "52" in vat.notes["0"] and vat.notes["0"].endswith("check")
    assert vat.todo == ["7"] and "3 (25 %)" in vat.notes["7"] and "31 (15 %)" in vat.notes["7"]

    text = render(skeleton, "fakturaer.map.toml")
    assert '"30 dager netto" = "30"   # dueDay1 30' in text
    assert '# "60 dager" = ""' in text and "TODO: not a credit terms id" in text
    assert "Value maps speak the values of Demo AS" in text
    out = tmp_path / "fakturaer.map.toml"
    out.write_text(text, encoding="utf-8")
    cmap = load_map(out, "invoice")  # the proposal loads as it is
    assert cmap.values["creditTermsId"].table["30 dager netto"] == "30"
    assert cmap.values["line.vatCodeId"].table["0"] == "5"
    assert cmap.values["creditTermsId"].table["kontant"] == "KONTANT"


def test_items_and_currencies_by_code_and_description(tmp_path):
    values = {v.api: v for v in _skeleton(tmp_path).values}
    items, currencies = values["line.inventoryNumber"], values["currencyId"]
    assert items.mapped == {"Konsulenttime": "6", "sylt": "SYLT", "222": "222", "FRAKT": "FRAKT"}
    assert items.notes["Konsulenttime"] == "described as 'Konsulenttime'"
    assert items.notes["222"] == items.notes["FRAKT"] == ""  # ids it has: no comment noise
    # An item the company has but cannot sell is never proposed.
    assert items.todo == ["UTGATT"] and "cannot be sold" in items.notes["UTGATT"]
    assert currencies.mapped == {"NKR": "NOK", "NOK": "NOK", "kr": "NOK", "Euro": "EUR"}
    assert currencies.notes["kr"] == "the company's base currency"
    assert currencies.notes["Euro"] == "described as 'Euro'"


def test_valid_ids_map_to_themselves_without_comments(tmp_path):
    skeleton = _skeleton(tmp_path, "Fakturanr;Kundenr;Betalingsbet.;MVA\n1;1;30;3\n2;1;14;31\n3;1;KONTANT;5\n")
    values = {v.api: v for v in skeleton.values}
    assert values["line.vatCodeId"].mapped == {"3": "3", "31": "31", "5": "5"}  # ids, not rates
    assert values["creditTermsId"].mapped == {"30": "30", "14": "14", "KONTANT": "KONTANT"}
    text = render(skeleton)
    section = text.split('[values."line.vatCodeId"]', 1)[1]
    assert '\n"3" = "3"\n' in section or '\n3 = "3"\n' in section
    assert not any("#" in line for line in section.splitlines()[1:4])


def test_a_column_of_rates_reads_an_id_as_a_rate_and_knows_past_rates():
    assert place(COMPANY, "vatCategories", "25 %", TODAY) == Placed("3", "output VAT 25 % today, Høy sats")
    assert place(COMPANY, "vatCategories", "12,00", TODAY) == Placed("33", "output VAT 12 % today, Lav sats")
    past = place(COMPANY, "vatCategories", "14", TODAY)  # 31 was 14 % from 2007 to 2012
    assert isinstance(past, Placed) and past.id == "31" and not past.sure and "2007-01-01" in past.why


def test_classes_by_description_and_code():
    assert place(COMPANY, "customerClasses", "Innenlands kunder") == Placed("1", "described as 'Innenlands kunder'")
    assert place(COMPANY, "customerClasses", "01") == Placed("1", "the same code as 1", sure=False)
    close = place(COMPANY, "customerClasses", "Utenlandske")
    assert isinstance(close, Placed) and close.id == "2" and not close.sure
    todo = place(COMPANY, "customerClasses", "Grossist")
    assert isinstance(todo, str) and "1 (Innenlands kunder), 2 (Utenlandske kunder)" in todo
    assert place(COMPANY, "paymentMethods", "Bankoverføring") == Placed("BANK", "described as 'Bankoverføring'")


def test_customer_defaults_are_suggested_as_the_companys_ids(tmp_path):
    skeleton = _skeleton(tmp_path, "Kundenr;Navn;Betalingsbet.;Kundeklasse\n1;A;30 dager netto;Innenlands kunder\n"
                                   "2;B;;Innenlands kunder\n3;C;30 dager netto;Utenlandske kunder\n", "customer")
    values = {v.api: v for v in skeleton.values}
    assert values["customerClassId"].mapped == {"Innenlands kunder": "1", "Utenlandske kunder": "2"}
    assert skeleton.defaults["creditTermsId"] == ("30", "Betalingsbet.")  # an API value, not the legacy words


async def test_cli_map_init_with_a_company_file(tmp_path):
    company = tmp_path / "company.json"
    dump_company(COMPANY, company)
    source = tmp_path / "fakturaer.csv"
    source.write_text(INVOICES, encoding="utf-8")
    code, out, err = await run_cli("map", "init", str(source), "-e", "invoice", "--company", str(company))
    assert code == 0, err
    assert '25 = "3"' in out and '"14 dager" = "14"' in out
    assert "TODO line(s) to decide" in err

    code, _, err = await run_cli("map", "init", str(source), "-e", "invoice", "--company", str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read company file" in err and "nope.json" in err and "Traceback" not in err


def test_a_kind_of_many_records_names_the_closest_ones():
    records = {name: list(rows) for name, rows in COMPANY.records.items()}
    records["items"] += [{"inventoryNumber": f"V{n:04d}", "description": f"Vare nummer {n}", "status": "Active"}
                         for n in range(2000)]
    company = Company.of("Mange varer AS", records)
    todo = place(company, "items", "Syltetøy av jordbær")
    sellable = sum(1 for r in records["items"] if r.get("status") in ("Active", "NoPurchases"))
    assert isinstance(todo, str) and todo.startswith(f"not an item of this company; it has {sellable}, the closest ")
    assert "SYLT (Jordbærsyltetøy)" in todo
    near = place(company, "items", "Vare nummer 1234")  # its description, exactly
    assert near == Placed("V1234", "described as 'Vare nummer 1234'")


def test_cash_is_the_zero_day_terms_whatever_the_company_calls_them():
    records = {name: list(rows) for name, rows in COMPANY.records.items()}
    records["creditTerms"] = [
        {"termsId": "K0", "description": "Betaling ved levering", "visibleTo": "AL", "dueDateType": "N", "dueDay1": 0},
        {"termsId": "N30", "description": "Netto 30", "visibleTo": "AL", "dueDateType": "N", "dueDay1": 30},
        {"termsId": "L30", "description": "Leverandør 30", "visibleTo": "VE", "dueDateType": "N", "dueDay1": 30},
    ]
    company = Company.of("Annen AS", records)
    assert place(company, "creditTerms", "Kontant") == Placed("K0", "dueDay1 0 (cash), Betaling ved levering")
    assert place(company, "creditTerms", "30 dager netto") == Placed("N30", "dueDay1 30, Netto 30")  # not the suppliers'
