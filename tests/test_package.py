"""The package as a user gets it: the wheel built from this tree, installed in a fresh
virtual environment with its dependencies, and the installed ``importer`` command run.

Nothing here reaches the network. The build backend and the dependencies come from a
wheelhouse that ``make`` fills when it installs (``.venv/wheelhouse``, or ``WHEELHOUSE``);
without one this test fails, saying so, rather than passing unseen. The container image
is built and run only where a container engine answers (``docker info``).

``pytest -m package`` selects these tests.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from importer.version import DISTRIBUTION, __version__
from tests.support.runs import assert_one_final_line_per_record, get_json

pytestmark = [pytest.mark.package, pytest.mark.one_profile, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parent.parent
SIZE_LIMIT = 40 * 1024 * 1024  # the installed package with its dependencies


def wheelhouse() -> Path:
    folder = Path(os.environ.get("WHEELHOUSE") or Path(sys.prefix) / "wheelhouse")
    if not any(folder.glob("setuptools-*.whl")):
        pytest.fail(f"no wheelhouse at {folder}: `make` fills it when it installs (or set WHEELHOUSE to a folder "
                    "from `pip download --dest DIR . 'setuptools>=77'`)")
    return folder


def offline_env() -> dict[str, str]:
    """This environment without the source tree on the path and without the machine's pip settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith(("PIP_", "VISMA_", "IMPORTER_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def pip(*args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=offline_env(),
                         timeout=150, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]


def site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def build_and_install(work: Path) -> tuple[Path, Path]:
    """(the built wheel, a fresh virtual environment with it and its dependencies installed)."""
    houses = wheelhouse()
    source = work / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "importer", source / "importer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip("wheel", "--no-deps", "--find-links", str(houses), "--wheel-dir", str(work / "dist"), str(source))
    wheel = next((work / "dist").glob("*.whl"))
    env = work / "env"
    venv.create(env, with_pip=False)  # the running pip installs into it: nothing but the package lands there
    pip("--python", str(env / "bin" / "python"), "install", "--find-links", str(houses), str(wheel))
    return wheel, env


def importer_cmd(env: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(env / "bin" / "importer"), *args], capture_output=True, text=True, cwd=cwd,
                          env=offline_env(), timeout=timeout, check=False)


async def test_the_wheel_installs_offline_and_its_command_rehearses_on_a_sandbox(tmp_path, start_sandbox):
    # One test, so that the suite's workers build and install the wheel once, not once each.
    wheel, env = build_and_install(tmp_path / "package")
    check_the_wheel(wheel)
    check_the_command_runs_from_the_environment(env, tmp_path)
    await check_a_sandbox_rehearsal(env, tmp_path, start_sandbox)
    size = sum(p.stat().st_size for p in site_packages(env).rglob("*") if p.is_file())
    assert size < SIZE_LIMIT, f"{size / 1e6:.1f} MB installed"


def check_the_wheel(wheel: Path) -> None:
    """Its name, version, supported Pythons, types, package data and command; no charting library."""
    assert wheel.name == f"{DISTRIBUTION.replace('-', '_')}-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"{DISTRIBUTION.replace('-', '_')}-{__version__}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert {"importer/py.typed", "importer/report/svg.py", "importer/__main__.py"} <= names
    assert any(n.startswith("importer/saft/") and n.endswith(".toml") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "samples/")) for n in names)
    assert (metadata["Name"], metadata["Version"], metadata["Requires-Python"]) == (DISTRIBUTION, __version__, ">=3.11")
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    required = {r.split(";")[0].split(">")[0].split("=")[0].strip() for r in metadata.get_all("Requires-Dist")
                if "extra ==" not in r}
    assert required == {"aiohttp", "anyio", "orjson", "aiolimiter", "rich", "xlsxwriter"}  # no charting library
    assert "importer = importer.cli:main" in entry_points


def check_the_command_runs_from_the_environment(env: Path, tmp_path: Path) -> None:
    """``importer --version`` from the environment's script, importing the installed package, not the tree."""
    run = importer_cmd(env, "--version", cwd=tmp_path)
    assert (run.returncode, run.stdout.strip()) == (0, f"importer {__version__}"), run.stderr
    where = subprocess.run([str(env / "bin" / "python"), "-c", "import importer; print(importer.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=offline_env(), check=True)
    assert Path(where.stdout.strip()).is_relative_to(site_packages(env))


async def check_a_sandbox_rehearsal(env: Path, tmp_path: Path, start_sandbox) -> None:
    """The sample customers rehearsed with ``--sandbox``: every one created, and stored by the sandbox."""
    customers = tmp_path / "customers.csv"
    shutil.copy2(ROOT / "samples" / "customers.csv", customers)
    with open(customers, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    results = tmp_path / "customers.results.ndjson"
    run = importer_cmd(env, "run", str(customers), "--entity", "customer", "--sandbox", "--results", str(results),
                       cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert {line["outcome"] for line in assert_one_final_line_per_record(results, len(rows))} == {"created"}
    report = importer_cmd(env, "report", str(results), "--html", str(tmp_path / "report.html"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert 'id="chart-outcomes"><svg ' in (tmp_path / "report.html").read_text(encoding="utf-8")
    # what the rehearsal's sandbox stored, read back from the ledger it kept beside the results
    async with start_sandbox(state_path=f"{results}.sandbox.sqlite") as ledger:
        stored = await get_json(f"{ledger.url}/sandbox/records/customer")
    assert isinstance(stored, list)
    assert sorted((r["number"], r["name"]) for r in stored) == sorted((r["number"], r["name"]) for r in rows)


def test_the_container_image_runs_importer(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no container engine: docker info failed")
    tag = f"{DISTRIBUTION}:test-{os.getpid()}"
    # the build pulls its base image and the dependencies: the one step here that needs the network
    build = subprocess.run([docker, "build", "--quiet", "--tag", tag, str(ROOT)], capture_output=True, text=True,
                           timeout=900, check=False)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        run = subprocess.run([docker, "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120,
                             check=False)
        assert (run.returncode, run.stdout.strip()) == (0, f"importer {__version__}"), run.stderr
        user = subprocess.run([docker, "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True,
                              text=True, timeout=120, check=False)
        assert user.stdout.strip() not in ("", "0"), user.stderr  # not root
    finally:
        subprocess.run([docker, "image", "rm", "--force", tag], capture_output=True, timeout=120, check=False)
