"""The fleet manifest is checked whole before anything is sent; each error names the company and key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from importer.errors import ConfigError
from importer.plans.fleet import CompanyRun
from importer.plans.manifest import load_manifest, select
from importer.plans.progress import company_row
from importer.summary import Summary

ENV = {"ID": "client-1", "SECRET": "s3cret-value-x9", "TOKEN": "tok-value-y8"}


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "c.csv").write_text("number,name\n1,A\n")
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


STEP = '[[company.step]]\ninput = "c.csv"\nentity = "customer"\n'
PAIR = 'client_id_env = "ID"\nclient_secret_env = "SECRET"\n'


def one(body: str, *, step: str = STEP, name: str = "acme") -> str:
    return f'[[company]]\nname = "{name}"\ntenant_id = "42"\n{body}{step}\n'


@pytest.mark.parametrize(("text", "message"), [
    ("", "no [[company]] tables"),
    ("[[company]]\ntenant_id = '1'\n" + PAIR + STEP, "company #1: name is required"),
    (one(PAIR) + one(PAIR), "two companies are named 'acme'"),
    (one(PAIR + "colour = 'red'\n"), "company 'acme': unknown key 'colour'"),
    (one('client_id_env = "ID"\nclient_secret = "hunter2"\n'), "company 'acme': client_secret does not belong"),
    (one('token = "abc"\n'), "company 'acme': token does not belong here; name the variable"),
    (one(""), "company 'acme': credentials: give client_id_env and client_secret_env"),
    (one(PAIR + 'token_env = "TOKEN"\n'), "exactly one of these"),
    (one('client_id_env = "ID"\n'), "exactly one of these"),
    (one('client_id_env = "ID"\nclient_secret_env = "NOT_SET"\n'),
     "company 'acme': client_secret_env: the environment variable NOT_SET is not set"),
    (one(PAIR, step=""), "give either plan"),
    (one(PAIR + 'plan = "p.toml"\n'), "not both"),
    (one(PAIR + 'plan = "missing.toml"\n', step=""), "company 'acme': plan file not found"),
    (one(PAIR, step='[[company.step]]\ninput = "gone.csv"\nentity = "customer"\n'),
     "company 'acme' step 'step 1': input"),
    (one(PAIR, step=STEP + 'base_url = "http://elsewhere"\n'), "base_url does not belong here"),
    (one(PAIR, step=STEP + 'results = "x.ndjson"\n'), "results does not belong here"),
    (one(PAIR + "concurrency = 0\n"), "company 'acme': --concurrency must be at least 1"),
    (one(PAIR + 'concurrency = "many"\n'), "company 'acme': a value has the wrong type"),
    ("[defaults]\nclient_secret = 'x'\n" + one(PAIR), "[defaults]: client_secret does not belong"),
    (one(PAIR, name="a/b"), "name is required"),
    (one(PAIR + 'results_dir = "shared"\n') + one(PAIR + 'results_dir = "shared"\n', name="other"),
     "companies 'acme' and 'other' would share the results folder"),
])
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_manifest(write(tmp_path, text), environ=ENV)
    assert message in str(caught.value)
    assert ENV["SECRET"] not in str(caught.value) and "hunter2" not in str(caught.value)


def test_a_company_plan_file_may_not_choose_where_it_sends(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[[step]]\ninput = "c.csv"\nentity = "customer"\nbase_url = "http://x"\n')
    with pytest.raises(ConfigError, match="company 'acme': .*p.toml step 'step 1': base_url does not belong"):
        load_manifest(write(tmp_path, one(PAIR + 'plan = "p.toml"\n', step="")), environ=ENV)


def test_secrets_file_only_its_owner_may_read(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[acme]\nclient_id = "id-1"\nclient_secret = "from-file-z7"\n')
    secrets.chmod(0o644)
    path = write(tmp_path, one('secrets_file = "secrets.toml"\n'))
    with pytest.raises(ConfigError, match="group or others may read or write it.*chmod 600"):
        load_manifest(path, environ={})
    secrets.chmod(0o600)
    (company,) = load_manifest(path, environ={}).companies
    connection = company.connection({})
    assert connection["client_id"] == "id-1" and connection["client_secret"] == "from-file-z7"
    assert connection["tenant_id"] == "42"
    assert "from-file-z7" not in repr(company)  # credentials are never shown
    secrets.write_text('client_id = "id-1"\n')
    with pytest.raises(ConfigError, match="holds neither token nor client_id and client_secret"):
        load_manifest(path, environ={})
    secrets.write_text('client_secret = "broken-line-secret\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(path, environ={})
    assert "broken-line-secret" not in str(caught.value)  # a parse error may quote the line


def test_options_layer_from_defaults_to_company_to_step(tmp_path: Path) -> None:
    text = ('[defaults]\nconcurrency = 3\nrelease = false\nbase_url = "http://fleet-default"\n'
            + one(PAIR + 'fsync = true\nbase_url = "http://acme-api"\n', step=STEP + "concurrency = 1\n")
            + one('token_env = "TOKEN"\n', name="globex"))
    manifest = load_manifest(write(tmp_path, text), environ=ENV)
    acme, globex = manifest.companies
    assert acme.plan.steps[0].options["concurrency"] == 1 and acme.plan.steps[0].options["fsync"] is True
    assert globex.plan.steps[0].options["concurrency"] == 3
    assert acme.connection(ENV)["base_url"] == "http://acme-api"
    assert globex.connection(ENV) | {} == {"token": "tok-value-y8", "client_id": None, "client_secret": None,
                                          "tenant_id": "42", "base_url": "http://fleet-default"}
    assert acme.results_dir == str(tmp_path / "results" / "acme")
    rehearsal = acme.connection(ENV, sandbox="http://127.0.0.1:9")
    assert rehearsal["token_url"] == "http://127.0.0.1:9/connect/token" and rehearsal["tenant_id"] == "42"
    assert [c.name for c in select(manifest, "globex").companies] == ["globex"]
    assert [c.name for c in select(manifest, ["globex", "acme"]).companies] == ["acme", "globex"]
    with pytest.raises(ConfigError, match="no company 'initech'"):
        select(manifest, "acme,initech")


def test_progress_row_counts_its_steps(tmp_path: Path) -> None:
    (company,) = load_manifest(write(tmp_path, one(PAIR)), environ=ENV).companies
    run = CompanyRun(company, state="running", started_at=time.monotonic() - 2.0)
    summary = Summary("customer", "create", "c.csv", None)
    for outcome in ["created"] * 7 + ["invalid"] * 2:
        summary.read(1)
        summary.finish(outcome, 1)
    run.watch(company.plan.steps[0], summary)
    name, now, done, ok, bad, rate, *_ = company_row(run)
    assert (name, now, done, ok, bad) == ("acme", "1/1 step 1", "9", "7", "2")
    assert 3.0 < float(rate) < 5.0
    run.state, run.error, run.error_code = "failed", "the token endpoint refused", 2
    assert company_row(run)[1] == "failed: the token endpoint refused" and run.exit_code == 2
