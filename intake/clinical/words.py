"""The words people read in place of the codes: a flag's title and sentence, a severity, a source, a
verification method, and the label of a field a flag names ("current_medications[0]" is "Current
medications, line 1"). The codes stay in the data and the JSON API; every page, PDF and message
says these words. They live in data/words.json so that a pharmacist can change them.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Final, NamedTuple

# "[2]" in a field's path: a line of a list, or a step of the titration.
_POSITION: Final = re.compile(r"\[(\d+)\]")


class FlagWords(NamedTuple):
    title: str  # "Opioid use"
    explanation: str  # one sentence for the pharmacist


@functools.cache
def words() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "data" / "words.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def humanised(code: str) -> str:
    """A code nobody has worded yet, read aloud ("new_code" as "New code") rather than shown raw."""
    spaced = " ".join(str(code or "").replace("_", " ").replace(".", " ").split())
    return spaced[:1].upper() + spaced[1:]


def flag_words(code: str) -> FlagWords:
    entry = words()["flags"].get(code)
    if entry is None:
        return FlagWords(humanised(code), "")
    return FlagWords(entry["title"], entry["explanation"])


def flag_title(code: str) -> str:
    return flag_words(code).title


def flag_titles(codes: list[str]) -> str:
    """Several flags in one sentence: "Opioid use, Liver disease"."""
    return ", ".join(flag_title(code) for code in codes)


def severity_label(severity: str) -> str:
    entry = words()["severities"].get(severity)
    return entry["label"] if entry else humanised(severity)


def severity_explanation(severity: str) -> str:
    entry = words()["severities"].get(severity)
    return entry["explanation"] if entry else ""


def source_label(source: str) -> str:
    return str(words()["sources"].get(source) or humanised(source))


def method_label(method: str) -> str:
    return str(words()["methods"].get(method) or humanised(method))


def field_label(path: str) -> str:
    """The label of a field a flag names, its line or step counted from 1: "allergies[1]" is
    "Allergies, line 2"; "titration[0].strength_mg" is "Titration step 1, strength"."""
    path = str(path or "")
    positions = [int(found) + 1 for found in _POSITION.findall(path)]
    template = words()["fields"].get(_POSITION.sub("[]", path))
    if template is None:
        return humanised(_POSITION.sub(lambda found: f" {int(found.group(1)) + 1} ", path))
    # Each position fills the next "{n}"; a label has at most one today.
    return str(template).replace("{n}", str(positions[0])) if positions else str(template)
