"""Ctrl-C while the command starts up (its parser built, its modules imported) ends it with the
interrupted exit code and one line, never a traceback."""

from __future__ import annotations

import pytest

import importer.cli as cli
import importer.cli.parser as parser
from importer.cli.exits import EXIT_INTERRUPTED

pytestmark = pytest.mark.one_profile


def test_ctrl_c_during_start_up_exits_130_with_one_line(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(parser, "build_parser", interrupted)
    assert cli.main(["run", "x.csv", "-e", "customer"]) == EXIT_INTERRUPTED == 130
    err = capsys.readouterr().err
    assert err == "importer: stopped (Ctrl-C)\n"
