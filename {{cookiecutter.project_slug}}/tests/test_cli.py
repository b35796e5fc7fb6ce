"""The command line: every command is listed and dispatched; unknown ones fail."""

from __future__ import annotations

from helpers import module

cli = module("cli")


def test_help_lists_every_command(capsys) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert f"  {command}:" in out


def test_unknown_command_fails(capsys) -> None:
    assert cli.main(["trian"]) == 2
    assert "usage:" in capsys.readouterr().out


def test_every_command_is_a_module_with_main() -> None:
    for command, (module_name, _) in cli.COMMANDS.items():
        assert callable(module(module_name).main), command


def test_every_pipeline_stage_is_a_command() -> None:
    stages = {name for name, (target, _) in cli.COMMANDS.items() if target.startswith("stages.")}
    assert stages == {"prepare", "train", "evaluate", "drift", "card", "package"}


def test_dispatches_to_the_module(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["gate"]) == 1
    assert "reports/gate.json not found" in capsys.readouterr().err
