"""The docs' code blocks, as the doc tests read them.

A fenced block's info string is its language, then optional words: `file=NAME` (a file the reader is
told to save, written by the tests that run the docs) and `run` (a shell block the tests run literally,
line by line, in a fresh directory and in the checkout). Extra words do not change how GitHub shows it.

    ```bash run
    mlp local up
    ```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "UPGRADE.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
        "plugins/mlp/README.md"]
SHELL_FENCES = {"sh", "bash", "shell", "console"}
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass
class Block:
    doc: str
    language: str
    options: dict[str, str] = field(default_factory=dict)   # `file=NAME` -> {"file": NAME}; `run` -> {"run": ""}
    text: str = ""

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_FENCES

    @property
    def runs(self) -> bool:
        return self.is_shell and "run" in self.options

    def commands(self) -> list[str]:
        """Its command lines: comments, `&&` chains and leading environment assignments taken apart."""
        commands = []
        for line in self.text.splitlines():
            for command in line.split(" #")[0].split("&&"):
                command = command.strip()
                if command.startswith("#"):
                    continue
                while ENV_ASSIGNMENT.match(command):
                    command = command.split(" ", 1)[1] if " " in command else ""
                commands.append(command)
        return commands


def blocks(doc: str) -> list[Block]:
    found, current, lines = [], None, []
    for line in (ROOT / doc).read_text().splitlines():
        if not line.startswith("```"):
            lines.append(line)
            continue
        if current is None:
            words = line[3:].split()
            options = dict(word.partition("=")[::2] for word in words[1:])
            current, lines = Block(doc, words[0] if words else "", options), []
        else:
            current.text = "\n".join(lines) + "\n"
            found.append(current)
            current = None
    return found


def code_lines(doc: str) -> list[str]:
    """Every command line of the doc's shell blocks, a trailing `&` (run in the background) taken off."""
    return [command.removesuffix("&").strip() for block in blocks(doc) if block.is_shell for command in block.commands()]
