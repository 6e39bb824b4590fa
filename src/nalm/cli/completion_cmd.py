"""``nalm completion SHELL``: a script that completes nalm's commands, options, experiments and
targets in bash, zsh or tcsh (written by shtab from the parser itself)."""
from __future__ import annotations

SHELLS = ("bash", "zsh", "tcsh")

EXAMPLES = """examples:
  bash: nalm completion bash > ~/.local/share/bash-completion/completions/nalm
  zsh:  nalm completion zsh > ~/.zfunc/_nalm   (with fpath+=(~/.zfunc) before compinit in ~/.zshrc)
  tcsh: nalm completion tcsh > ~/.nalm.completion.csh && echo 'source ~/.nalm.completion.csh' >> ~/.tcshrc"""


def add_parser(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh, tcsh)",
                       description="Print a script that completes nalm's commands, options, experiments and targets "
                                   "in your shell; save it where your shell loads completions.", epilog=EXAMPLES)
    p.add_argument("shell", choices=SHELLS, help="the shell: %(choices)s")


def main(args) -> int:
    import shtab

    from .main import build_parser

    print(shtab.complete(build_parser(), shell=args.shell), end="")
    return 0
