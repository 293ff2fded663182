"""The README and the CLI agree: every `recorder …` command line in it names a real command
and real options (with valid choices), and the command table lists every command.

Commands that talk to your own API cannot run here; what can drift is what they say.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from recorder.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_lines() -> list[str]:
    """Every `recorder …` command in the README's console and YAML blocks, in order,
    including those after `&&` and inside `$(…)`."""
    lines = []
    for block in re.findall(r"```(?:console|yaml)\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split(" # ")[0].split("  #")[0]
            for match in re.finditer(r"(?:^\$ |run: |&& |\$\(|^\s+)(recorder [a-z-]+[^&)]*)",
                                     line):
                lines.append(match.group(1).strip().rstrip("&").strip())
    return lines


LINES = command_lines()


def test_the_readme_has_commands_to_check() -> None:
    assert len(LINES) >= 30


@pytest.mark.parametrize("line", LINES)
def test_every_readme_command_uses_real_options(line: str) -> None:
    words = shlex.split(line.replace("…", ""))[1:]
    while words and words[0].startswith("--library"):
        words = words[2:]
    name, args = words[0], words[1:]
    command = cli.commands.get(name)
    assert isinstance(command, click.Command), f"no command {name!r}: {line}"
    options = {opt: param for param in command.params if isinstance(param, click.Option)
               for opt in (*param.opts, *param.secondary_opts)}
    for index, word in enumerate(args):
        if not word.startswith("-") or word == "-":
            continue
        flag = word.split("=", 1)[0]
        assert flag in options or flag in ("-h", "--help"), f"{flag} is not an option of " \
                                                            f"`recorder {name}`: {line}"
        param = options.get(flag)
        if isinstance(param, click.Option) and isinstance(param.type, click.Choice) and (
                index + 1 < len(args)):
            assert args[index + 1] in param.type.choices, f"{args[index + 1]!r}: {line}"


def test_the_command_table_lists_every_command() -> None:
    table = set(re.findall(r"^\| `recorder ([a-z-]+)`(?:, `recorder ([a-z-]+)`)?", README,
                           re.M))
    listed = {name for pair in table for name in pair if name}
    assert listed == set(cli.commands)


RUNNABLE = {"ls", "show", "normalize", "diff", "schema", "check", "scan", "export", "config",
            "addon-path", "ca"}


def test_the_readme_commands_that_need_no_api_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder_home: Path
) -> None:
    """In README order, in a fresh directory whose library has `fx` and `myapi` (two versions
    each, the second drifted) and `payments`: each must end in 0 or 1, never a usage error or
    a traceback."""
    from click.testing import CliRunner

    from recorder.cassette.library import Library
    from tests import factories

    monkeypatch.chdir(tmp_path)
    library = Library(tmp_path / "cassettes")
    for name, amount in (("fx", 9.2), ("fx", "9.20"), ("payments", 1), ("myapi", 9.2),
                         ("myapi", "9.20")):
        _, writer = library.create(name, {"kind": "test"})
        with writer:
            writer.append(factories.interaction(factories.request("POST", "/v1/convert"),
                                                factories.response(body={"amount": amount})))
    ran = []
    for line in LINES:
        words = shlex.split(line)[1:]
        if words[0] not in RUNNABLE or any("://" in w or "*" in w for w in words):
            continue
        result = CliRunner().invoke(cli, words)
        assert result.exit_code in (0, 1), f"{line}: {result.stderr or result.exception}"
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit), f"{line}: {result.exception!r}"
        ran.append(words[0])
    assert {"ls", "show", "normalize", "diff", "schema", "check", "scan", "export"} <= set(ran)
