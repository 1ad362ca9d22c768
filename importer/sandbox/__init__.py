"""A local simulation of the Visma.net ERP customer-ledger API, for rehearsals and tests.

``serve(config)`` runs it on a real socket; ``create_app(config)`` gives the bare aiohttp
application; ``python -m importer.sandbox`` (or ``importer sandbox``) runs it in a process
of its own. It simulates, against the generated schema tables in ``importer.schema``:

- POST/PUT/GET on customer, customerinvoice, customerCreditNote, customerDebitNote (paths
  case-insensitive, keys plain or ``b64(...)``), list GETs with the API's filters and
  page-number pagination, the release and createDunningLetter actions, the V2 document
  creates (``POST /v2/customerinvoice`` ...; numbering.py), and the background API
  (``erp-api-background`` -> 202, ``/v1/background/{id}[/content]``);
- with a company (``SandboxConfig.company``): VAT per line and the document totals it
  makes (vat.py), and numbers given by the company's number series (numbering.py);
- strict request validation with the API's error shapes, naming the offending field;
- a company behind the API (``SandboxConfig.company``, by default the built-in demo
  company): every reference in a write checked against it and refused as the live API
  refuses it, documents only in open periods, periods and due dates derived when left
  out (``references.py``, ``derived.py``);
- OAuth2 client credentials at ``/connect/token`` plus a static token, with each token's
  scopes enforced (a read-only token reads; its writes are answered 403);
- many companies at once: each tenant (a token's ``tenant_id``; the static token's is
  ``sandbox``) has its own records and auto-numbers, as separate companies do live;
- a fixed-window rate limit per client and company with ``X-RateLimit-*`` headers and 429s;
- seeded faults (500, 502, 503, connection reset, slow, store-then-fail) and latency;
- two profiles: ``standard`` (the OpenAPI document) and ``live`` (plus what integrators
  report of the live API: error bodies of every shape, 500 for some failed POSTs, a
  ``Location`` on another host, a failed write refused a third time in five minutes, ...);
- state in memory or in SQLite (``state_path``), and ``/sandbox/stats``,
  ``/sandbox/records/{entity}[?tenant=NAME]`` (the stored shape), ``POST /sandbox/reset``
  for inspection, behind a bearer token;
- a guard for a server left running: Host and Origin checks (no DNS rebinding, no web
  page driving it), 413 for oversized bodies, 408 for bodies that trickle in.

GETs answer the response DTOs as the OpenAPI document types them (date-times as date-times,
a field without a value left out); see each module for the details of its part.
"""

from typing import TYPE_CHECKING

from importer.lazy import lazy_exports

if TYPE_CHECKING:
    from importer.sandbox.app import create_app
    from importer.sandbox.cli import main, run
    from importer.sandbox.config import SandboxConfig
    from importer.sandbox.flags import add_arguments
    from importer.sandbox.server import RunningSandbox, serve

__all__ = ["SandboxConfig", "create_app", "serve", "RunningSandbox", "add_arguments", "run", "main"]

# Imported when first used: the command line's parser reads add_arguments without
# starting up the server's modules (aiohttp.web and the ledger).
__getattr__, __dir__ = lazy_exports(globals(), {
    "create_app": "importer.sandbox.app", "add_arguments": "importer.sandbox.flags",
    "main": "importer.sandbox.cli", "run": "importer.sandbox.cli", "SandboxConfig": "importer.sandbox.config",
    "RunningSandbox": "importer.sandbox.server", "serve": "importer.sandbox.server",
})
