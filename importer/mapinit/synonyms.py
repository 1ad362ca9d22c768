"""What legacy exports call the API's columns and values, for ``importer map init``.

Headers are written here as people write them; :func:`normalise` folds case, accents,
spaces and punctuation before they are compared (``Kund-nr`` and ``kundnr`` are one).
Each header names the API columns it may mean, likeliest first: the first one the
entity has wins (``Kundenr`` is a customer's ``number`` but an invoice's
``customerNumber``). Values get the same treatment: :func:`suggest_values` turns
country names, status words and yes/no words into the API's values.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from importer.errors import RecordError
from importer.mapinit.scan import DISTINCT_CAP
from importer.mapping.coerce import parse_bool

__all__ = ["HEADERS", "NOT_SENT", "COUNTRIES", "ENUM_WORDS", "BOOLEAN_WORDS", "normalise", "ValueSuggestion", "suggest_values"]


# Letters NFKD leaves whole: folded by hand so ``Beløp`` meets ``belop``.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th", "ß": "ss", "ł": "l", "đ": "d"})


def normalise(text: str) -> str:
    """``Beløp (NOK)`` -> ``belopnok``: casefolded, accents off, letters and digits only."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


_ADDRESS = ("mainAddress", "billingAddress", "invoiceAddress")
_CONTACT = ("mainContact", "invoiceContact")


def _on(parents: tuple[str, ...], leaf: str) -> tuple[str, ...]:
    return tuple(f"{parent}.{leaf}" for parent in parents)


_WRITTEN: dict[tuple[str, ...], tuple[str, ...]] = {
    # who and what the record is
    ("kundenr", "kundenummer", "kund-nr", "kundnr", "kundnummer", "kunde nr", "kunde", "kund", "kundeid",
     "debitornr", "debitor", "customer no", "customer number", "customer id", "customer", "custno"):
        ("number", "customerNumber"),
    ("navn", "namn", "name", "kundenavn", "kundnamn", "firmanavn", "firmanamn", "firma", "company name",
     "customer name"): ("name",),
    ("fakturanr", "fakturanummer", "faktura", "invoice no", "invoice number", "invoice", "bilagsnr",
     "bilagsnummer", "dokumentnr", "document no", "kreditnota", "kreditnotanr", "kreditnotanummer",
     "credit note no", "debetnota", "debetnotanr", "debit note no", "referanse nr"): ("referenceNumber",),
    ("orgnr", "org nr", "orgnummer", "organisasjonsnummer", "organisationsnummer", "organisationsnr", "orgno",
     "cvr", "cvrnr", "cvr nummer", "foretaksnr", "foretaksnummer", "corporate id", "company id",
     "company number", "registration no", "y-tunnus"): ("corporateId",),
    ("mva", "mvanr", "mva-nr", "mvanummer", "moms", "momsnr", "momsnummer", "momsregnr", "se-nr", "vat",
     "vat no", "vat number", "vat id", "vat registration"): ("vatRegistrationId", "line.vatCodeId"),
    ("mvakode", "mva-kode", "momskod", "momskode", "vat code", "tax code", "avgiftskode", "mva-sats", "mvasats",
     "mva sats", "mva-prosent", "mvaprosent", "momssats", "momsats", "momsprocent",
     "vat rate", "vat percent", "tax rate", "sats"): ("line.vatCodeId",),
    ("kundeklasse", "kundklass", "kundegruppe", "kundgrupp", "customer class", "customer group"):
        ("customerClassId",),
    ("status", "kundestatus", "kundstatus"): ("status",),
    # address
    ("adresse", "adress", "address", "gateadresse", "gatuadress", "postadresse", "postadress", "street",
     "adresse 1", "adresse1", "adress 1", "address 1", "address line 1", "addressline1", "vej", "gade", "gate"):
        _on(_ADDRESS, "addressLine1"),
    ("adresse 2", "adresse2", "adress 2", "address 2", "address line 2", "co", "c/o"): _on(_ADDRESS, "addressLine2"),
    ("adresse 3", "adresse3", "adress 3", "address 3", "address line 3"): _on(_ADDRESS, "addressLine3"),
    ("postnr", "postnummer", "postkode", "post nr", "zip", "zip code", "zipcode", "postal code", "postcode",
     "post code"): _on(_ADDRESS, "postalCode"),
    ("poststed", "postort", "ort", "by", "sted", "city", "town", "bynavn"): _on(_ADDRESS, "city"),
    ("land", "landkode", "country", "country code", "countryid"): _on(_ADDRESS, "countryId"),
    ("fylke", "lan", "region", "amt", "county", "state"): _on(_ADDRESS, "county"),
    # contact
    ("epost", "e-post", "e-postadresse", "epostadresse", "e-mail", "email", "mail", "mailadresse",
     "e-postadress", "mejl"): _on(_CONTACT, "email"),
    ("telefon", "tlf", "tel", "telefonnr", "telefonnummer", "phone", "phone no", "telephone", "phone1"):
        _on(_CONTACT, "phone1"),
    ("mobil", "mobiltelefon", "mobilnr", "mobile", "cell", "phone2"): _on(_CONTACT, "phone2"),
    ("fax", "telefaks", "telefax"): _on(_CONTACT, "fax"),
    ("kontakt", "kontaktperson", "contact", "contact person", "attention", "att"): ("mainContact.name",),
    ("web", "hjemmeside", "hemsida", "hjemmeside url", "website", "www", "url"): ("mainContact.web",),
    ("fakturaepost", "faktura-e-post", "faktura e-post", "fakturamail", "invoice email", "invoice e-mail"):
        ("invoiceContact.email",),
    # money and terms
    ("kredittgrense", "kreditgrense", "kredittramme", "kreditgrans", "kreditgraense", "kreditgrænse",
     "kreditmaks", "kreditlimit", "credit limit", "creditlimit"): ("creditLimit",),
    ("valuta", "valutakode", "currency", "currency code", "curr"): ("currencyId",),
    ("betalingsbet", "betalingsbetingelser", "betalingsbetingelse", "betalingsvilkar", "betalingsfrist",
     "betalningsvillkor", "betalningsvilkor", "betalingsbetingelser dk", "payment terms", "terms",
     "credit terms"): ("creditTermsId",),
    ("valutakurs", "kurs", "exchange rate"): ("exchangeRate",),
    ("betalingsmate", "betalingsmetode", "betalingsform", "betalningssatt", "betalingsmade", "payment method"):
        ("paymentMethodId", "defaultPaymentMethod.paymentMethodId"),
    ("avdeling", "avdelingsnr", "filial", "afdeling", "branch", "branch no", "branch number"): ("branchNumber",),
    # documents
    ("dato", "datum", "date", "fakturadato", "fakturadatum", "bilagsdato", "bilagsdatum", "dokumentdato",
     "invoice date", "document date", "brevdato", "dunning date"): ("documentDate", "dunningLetterDate"),
    ("forfall", "forfallsdato", "forfallodatum", "forfaldsdato", "forfaldsdag", "forfaldsdatum", "due date",
     "due", "duedate"): ("documentDueDate",),
    ("periode", "period", "regnskapsperiode", "financial period"): ("financialPeriod",),
    ("bokforingsperiode", "posteringsperiode", "post period", "posting period"): ("postPeriod",),
    ("deres ref", "deres referanse", "er ref", "er referens", "jeres ref", "your ref", "your reference",
     "kundens ref", "customer ref", "customer reference", "ref", "referanse", "referens", "reference"):
        ("customerRefNumber",),
    ("tekst", "text", "fakturatekst", "fakturatext", "invoice text", "overskrift", "note", "notat", "merknad",
     "anteckning", "bemerkning", "bemaerkning"): ("invoiceText", "note"),
    ("prosjekt", "projekt", "project"): ("project",),
    ("eksternref", "ekstern ref", "extern ref", "external reference"): ("externalReference",),
    # lines
    ("varenr", "varenummer", "vare", "artikkelnr", "artikelnr", "artikelnummer", "artnr", "produktnr",
     "item", "item no", "item number", "sku", "product no"): ("line.inventoryNumber",),
    ("beskrivelse", "beskrivning", "varetekst", "varenavn", "benamning", "description", "line text",
     "linjetekst", "radtext", "radtekst", "linjebeskrivelse", "line description", "item text",
     "fakturalinjetekst"): ("line.description",),
    ("antall", "antal", "mengde", "mangd", "kvantum", "quantity", "qty"): ("line.quantity",),
    ("enhet", "enhed", "unit", "uom", "unit of measure"): ("line.uom",),
    ("pris", "a-pris", "a pris", "apris", "enhetspris", "styckpris", "stykpris", "enhedspris", "price",
     "unit price", "belop", "belopp", "belob", "amount", "sum"): ("line.unitPriceInCurrency",),
    ("rabatt", "rabatt %", "rabattprosent", "rabatt i %", "rabat", "rabatprocent", "discount", "discount %",
     "discount percent"): ("line.discountPercent",),
    ("rabattbelop", "rabattbelopp", "rabatbelob", "discount amount"): ("line.discountAmountInCurrency",),
    ("konto", "kontonr", "account", "sales account", "inntektskonto", "intaktskonto"): ("line.accountNumber",),
    ("selger", "saljare", "saelger", "salesperson", "sales person"): ("salesperson", "line.salesperson"),
    ("nivå fra", "niva fra", "fra nivå", "fra niva", "från nivå", "fran niva", "fra niveau", "niveau fra",
     "fra trinn", "fra purretrinn", "fra rykkertrinn", "fra purrenivå", "från påminnelsenivå", "from level",
     "level from", "dunning level from"): ("levelFrom",),
    ("nivå til", "niva til", "til nivå", "til niva", "till nivå", "till niva", "til niveau", "niveau til",
     "til trinn", "til purretrinn", "til rykkertrinn", "til purrenivå", "till påminnelsenivå", "to level",
     "level to", "dunning level to"): ("levelTo",),
}

HEADERS: dict[str, tuple[str, ...]] = {normalise(h): columns for written, columns in _WRITTEN.items() for h in written}

# Headers of what the API's creates have no column for: named, so they are never matched by a part
# of their name (``Gjelder faktura`` is not the credit note's own ``referenceNumber``), and said why.
_APPLIES_TO = ("the invoice a credit note applies to: the API's create takes no such column (a credit note is "
               "applied to its invoice in the ERP); map it to note or externalReference to keep it on the document")
_NOT_SENT_WRITTEN: dict[tuple[str, ...], str] = {
    ("gjelder faktura", "gjelder", "gjelder fakturanr", "gjeld faktura", "gjelder bilag", "kreditert faktura",
     "krediterer faktura", "opprinnelig faktura", "original faktura", "gäller faktura", "avser faktura",
     "ursprungsfaktura", "krediterad faktura", "vedrører faktura", "vedr faktura", "vedrorer faktura",
     "oprindelig faktura", "krediteret faktura", "applies to", "applies to invoice", "applied to",
     "original invoice", "orig invoice", "credited invoice", "invoice credited"): _APPLIES_TO,
}
NOT_SENT: dict[str, str] = {normalise(h): why for written, why in _NOT_SENT_WRITTEN.items() for h in written}

# Country names in the Nordic languages and English -> ISO 3166 codes, for countryId columns.
_COUNTRIES_WRITTEN: dict[str, tuple[str, ...]] = {
    "NO": ("norge", "noreg", "norway", "norwegen"),
    "SE": ("sverige", "sverike", "sweden", "schweden"),
    "DK": ("danmark", "denmark", "dänemark"),
    "FI": ("finland", "suomi", "finnland"),
    "IS": ("island", "iceland", "ísland"),
    "DE": ("tyskland", "germany", "deutschland"),
    "GB": ("storbritannia", "storbritannien", "england", "united kingdom", "uk", "great britain"),
    "NL": ("nederland", "nederländerna", "holland", "netherlands"),
    "PL": ("polen", "poland"),
    "FR": ("frankrike", "frankrig", "france"),
    "ES": ("spania", "spanien", "spain"),
    "US": ("usa", "united states", "amerika"),
    "EE": ("estland", "estonia"),
    "LT": ("litauen", "lithuania"),
    "LV": ("latvia", "lettland", "letland"),
}
COUNTRIES: dict[str, str] = {normalise(name): code for code, names in _COUNTRIES_WRITTEN.items() for name in names}

# Words legacy systems use for the API's enum values, by the API's value (normalised keys).
_ENUM_WRITTEN: dict[str, tuple[str, ...]] = {
    "Active": ("aktiv", "aktiva", "active", "apen", "open"),
    "Inactive": ("inaktiv", "inactive", "passiv", "avsluttet", "nedlagt"),
    "OnHold": ("sperret", "sperra", "sparrad", "spaerret", "on hold", "hold", "blokkert", "stoppet"),
    "CreditHold": ("kredittstopp", "kreditstopp", "kreditsparr", "kreditspaerre", "credit hold", "credit stop"),
    "OneTime": ("engangskunde", "engangskund", "engångskund", "one time", "onetime"),
    "Service": ("tjeneste", "tjanst", "tjeneste", "service"),
}
ENUM_WORDS: dict[str, str] = {normalise(word): value for value, words in _ENUM_WRITTEN.items() for word in words}

# Boolean words the importer's own reader does not know (it reads ja/nei, yes/no, 1/0).
BOOLEAN_WORDS: dict[str, bool] = {"nej": False, "sant": True, "falskt": False, "x": True, "sand": True, "falsk": False}


@dataclass(slots=True)
class ValueSuggestion:
    api: str
    source: str
    mapped: dict[str, Any] = field(default_factory=dict)  # source value -> API value
    todo: list[str] = field(default_factory=list)  # source values with no API value found
    hint: str = ""  # what the API value should be
    notes: dict[str, str] = field(default_factory=dict)  # source value -> why it maps so, or what to pick from


def suggest_values(api: str, source: str, field_: Any, values: list[str]) -> ValueSuggestion | None:
    """A value map for ``values`` where the API would not take them as written."""
    distinct: dict[str, str] = {}
    for v in values:
        distinct.setdefault(v.strip().casefold(), v.strip())
    if not distinct or len(distinct) > DISTINCT_CAP:
        return None
    suggestion = ValueSuggestion(api, source)
    leaf = api.rsplit(".", 1)[-1]
    if field_.enum:
        allowed = {a.casefold() for a in field_.enum}
        suggestion.hint = "one of " + ", ".join(field_.enum)
        for folded, shown in distinct.items():
            word = ENUM_WORDS.get(normalise(shown))
            if folded in allowed:
                continue
            if word in field_.enum:
                suggestion.mapped[shown] = word
            else:
                suggestion.todo.append(shown)
    elif leaf == "countryId":
        suggestion.hint = "a two-letter ISO 3166 code (NO, SE, DK)"
        for shown in distinct.values():
            if len(shown) == 2 and shown.isalpha():
                continue
            code = COUNTRIES.get(normalise(shown))
            if code:
                suggestion.mapped[shown] = code
            else:
                suggestion.todo.append(shown)
    elif field_.type == "boolean":
        suggestion.hint = "true or false"
        for shown in distinct.values():
            try:
                parse_bool(shown)
            except RecordError:
                truth = BOOLEAN_WORDS.get(shown.casefold())
                if truth is None:
                    suggestion.todo.append(shown)
                else:
                    suggestion.mapped[shown] = truth
    elif leaf == "vatCodeId" and all(v.replace(",", "").replace(".", "").isdigit() for v in distinct.values()):
        # Rates (25, 15) rather than codes: only the company's own VAT setup can say which.
        suggestion.hint = "the company's VAT code id for this rate (map init --company FILE proposes them)"
        suggestion.todo.extend(distinct.values())
    return suggestion if suggestion.mapped or suggestion.todo else None
