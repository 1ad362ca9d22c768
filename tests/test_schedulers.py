"""The scheduler recipes of docs/schedulers/, as a scheduler would take them: the Kubernetes Jobs
read as a cluster reads them, their command lines parsed by the importer's own parser; the cron
line run as printed, twice (the rerun sends nothing again); the Airflow task's function called
against a sandbox (Airflow itself is not installed: the function is what its ``@task`` wraps)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from importer.cli.parser import build_parser
from importer.options import Behaviour
from tests.support.runs import ROOT, TOKEN, get_json

pytestmark = pytest.mark.one_profile  # the recipes are the importer's, whatever the API's quirks

RECIPES = ROOT / "docs" / "schedulers"


def _customers(path: Path, count: int) -> None:
    path.write_text("number,name\n" + "".join(f"{n},Kunde {n}\n" for n in range(1, count + 1)), encoding="utf-8")


def test_each_kubernetes_job_runs_one_company_and_its_grace_fits_the_pods():
    yaml = pytest.importorskip("yaml", reason="PyYAML (the test extra) reads the Job recipe")
    jobs = [doc for doc in yaml.safe_load_all((RECIPES / "importer-jobs.yaml").read_text()) if doc]
    assert len(jobs) >= 2 and {job["kind"] for job in jobs} == {"Job"}
    companies = []
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        argv = [*container["command"], *container["args"]]
        assert argv[0] == "importer"
        args = build_parser().parse_args(argv[1:])  # the importer's own parser: SystemExit if it refuses
        assert args.command == "fleet" and args.resume  # a retried pod sends only what is not done
        assert args.only and "," not in args.only  # one company per pod
        assert job["metadata"]["labels"]["company"] == args.only
        companies.append(args.only)
        # SIGTERM, then SIGKILL after the pod's grace period: the requests' grace, and time to write after it.
        grace = args.grace if args.grace is not None else Behaviour.grace
        assert pod["terminationGracePeriodSeconds"] >= grace + 10
        assert pod["restartPolicy"] == "Never"  # as podFailurePolicy needs
        failing = [rule for rule in job["spec"]["podFailurePolicy"]["rules"] if rule["action"] == "FailJob"]
        assert failing[0]["onExitCodes"]["values"] == [1, 2]  # 130 (stopped) is retried and resumed
        mounts = [m["mountPath"] for m in container["volumeMounts"]]
        for path in (args.results_dir, args.metrics_file, args.summary_json):
            assert any(path.startswith(mount + "/") for mount in mounts), path  # kept where the next pod finds it
        assert f"/{args.only}." in args.metrics_file and f"/{args.only}." in args.summary_json
    assert len(set(companies)) == len(companies)


def _cron_job(text: str) -> tuple[dict[str, str], str]:
    """The crontab's environment lines and its one job's command."""
    env, jobs = {}, []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if sep and " " not in name:
            env[name] = value
        else:
            jobs.append(line.split(None, 5))
    (job,) = jobs
    assert len(job) == 6, job  # five times and the command
    return env, job[5]


async def test_the_cron_line_runs_as_printed_and_a_rerun_sends_nothing_again(sandbox, tmp_path):
    env, command = _cron_job((RECIPES / "importer.cron").read_text())
    folder = tmp_path / "import"
    folder.mkdir()
    _customers(folder / "customers.csv", 8)
    (folder / "visma.env").write_text(f"VISMA_BASE_URL={sandbox.url}\nVISMA_TOKEN={TOKEN}\n")
    shims = tmp_path / "bin"  # `importer` on the PATH, as an install puts it: this checkout's
    shims.mkdir()
    (shims / "importer").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m importer "$@"\n')
    (shims / "importer").chmod(0o755)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VISMA_", "IMPORTER_"))}
    run_env = {**base, **env, "IMPORT_DIR": str(folder), "PATH": f"{shims}:{base.get('PATH', '/usr/bin:/bin')}",
               "PYTHONPATH": str(ROOT)}
    shell = env.get("SHELL", "/bin/sh")
    for night in (1, 2):
        done = await asyncio.create_subprocess_exec(shell, "-c", command, env=run_env, cwd=tmp_path)
        code = await asyncio.wait_for(done.wait(), 60)  # the sandbox answers in this process meanwhile
        summary = json.loads((folder / "last-summary.json").read_text())
        assert code == 0 == summary["exit_code"], (folder / "importer.log").read_text()
        if night == 1:
            assert summary["outcomes"]["created"] == 8
            requests = (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"]  # type: ignore[index]
        else:  # the same file again: every record found done, not one call
            assert summary["already_done"] == 8 and summary["outcomes"]["created"] == 0 and summary["calls"] == 0
            assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == requests  # type: ignore[index]
    stored = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert sorted(int(c["number"]) for c in stored) == list(range(1, 9))  # type: ignore[union-attr]
    assert "importer_records_total" in (folder / "importer.prom").read_text()
    assert TOKEN not in (folder / "importer.log").read_text() + (folder / "last-summary.json").read_text()


def _airflow_recipe():
    spec = importlib.util.spec_from_file_location("airflow_dag", RECIPES / "airflow_dag.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_airflow_task_imports_resumes_and_fails_without_retry_on_bad_records(tmp_path):
    recipe = _airflow_recipe()  # without Airflow: the plain function alone
    sandbox = subprocess.Popen([sys.executable, "-m", "importer.sandbox", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().strip().removeprefix("Sandbox listening on ")
        env = {"VISMA_BASE_URL": url, "VISMA_TOKEN": TOKEN}
        path = tmp_path / "customers.csv"
        _customers(path, 5)
        first = recipe.import_file(str(path), "customer", environ=env)
        assert first["outcomes"]["created"] == 5 and first["exit_code"] == 0 and first["run_id"]
        again = recipe.import_file(str(path), "customer", environ=env)  # a retried task
        assert again["already_done"] == 5 and again["calls"] == 0 and again["run_id"] != first["run_id"]
        bad = tmp_path / "bad.csv"
        bad.write_text("number,name,creditLimit\n6,F,lots\n", encoding="utf-8")
        with pytest.raises(recipe.ImportFailed, match="bad.failed.csv"):
            recipe.import_file(str(bad), "customer", environ=env)
        import urllib.request

        request = urllib.request.Request(f"{url}/sandbox/records/customer", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            stored = json.loads(answer.read())
        assert sorted(int(c["number"]) for c in stored) == [1, 2, 3, 4, 5]
    finally:
        sandbox.terminate()
        sandbox.wait(10)
