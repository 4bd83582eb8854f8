"""``dlic train --task``: every chapter family trains from the command line, and missing weights name that command."""

from __future__ import annotations

import pytest

from dlic_lib import zoo
from dlic_lib.cli import main
from dlic_lib.cli.train_tasks import TASKS


def test_missing_weights_name_a_command_that_exists(capsys):
    from dlic_lib.codecs import get_codec
    from dlic_lib.errors import DlicError

    with pytest.raises(DlicError) as err:
        get_codec("rnn", profile="smoke").encode(__import__("numpy").zeros((32, 32, 3), "uint8"), 1, use_cache=False)
    message = str(err.value)
    assert "dlic train --task recurrent --profile smoke" in message
    for task, command in zoo.TRAIN_COMMANDS.items():
        assert task == "rd" or f"--task {task}" in command
        assert task == "rd" or task in TASKS


def test_train_task_recurrent_at_smoke_registers_a_release(capsys):
    assert zoo.find("toderici2017-rnn", task="recurrent", objective="l1", profile="smoke") is None
    assert main(["train", "--task", "recurrent", "--profile", "smoke", "--no-progress"]) == 0
    assert "recurrent networks at smoke" in capsys.readouterr().out
    assert zoo.find("toderici2017-rnn", task="recurrent", objective="l1", profile="smoke") is not None


def test_unknown_task_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--task", "bogus"])
    assert exit_.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'bogus'" in err[0]
