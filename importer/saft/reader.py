"""Streaming a SAF-T Financial file into the model's records, in document order.

The file is fed in chunks to expat, which reports each element's line. Only the elements
the schema facts list are looked at; everything else is skipped as it streams past (the
parser's handlers then only count the elements inside it), and a GL account, Customer, GL
Line, sales Invoice or payment Line is dropped from memory as soon as its record is built,
so memory stays flat for a file of any size. A GL line naming no customer is read only when
it is on an account a customer's balance names (the subledger check needs those): its amounts
are skipped once the line has given its AccountID and no CustomerID (the schema puts both first).
``SourceDocuments`` are read only when asked for (``events(documents=True)``): the balances
do not need them. Nor do they need a customer's address, contact, tax registration or party
info: the balances' pass (``events(purpose="balances")``) skips those as it skips any unread
element, so a customer costs it its id, Name and balances only; and with the documents, an
invoice its number, customer, date and amounts (``invoice_records.INVOICE_TEXTS`` are left for the second
pass, ``purpose="invoices"``, which reads the sales invoices and nothing else). A DOCTYPE is refused
outright: SAF-T has none, and its entities (billion laughs, external files) are the classic
ways an XML file hangs or leaks a reader.

An element's text is held only up to ``max_field_size`` bytes (``--max-field-size``, 1 MiB
by default), as a CSV field is: past it the reader stops keeping the text and skips the rest
as it streams past, so one giant element (or a small ``.xml.gz`` that inflates to one) costs
no more memory than the limit. Such an element makes its record invalid, naming the element,
its line and the limit; in the Header, which the whole file depends on, it stops the run.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal
from xml.parsers import expat

from importer.errors import SourceError
from importer.saft._schema import SCHEMAS
from importer.saft.detect import NAMESPACE, ROOT, open_bytes, schema_for
from importer.saft.facts import FieldFact
from importer.saft.invoice_records import INVOICE_TEXTS, build_invoice, build_settlement
from importer.saft.model import SaftCustomer, SaftEvent, SaftHeader
from importer.saft.records import Flaw, Node, build_account, build_customer, build_header, build_movement
from importer.saft.values import BadValue, Converter, converter
from importer.sources import SourceOptions

__all__ = ["SaftFile", "open_saft", "DEFAULT_MAX_FIELD_SIZE", "Purpose"]

_CHUNK = 1 << 16
DEFAULT_MAX_FIELD_SIZE = SourceOptions.max_field_size  # bytes of one element's text, as ``--max-field-size``
_HEADER = "Header"
_ACCOUNT = "MasterFiles/GeneralLedgerAccounts/Account"
_CUSTOMER = "MasterFiles/Customers/Customer"
_LINE = "GeneralLedgerEntries/Journal/Transaction/Line"
_INVOICE = "SourceDocuments/SalesInvoices/Invoice"
_PAYMENT_LINE = "SourceDocuments/Payments/Payment/Line"
_DOCUMENTS = "SourceDocuments"
# path -> name problems use
_RECORDS = {_HEADER: "Header", _ACCOUNT: "Account", _CUSTOMER: "Customer", _LINE: "Line", _INVOICE: "Invoice", _PAYMENT_LINE: "Line"}
# Before AuditFileVersion is read, the Header is read with the facts every version shares.
_FIRST_FACTS = next(iter(SCHEMAS.values())).fields
_ROOT = "AuditFile"
_VERSION = "Header/AuditFileVersion"
_LINE_AMOUNTS = frozenset(f"{_LINE}/{side}" for side in ("DebitAmount", "CreditAmount"))
_LINE_CUSTOMER = f"{_LINE}/CustomerID"
Purpose = Literal["all", "balances", "invoices"]
# What a pass leaves unread, beyond what the schema facts leave out. The balances (and the
# open items' first pass) use of a customer only its id, its balances and its Name (read so
# that a Name the schema does not allow keeps the customer a problem, as in every pass), and
# of an invoice what its gross total needs. The open items' second pass (``invoices``) reads
# the sales invoices alone: the customers, the ledger and the payments were the first's.
_SKIPS: dict[str, frozenset[str]] = {
    "all": frozenset(),
    "balances": frozenset(f"{_CUSTOMER}/{name}" for name in
                          ("RegistrationNumber", "Address", "Contact", "TaxRegistration", "PartyInfo"))
                | frozenset(f"{_INVOICE}{path.removeprefix('Invoice')}" for path in INVOICE_TEXTS),
    "invoices": frozenset(("MasterFiles", "GeneralLedgerEntries", "SourceDocuments/Payments")),
}


class _Open:
    """An element the reader reads, as met below its parent: resolved once, then reused."""

    __slots__ = ("path", "local", "fact", "group", "record", "convert", "version", "amounts", "claims", "children")

    def __init__(self, path: str, local: str, fact: FieldFact) -> None:
        self.path = path
        self.local = local
        self.fact = fact
        self.group = fact.kind == "group"
        self.record = path in _RECORDS  # a record's own element: its Node collects the rest
        self.convert: Converter | None = None if self.group else converter(fact)
        self.version = path == _VERSION
        self.amounts = path in _LINE_AMOUNTS  # a GL line's amounts: read only if the line is a customer's
        self.claims = path == _LINE_CUSTOMER
        self.children: dict[str, _Open | None] = {}  # expat name -> what it is (None: not read)


_UNSEEN = _Open("", "", FieldFact("group"))  # what a parent's ``children`` gives for an element not met before
# An element not read that has had no children: met again, it only goes on the path, and off it at its end,
# without the handlers swapped in and out (most elements not read are such leaves: a line's texts, its tax codes).
_LEAF = _Open("", "", FieldFact("string"))


class _Stream:
    """One pass over the file: expat callbacks collect records, ``pull`` hands them out."""

    def __init__(self, path: Path, documents: bool = False, max_field_size: int = DEFAULT_MAX_FIELD_SIZE,
                 purpose: Purpose = "all") -> None:
        self.where = path.name
        self.documents = documents
        self.skip = _SKIPS[purpose]
        self.limit = max_field_size
        self.file: BinaryIO = open_bytes(path)
        self.fields: dict[str, FieldFact] = _FIRST_FACTS
        self.balances_in_accounts = False
        self.schema = ""
        self.header: SaftHeader | None = None
        self.receivables: set[str] = set()  # the accounts the customers' balances name
        self.ready: list[SaftEvent] = []
        self.root = _Open("", _ROOT, FieldFact("group"))
        self.path: list[_Open] = []  # the open elements we read
        self.skipping = 0  # depth inside an element we do not read (then only _skip_start and _skip_end run)
        self.skipped: tuple[_Open, str] | None = None  # that element's parent and name, while it may be a leaf
        self.depth = 0
        self.nodes: list[Node] = []  # open groups inside the current record
        self.text: list[str] = []
        self.text_size = 0  # characters of the open element's text, kept or not
        self.leaf_line = 0
        self.unread_amounts = False  # the GL line being read had its amounts skipped: it named no one until then
        self.finished = False
        self.parser = self._parser()

    def _parser(self) -> expat.XMLParserType:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_doctype
        return parser

    def close(self) -> None:
        self.file.close()

    # -- expat callbacks -------------------------------------------------------------------

    def _refuse_doctype(self, *_args: object) -> None:
        raise SourceError(f"{self.where}: line {self.parser.CurrentLineNumber} has a document type declaration "
                          "(DOCTYPE); SAF-T files have none and it is not read, so its entities cannot expand")

    def _start(self, name: str, _attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth <= 2:
            self._check_top(name)
            if self.depth == 1:
                return
        parent = self.path[-1] if self.path else self.root
        known = parent.children.get(name, _UNSEEN)
        if known is _UNSEEN:
            known = self._resolve(parent, name)
        if known is _LEAF:
            self.path.append(known)
            return
        if known is None:
            self.skipped = (parent, name)
        elif known.amounts and self._nobodys_line():
            self.unread_amounts, self.skipped, known = True, None, None
        if known is None:  # not read: until it ends, the parser only counts the elements inside it
            self.skipping = 1
            self.parser.StartElementHandler = self._skip_start
            self.parser.EndElementHandler = self._skip_end
            return
        self.path.append(known)
        if not known.group:
            self.text = []
            self.text_size = 0
            self.leaf_line = self.parser.CurrentLineNumber
            if self.nodes:  # text outside a record is not used: not even collected
                self.parser.CharacterDataHandler = self._text
            return
        node = Node(known.local, self.parser.CurrentLineNumber)
        if known.record:
            node.flaws = []
            self.nodes = [node]
            self.unread_amounts = False
        elif self.nodes:
            self.nodes[-1].children.setdefault(known.local, []).append(node)
            self.nodes.append(node)

    def _nobodys_line(self) -> bool:
        """Whether the GL line being read names no customer and is on no customer's account (so far)."""
        values = self.nodes[0].values
        return "CustomerID" not in values and values.get("AccountID") not in self.receivables

    def _skip_start(self, _name: str, _attrs: dict[str, str]) -> None:
        self.skipping += 1
        self.skipped = None  # it has children: not a leaf

    def _skip_end(self, _name: str) -> None:
        self.skipping -= 1
        if not self.skipping:  # the element not read has ended
            if self.skipped is not None:  # a leaf: from now on it costs no handler swaps
                self.skipped[0].children[self.skipped[1]] = _LEAF
            self.depth -= 1
            self.parser.StartElementHandler = self._start
            self.parser.EndElementHandler = self._end

    def _text(self, data: str) -> None:
        """Collect an element's text up to the limit; past it, only count it (and drop what was kept)."""
        self.text_size += len(data)
        if self.text_size <= self.limit:
            self.text.append(data)
        elif self.text:
            self.text = []

    def _resolve(self, parent: _Open, name: str) -> _Open | None:
        """The path and facts of an element met below ``parent``; cached, as the same few recur."""
        if parent is _LEAF:  # below an element taken for a leaf: not read either
            return _LEAF
        local = name.rpartition(" ")[2]
        path = f"{parent.path}/{local}" if parent.path else local
        fact = self.fields.get(path)
        if (path == _DOCUMENTS and not self.documents) or path in self.skip:
            fact = None
        known = _Open(path, local, fact) if fact is not None else None
        parent.children[name] = known
        return known

    def _end(self, _name: str) -> None:
        self.depth -= 1
        if not self.path:
            return  # the root
        known = self.path.pop()
        if known is _LEAF:
            return
        if known.group:
            if known.record:
                self._record(known.path, self.nodes[0])
                self.nodes = []
            elif self.nodes:
                self.nodes.pop()
            return
        if not self.nodes:
            return  # text outside a record: not collected
        self.parser.CharacterDataHandler = None
        text = self.text[0] if len(self.text) == 1 else "".join(self.text)
        size = self.text_size  # characters: bytes only where they could differ past the limit
        if size > self.limit >> 2:
            if size <= self.limit:
                size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.limit:
                self._flaw(known.path, f"is at least {size:,} bytes long, more than --max-field-size "
                                       f"({self.limit:,} bytes); its text was not kept")
                return
        try:
            value = known.convert(text)  # type: ignore[misc]
        except BadValue as exc:
            self._flaw(known.path, str(exc))
            return
        if known.claims and self.unread_amounts:  # the schema has it first: so the line's amounts were not read
            self._flaw(known.path, "comes after the line's DebitAmount or CreditAmount, which the schema puts "
                                   "after it, so they were not read")
        if known.version and isinstance(value, str):
            self._use_version(value)
        values = self.nodes[-1].values
        if known.local not in values:  # a single element written twice keeps its first value
            values[known.local] = value

    def _flaw(self, path: str, message: str) -> None:
        """What is wrong with a value of the record being read, at the leaf's line."""
        record = self.nodes[0]
        assert record.flaws is not None
        relative = path[path.index(record.name + "/"):] if record.name != "Header" else path
        record.flaws.append(Flaw(relative, self.leaf_line, message))

    def _use_version(self, version: str) -> None:
        facts = schema_for(version, f"{self.where} line {self.leaf_line}")
        self.fields = facts.fields
        for known in (self.root, *self.path):  # what is met from now on is resolved with these facts
            known.children.clear()
        self.balances_in_accounts = f"{_CUSTOMER}/BalanceAccount" in facts.fields
        self.schema = facts.schema

    def _record(self, path: str, node: Node) -> None:
        if path == _HEADER:
            if not self.schema:
                raise SourceError(f"{self.where}: Header at line {node.line} has no AuditFileVersion")
            self.header = build_header(node, self.schema, self.where)
        elif path == _CUSTOMER:
            built = build_customer(node, self.balances_in_accounts)
            for event in built:
                if isinstance(event, SaftCustomer):
                    self.receivables.update(b.account_id for b in event.balances if b.account_id)
            self.ready.extend(built)
        elif path == _ACCOUNT:
            account = build_account(node)
            if account is not None:
                self.ready.append(account)
        elif path == _INVOICE:
            self.ready.extend(build_invoice(node))
        elif path == _PAYMENT_LINE:
            settlement = build_settlement(node)
            if settlement is not None:
                self.ready.append(settlement)
        else:
            movement = build_movement(node, self.receivables)
            if movement is not None:
                self.ready.append(movement)

    def _check_top(self, name: str) -> None:
        if self.depth == 2:
            if self.header is None and not name.endswith(" " + _HEADER):
                raise SourceError(f"{self.where}: <{name.rpartition(' ')[2]}> at line {self.parser.CurrentLineNumber} "
                                  "comes before the Header, which a SAF-T file starts with")
            return
        if name == ROOT:
            return
        namespace, _, local = name.rpartition(" ")
        found = f"<{local}> in namespace {namespace}" if namespace else f"<{local}> without a namespace"
        raise SourceError(f"{self.where}: is not a SAF-T Financial file: its root element is {found}, "
                          f"not <AuditFile> in {NAMESPACE}")

    # -- feeding -----------------------------------------------------------------------------

    def feed(self) -> bool:
        """Parse one more chunk; False once the document has ended."""
        if self.finished:
            return False
        try:
            chunk = self.file.read(_CHUNK)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise SourceError(f"{self.where}: the gzip data breaks off ({exc}) near line "
                              f"{self.parser.CurrentLineNumber}") from None
        except OSError as exc:
            raise SourceError(f"{self.where}: cannot be read on ({exc.strerror or exc})") from None
        try:
            self.parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            raise self._broken(exc) from None
        if not chunk:
            self.finished = True
        return not self.finished

    def _broken(self, exc: expat.ExpatError) -> SourceError:
        reason = expat.errors.messages.get(exc.code, str(exc))
        if self.depth == 0 and self.header is None and not self.path:
            return SourceError(f"{self.where}: is not XML ({reason} at line {exc.lineno})")
        return SourceError(f"{self.where}: the XML breaks at line {exc.lineno}, column {exc.offset + 1}: {reason}")

    def read_header(self) -> SaftHeader:
        while self.header is None:
            if not self.feed():
                raise SourceError(f"{self.where}: has no Header")
        return self.header

    def events(self) -> Iterator[SaftEvent]:
        while True:
            if self.ready:
                ready, self.ready = self.ready, []
                yield from ready
            if not self.feed() and not self.ready:
                return


class SaftFile:
    """An open SAF-T file: its ``header``, and its customers, movements and problems from ``events()``.

    Use it as a context manager (or call ``close``). Each call of ``events()`` reads the
    file from its start again, so it can be walked more than once; ``events(documents=True)``
    also gives the sales invoices and their settlements from ``SourceDocuments``, and
    ``events(purpose="balances")`` reads of each customer only what its balances need (see the module).
    ``max_field_size``: the most bytes of one element's text that are kept (see the module).
    """

    def __init__(self, path: Path, max_field_size: int = DEFAULT_MAX_FIELD_SIZE) -> None:
        self.path = path
        self.max_field_size = max_field_size
        self._stream: _Stream | None = _Stream(path, max_field_size=max_field_size)
        try:
            self.header: SaftHeader = self._stream.read_header()
        except BaseException:
            self._stream.close()
            raise

    def events(self, documents: bool = False, purpose: Purpose = "all") -> Iterator[SaftEvent]:
        stream, self._stream = self._stream, None
        if stream is not None and (documents or purpose != "all"):  # the first chunk may have gone past them
            stream.close()
            stream = None
        if stream is None:
            stream = _Stream(self.path, documents, self.max_field_size, purpose)
            stream.read_header()
        try:
            yield from stream.events()
        finally:
            stream.close()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> SaftFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_saft(path: Path | str, max_field_size: int = DEFAULT_MAX_FIELD_SIZE) -> SaftFile:
    """Open a SAF-T Financial file (plain or gzip) and read its Header; raises ``SourceError`` if it is not one."""
    return SaftFile(Path(path), max_field_size)
