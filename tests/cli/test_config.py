"""The command line's settings under it: the environment read as the flags are, and a package that
keeps its flags through argparse's public API only, imported by nothing but ``python -m importer``."""

import ast
from pathlib import Path

import pytest

from importer.cli.parser import build_parser
from tests.support.runs import TOKEN, get_json, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "importer"
CONFIG_COMMANDS = ("run", "plan", "fleet", "export", "verify", "reconcile")  # the ones that read IMPORTER_*


async def test_each_kind_of_flag_is_read_from_the_environment_as_the_command_line_reads_it(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    env = {"VISMA_BASE_URL": sandbox.url, "VISMA_TOKEN": TOKEN,
           "IMPORTER_DECIMAL_COMMA": "yes",  # --decimal-comma/--no-decimal-comma
           "IMPORTER_VERBOSE": "2"}  # -vv
    path.write_text('number,name,creditLimit\n1,A,"1234,50"\n', encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "-e", "customer", "--results", str(tmp_path / "1.ndjson"),
                                   env=env)
    assert code == 0, out + err
    assert " -> 201" in err and TOKEN not in err  # -vv logs every request
    [customer] = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert (customer["name"], customer["creditLimit"]) == ("A", 1234.5)

    path.write_text('number,name,creditLimit\n1,B,"1234,50"\n', encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "-e", "customer", "--results", str(tmp_path / "2.ndjson"),
                                   env=dict(env, IMPORTER_MODE="upsert", IMPORTER_VERBOSE="0"))
    assert code == 0, out + err
    [customer] = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert customer["name"] == "B"  # updated in place, not created again

    sent = (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"]
    path.write_text('number,name,creditLimit\n1,C,"1234,50"\n', encoding="utf-8")
    code, out, err = await run_cli("run", str(path), "-e", "customer", "--mode", "upsert",
                                   env=dict(env, IMPORTER_DRY_RUN="on", IMPORTER_VERBOSE="0"))
    assert code == 0, out + err
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == sent  # --dry-run: nothing sent
    [customer] = await get_json(f"{sandbox.url}/sandbox/records/customer")
    assert customer["name"] == "B"
    assert (tmp_path / "c.csv.dry-run.ndjson").exists()


async def test_a_bad_value_in_the_environment_names_the_variable_and_sends_nothing(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n", encoding="utf-8")
    env = {"VISMA_BASE_URL": sandbox.url, "VISMA_TOKEN": TOKEN}
    bad = {
        "IMPORTER_VERBOSE": ("lots", "IMPORTER_VERBOSE='lots' is not a valid value"),
        "IMPORTER_MODE": ("sideways", "IMPORTER_MODE='sideways': expected one of create, update, upsert"),
        "IMPORTER_TIMEOUT": ("nan", "IMPORTER_TIMEOUT='nan' is not a valid value"),
    }
    for name, (value, message) in bad.items():
        code, out, err = await run_cli("run", str(path), "-e", "customer", env=dict(env, **{name: value}))
        assert (code, err.strip()) == (2, f"importer: error: {message}"), out + err
        assert "Traceback" not in err and TOKEN not in out + err
    assert (await get_json(f"{sandbox.url}/sandbox/stats"))["requests"] == 0
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []


def test_every_flag_a_command_parses_is_one_the_config_layering_sees():
    parser = build_parser()
    for name in CONFIG_COMMANDS:
        command = parser.commands[name]
        positionals = [flag for flag in command.flags if not flag.options]
        parsed = vars(parser.parse_args([name, *("x" for _ in positionals)]))
        kept = {flag.dest for flag in command.flags if flag.dest != "help"}
        assert set(parsed) - {"command"} == kept, name
        assert {"verbose", "log_format", "config"} <= kept, name


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, wherever in the file (``from importer import x`` counts as importer.x)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_only_the_entry_point_imports_the_cli_and_the_cli_has_no_circle():
    cli = PACKAGE / "cli"
    for path in PACKAGE.rglob("*.py"):
        if cli in path.parents or path == PACKAGE / "__main__.py":
            continue
        assert not {n for n in _imports(path) if n == "importer.cli" or n.startswith("importer.cli.")}, path
    modules = {_module(path): path for path in cli.glob("*.py")}
    edges = {name: {m for m in _imports(path) if m in modules and m != "importer.cli"}
             for name, path in modules.items()}
    for name, path in modules.items():
        if name != "importer.cli":  # a command's module takes what it needs from its siblings, not the package
            assert "importer.cli" not in _imports(path), name

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges[start])

    assert not [name for name in edges if reaches(name, name, set())]
    for path in modules.values():  # argparse's private names may change with Python; the CLI reads none
        text = path.read_text(encoding="utf-8")
        assert "argparse._" not in text and "._actions" not in text and "._defaults" not in text, path
