"""``benchframe completion bash|zsh``: scripts generated from the parser, that complete commands, options,
choices and paths in a real shell."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from benchframe.cli import main
from benchframe.cli.main import COMMANDS, build_parser

# COMPREPLY for the words typed so far (the last one being completed), as bash's programmable completion asks
BASH_COMPLETE = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
_shtab_benchframe benchframe "${!#}" "${@: -2:1}"
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("completion") / "benchframe.bash"
    out = subprocess.run(["benchframe", "completion", "bash"], capture_output=True, text=True, check=True)
    path.write_text(out.stdout)
    return path


def complete(script, cwd, *words: str) -> list[str]:
    out = subprocess.run(["bash", "-c", BASH_COMPLETE, "bash", str(script), "benchframe", *words], cwd=cwd,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completes_commands_options_choices_and_paths(bash_script, tmp_path):
    (tmp_path / "capture.perf.data").write_bytes(b"")
    (tmp_path / "reports").mkdir()
    names = sorted(build_parser().commands)
    assert {"trace", "completion", "compare", "history"} <= set(names) and len(names) == len(COMMANDS)
    assert sorted(complete(bash_script, tmp_path, "")) == names
    assert complete(bash_script, tmp_path, "tr") == ["trace"]
    assert complete(bash_script, tmp_path, "trace", "") == ["import", "summary"]
    assert "--skip-bad" in complete(bash_script, tmp_path, "trace", "import", "--")
    assert complete(bash_script, tmp_path, "trace", "import", "capt") == ["capture.perf.data"]  # FILE
    formats = next(a.choices for a in build_parser().commands["compare"].arguments if "--format" in a.option_strings)
    assert len(formats) > 3 and complete(bash_script, tmp_path, "compare", "--format", "") == list(formats)
    assert complete(bash_script, tmp_path, "compare", "--output", "") == ["reports"]  # DIR: folders only
    assert complete(bash_script, tmp_path, "completion", "") == ["bash", "zsh"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (Debian: zsh; .ci/run installs it)")
def test_zsh_script_is_valid_and_registers_with_compinit(tmp_path):
    fpath = tmp_path / "zfunc"
    fpath.mkdir()
    out = subprocess.run(["benchframe", "completion", "zsh"], capture_output=True, text=True, check=True)
    (fpath / "_benchframe").write_text(out.stdout)
    subprocess.run(["zsh", "-n", str(fpath / "_benchframe")], check=True, timeout=30)
    loaded = subprocess.run(["zsh", "-f", "-c", f"fpath=({fpath} $fpath); autoload -Uz compinit && compinit -u -D; "
                             "print -r -- ${_comps[benchframe]}"], capture_output=True, text=True, timeout=30,
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert loaded.stdout.strip() == "_benchframe", loaded.stderr


def test_zsh_script_names_every_command_and_option(capsys):
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#compdef benchframe")
    assert all(name in script for name in build_parser().commands)
    assert "--allocator-frame" in script and "--skip-bad" in script and "_files -/" in script


def test_unknown_shell_is_a_one_line_error(capsys):
    assert main(["completion", "fish"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'fish'" in err
