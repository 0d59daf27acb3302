"""Long or hostile medication lines: what a pasted document or an attack puts in a questionnaire
field. The benchmark times reading them (`hostile_lines_ms`); the tests check each is read right
with a bounded number of guesses. Plain Python, no Django: the clinical tests import it."""

from __future__ import annotations

from typing import Final, NamedTuple


class HostileLine(NamedTuple):
    name: str
    line: str
    opioid: bool  # what the line must be read as


# Two thousand distinct words that name nothing listed, each long enough to be guessed at.
UNLISTED_WORDS: Final = " ".join(f"qwertzuiop{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(2000))

HOSTILE_LINES: Final = (
    HostileLine("unlisted-words", UNLISTED_WORDS + " x" * 5000 + " " + "z" * 100_000, False),
    HostileLine("unlisted-then-norco", UNLISTED_WORDS + " Norco 10/325", True),
    HostileLine("negated-among-thousands", "no " * 3000 + "oxycodone " + "stopped " * 3000 + "none", False),
    HostileLine("glued-then-long-word", "oxycodoneapap" + "z" * 100_000 + " Norco", True),
    HostileLine("repeated", "oxycodone " * 5000 + "since " * 5000 + "no", True),
)
