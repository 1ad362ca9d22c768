"""A ``;`` file whose amounts read only as thousands under the default decimal comma.

Each case runs the CLI against the sandbox and asserts on what the sandbox stores: nothing
when the file is refused, the amounts as the chosen flag reads them when it is told.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.runs import TOKEN, final_lines, run_cli
from tests.support.stored import stored_records

pytestmark = pytest.mark.parametrize("profile", ["standard"])

POINTS = "number;name;creditLimit\n20001;Punktum AS;1.000\n20002;Desimal AS;1.250\n20003;Tom AS;\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kunder.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def test_every_amount_d_ddd_is_stopped_before_sending_with_both_readings(start_sandbox, tmp_path):
    data = _write(tmp_path, POINTS)
    async with start_sandbox() as sb:
        code, out, err = await run_cli("run", str(data), "-e", "customer", "--base-url", sb.url, "--token", TOKEN)
        assert await stored_records(sb, "customer") == {}
    assert code != 0 and "Traceback" not in err
    assert "column creditLimit" in err and str(data) in err
    assert "1.000 as 1000" in err and "1.250 as 1250" in err  # the decimal comma's reading
    assert "1.000 as 1.0" in err and "1.250 as 1.25" in err  # the decimal point's
    assert "--no-decimal-comma" in err and "Nothing was sent" in err
    assert TOKEN not in err + out


@pytest.mark.parametrize(("flag", "limits"), [("--no-decimal-comma", (1.0, 1.25)),
                                              ("--decimal-comma", (1000, 1250))])
async def test_a_flag_says_which_reading_is_meant(start_sandbox, tmp_path, flag, limits):
    data = _write(tmp_path, POINTS)
    async with start_sandbox() as sb:
        code, out, err = await run_cli("run", str(data), "-e", "customer", "--base-url", sb.url, "--token", TOKEN, flag)
        stored = await stored_records(sb, "customer")
    assert code == 0, (out, err)
    assert (stored["20001"]["creditLimit"], stored["20002"]["creditLimit"]) == limits
    assert [line["outcome"] for line in final_lines(f"{data}.results.ndjson")] == ["created"] * 3


async def test_one_value_that_tells_lets_the_file_go_with_the_decimal_comma(start_sandbox, tmp_path):
    data = _write(tmp_path, POINTS + "20004;Komma AS;2.500,75\n")
    async with start_sandbox() as sb:
        code, out, err = await run_cli("run", str(data), "-e", "customer", "--base-url", sb.url, "--token", TOKEN)
        stored = await stored_records(sb, "customer")
    assert code == 0, (out, err)
    assert [stored[n]["creditLimit"] for n in ("20001", "20002", "20004")] == [1000, 1250, 2500.75]


async def test_check_stops_the_same_file_as_run_does(start_sandbox, tmp_path):
    """``importer check`` would otherwise call the file clean and the run then refuse it."""
    data = _write(tmp_path, POINTS)
    async with start_sandbox() as sb:
        code, out, err = await run_cli("check", str(data), "-e", "customer", "--base-url", sb.url, "--token", TOKEN)
        assert code == 2 and "Traceback" not in err
        assert "column creditLimit" in err and "1.000 as 1000" in err and "1.000 as 1.0" in err
        told, out, err = await run_cli("check", str(data), "-e", "customer", "--base-url", sb.url, "--token", TOKEN,
                                       "--no-decimal-comma")
        assert told == 0, (out, err)
        assert await stored_records(sb, "customer") == {}  # check sends nothing either way
