"""The command line answers at once and says what it takes: help, version, completion.

The import checks run in a fresh interpreter (this one has imported everything already), so
that an option or subcommand added with a heavy import at its module's top fails here.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nalm
from nalm.cli.main import COMMANDS, HelpFormatter, build_parser, main
from nalm.experiments import EXPERIMENTS
from nalm.tasks import TARGETS

HEAVY = ("torch", "sympy", "numba", "matplotlib", "pandas", "ray")
"""What the parser, help and version must not import (PyTorch alone takes over a second)."""
SRC = str(Path(nalm.__file__).resolve().parents[1])


def fresh(script: str, *args: str) -> subprocess.CompletedProcess:
    """``script`` in a fresh interpreter that imports nalm from this checkout."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": ""}, timeout=120)


def subparsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple, argparse.ArgumentParser]:
    """Every subcommand's parser by its words (``("run",)``; nested ones too, ``("runs", "list")``)."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*path, name)] = sub
                found.update(subparsers(sub, (*path, name)))
    return found


IMPORTED_AFTER = """
    import contextlib, io, json, sys
    from nalm.cli.main import build_parser, main
    commands = [[]] + {commands}
    for argv in commands:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main(argv + sys.argv[1:])
    print(json.dumps([name for name in {heavy} if name in sys.modules]))
"""


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_the_parser_and_every_help_import_nothing_heavy(option):
    """``nalm --help``, every subcommand's ``--help`` and ``nalm --version`` import no PyTorch,
    SymPy, numba, matplotlib, pandas or Ray: every subcommand's module imports them in its ``main``."""
    commands = [list(words) for words in subparsers(build_parser())]
    assert {"run", "report", "plot", "list", "show", "explain", "completion"} <= {words[0] for words in commands}
    script = IMPORTED_AFTER.format(commands=commands if option == "--help" else [], heavy=HEAVY)
    done = fresh(script, option)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_nalm_list_and_a_refused_experiment_import_no_pytorch():
    """``nalm list`` and a refused experiment name answer without PyTorch or SymPy (numba, for
    the task presets, is allowed)."""
    done = fresh("""
        import contextlib, io, json, sys
        from nalm.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
            codes = [main(["list"]), main(["show", "blog"])]
        print(json.dumps([codes, [m for m in ("torch", "sympy", "matplotlib") if m in sys.modules],
                          out.getvalue(), err.getvalue()]))
    """)
    codes, heavy, out, err = json.loads(done.stdout)
    assert codes == [0, 2] and heavy == []
    assert "experiments:" in out and "unknown experiment 'blog'" in err


def test_every_subcommand_has_a_description_and_an_example():
    for words, parser in subparsers(build_parser()).items():
        assert parser.description, words
        assert parser.epilog and f"nalm {' '.join(words)}" in parser.epilog, words
        assert parser.formatter_class is HelpFormatter, words


def help_of(*argv: str, capsys) -> str:
    with pytest.raises(SystemExit) as exit:
        main([*argv, "--help"])
    assert exit.value.code == 0
    return capsys.readouterr().out


def test_help_lists_the_names_and_shows_defaults(capsys):
    run = " ".join(help_of("run", capsys=capsys).split())  # unwrapped
    assert all(name in run for name in EXPERIMENTS)
    assert f"any of {' '.join(TARGETS)}" in run
    assert "MODULE:CLASS" in run and "PYTHONPATH=." in run
    assert "(default: results/nalm.sqlite)" in run and "(default: 5.0)" in run
    assert "default: None" not in run and "default: False" not in run
    for name in COMMANDS:
        text = help_of(name, capsys=capsys)
        assert "default: None" not in text and "default: False" not in text and "default: []" not in text, name
        assert f"nalm {name}" in text  # the example
    assert "nalm completion bash" in help_of("completion", capsys=capsys)
    root = help_of(capsys=capsys)
    assert all(name in root for name in COMMANDS) and "--version" in root and "examples:" in root


def test_python_m_nalm_prints_the_version_and_what_a_bug_report_needs():
    done = subprocess.run([sys.executable, "-m", "nalm", "--version"], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": ""}, timeout=120)
    assert done.returncode == 0, done.stderr
    first, python, dependencies = done.stdout.splitlines()
    assert first == f"nalm {nalm.__version__} ({Path(SRC) / 'nalm'})"
    assert python.startswith(f"Python {sys.version.split()[0]} ")
    assert dependencies.startswith("torch ") and "numpy " in dependencies


@pytest.fixture(scope="module")
def scripts() -> dict[str, str]:
    out = {}
    for shell in ("bash", "zsh", "tcsh"):
        code, text = run_completion(shell)
        assert code == 0
        out[shell] = text
    return out


def run_completion(shell: str) -> tuple[int, str]:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["completion", shell])
    return code, out.getvalue()


def test_completion_scripts_name_the_subcommands_experiments_and_targets(scripts):
    for shell, text in scripts.items():
        for name in [*COMMANDS, *EXPERIMENTS, *TARGETS, "paper-scale"]:
            assert name in text, (shell, name)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_bash_completion_is_valid_and_completes_experiments_and_targets(scripts, tmp_path):
    script = tmp_path / "nalm.bash"
    script.write_text(scripts["bash"])
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0

    def complete(*words: str) -> list[str]:
        line = f"""source {script}; COMP_WORDS=(nalm {' '.join(words)}); COMP_CWORD={len(words)}
                   _shtab_nalm nalm {words[-1]} {words[-2] if len(words) > 1 else 'nalm'}; echo "${{COMPREPLY[@]}}" """
        done = subprocess.run(["bash", "-c", line], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("sh") == ["show"]
    assert complete("show", "madsen2020-st") == ["madsen2020-static"]
    assert complete("run", "blog-static", "--targets", "s") == ["sub", "square", "sqrt"]


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`nalm list | head -1`: the reader has gone before nalm writes; no traceback, exit 141 as git's."""
    process = subprocess.Popen([sys.executable, "-m", "nalm", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before nalm, which takes a while to start, writes anything
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141 and err == "", err
