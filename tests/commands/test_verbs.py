"""The command line: every verb registered, a broken install fails loudly, errors are one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from reasonembed import cli


def test_every_verb_is_registered():
    names = {c.name or c.callback.__name__ for c in cli.app.registered_commands}
    names |= {g.name for g in cli.app.registered_groups}
    assert set(cli.COMMAND_MODULES) <= names


def test_a_missing_verb_module_is_an_error_not_a_silent_gap():
    with pytest.raises(ModuleNotFoundError, match="reasonembed.commands.no_such_verb"):
        cli.register_commands(typer.Typer(), ["eval", "no_such_verb"])


def test_bad_input_is_one_error_line_and_exit_2(tmp_path):
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run([sys.executable, "-m", "reasonembed.cli", "synth", "stats", "--config", str(missing)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [
    ["synth", "stats", "--config", "configs/synth.yaml"],
    ["train", "--recipe", "minilm-cpu"],
    ["quickstart", "--out", "{tmp}/qs"],
])
def test_one_override_grammar_for_every_config_verb(argv, tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    bad = subprocess.run([sys.executable, "-m", "reasonembed.cli", *argv, "not-an-override"], capture_output=True,
                         text=True, timeout=300, cwd=root)
    assert bad.returncode == 2, bad.stderr
    assert "error: override 'not-an-override' is not of the form key=value" in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "reasonembed.cli", *argv, "no_such_key=1"], capture_output=True,
                             text=True, timeout=300, cwd=root)
    assert unknown.returncode == 2 and "unknown key(s) ['no_such_key']" in unknown.stderr, unknown.stderr
