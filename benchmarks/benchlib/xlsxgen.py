"""A workbook of customers as Excel saves it (shared strings, number formats, a formula with its
value), and the same rows as CSV, as Excel's "Save as CSV" would write them (leading zeros kept).

Run in a process of its own (``python -m benchmarks.benchlib.xlsxgen XLSX CSV COUNT``): xlsxwriter
holds the workbook in memory until it is saved, and a child forked from a big process starts
with its peak RSS.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import xlsxwriter

HEADER = ["number", "name", "mainAddress.addressLine1", "mainAddress.postalCode", "mainAddress.city",
          "corporateId", "note", "creditLimit", "creditDaysPastDue", "status"]


def write_customers(xlsx: Path, csv: Path, count: int) -> None:
    book = xlsxwriter.Workbook(str(xlsx), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    zeros, text, date = (book.add_format({"num_format": code}) for code in ("0000", "@", "dd.mm.yyyy"))
    sheet = book.add_worksheet("Kunder")
    for column, name in enumerate(HEADER):
        sheet.write_string(0, column, name)
    start = dt.date(2020, 1, 1)
    with open(csv, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for i in range(1, count + 1):
            postal, since = 1 + i % 9990, start + dt.timedelta(days=i % 2000)
            limit = 1000 + i % 500
            days = 30 if limit > 1250 else 14
            sheet.write_number(i, 0, 100_000 + i)
            sheet.write_string(i, 1, f"Kunde {i} AS")
            sheet.write_string(i, 2, f"Storgata {i % 200}")
            sheet.write_number(i, 3, postal, zeros)
            sheet.write_string(i, 4, ("Oslo", "Bergen", "Tromsø", "Drammen")[i % 4])
            sheet.write_string(i, 5, f"{900_000_000 + i}", text)
            sheet.write_datetime(i, 6, dt.datetime.combine(since, dt.time()), date)
            sheet.write_number(i, 7, limit)
            sheet.write_formula(i, 8, f"=IF(H{i + 1}>1250,30,14)", None, days)
            sheet.write_string(i, 9, "Active")
            out.write(f"{100_000 + i},Kunde {i} AS,Storgata {i % 200},{postal:04d},"
                      f"{('Oslo', 'Bergen', 'Tromsø', 'Drammen')[i % 4]},{900_000_000 + i},{since.isoformat()},"
                      f"{limit},{days},Active\n")
    book.close()


if __name__ == "__main__":
    write_customers(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
