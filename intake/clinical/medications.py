"""Recognise drugs in a medication line as a person writes it.

"Norco 5/325 prn", "tylenol w/ codeine", "oxycodon 10mg": the line is normalised (case,
accents, punctuation, doses and units), abbreviations are expanded, and its words are looked
up in the tables under ``data/`` (one CSV per kind). Multi-word names ("Robitussin AC",
"MS Contin") win over their first word, and a misspelt word is read as the nearest listed name
only when that name is not as near to a listed non-opioid: a false hard stop on a lookalike
sends a patient away without cause (CLINICAL.md "Screening").
"""

from __future__ import annotations

import csv
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DATA_DIR: Final = Path(__file__).resolve().parent / "data"

OPIOID: Final = "opioid"
INTERACTION: Final = "interaction"
THYROID: Final = "thyroid"
IMMUNOSUPPRESSANT: Final = "immunosuppressant"
ANTAGONIST: Final = "antagonist"
# Lookalikes and common drugs: listed so that they win over a fuzzy opioid match; never reported.
NOT_OPIOID: Final = "not_opioid"

# The data file that holds each kind.
KIND_FILES: Final[dict[str, str]] = {
    OPIOID: "opioids.csv",
    INTERACTION: "interactions.csv",
    THYROID: "thyroid.csv",
    IMMUNOSUPPRESSANT: "immunosuppressants.csv",
    ANTAGONIST: "antagonists.csv",
    NOT_OPIOID: "not_opioids.csv",
}
NAME_TYPES: Final = frozenset({"generic", "brand", "combination", "abbreviation", "slang", "foreign", "misspelling"})

# Fuzzy reading: shortest word read at all, and the edit distance allowed by word length.
_FUZZY_MIN_LENGTH: Final = 6
_FUZZY_TWO_EDITS_FROM_LENGTH: Final = 9
_FUZZY_ONE_EDIT_FROM_LENGTH: Final = 7
_MAX_EDITS: Final = 2
# Bounds that keep a long or hostile line cheap: no listed name is near this long, and a real
# medication line never holds this many unlisted long words.
_FUZZY_MAX_LENGTH: Final = 32
_FUZZY_WORDS_PER_LINE: Final = 40


@dataclass(frozen=True)
class MedicationEntry:
    """One row of a medication table."""

    name: str
    generic: str
    kind: str
    drug_class: str
    name_type: str
    note: str


@dataclass(frozen=True)
class MedicationMatch:
    kind: str  # opioid | interaction | thyroid | immunosuppressant | antagonist
    generic: str  # e.g. "hydrocodone"
    written_as: str  # the words as found in the line, normalised: "norco", "tylenol 3", "oxycodon"
    drug_class: str  # "full agonist", "partial agonist", ...; for interactions the reason
    name: str = ""  # the table's name that matched, as listed: "Norco", "Tylenol #3"
    name_type: str = ""  # generic | brand | combination | abbreviation | slang | foreign | misspelling
    fuzzy: bool = False  # read as the nearest listed name (a misspelling)

    def describe(self) -> str:
        """What the line matched, for a pharmacist: 'hydrocodone (brand Norco)'."""
        details: list[str] = []
        if _key(self.name) != _key(self.generic):
            label = _NAME_TYPE_LABELS.get(self.name_type, self.name_type)
            details.append(f"{label} {self.name}".strip())
        if self.fuzzy:
            details.append(f"written '{self.written_as}'")
        return f"{self.generic} ({', '.join(details)})" if details else self.generic


_NAME_TYPE_LABELS: Final[dict[str, str]] = {
    "generic": "also called",
    "brand": "brand",
    "combination": "in combination product",
    "abbreviation": "abbreviation",
    "slang": "street name",
    "foreign": "also written",
    "misspelling": "misspelt",
}


def match_medication(line: str) -> list[MedicationMatch]:
    """Every listed drug found in one line, in the order written, one per (kind, generic).

    Lookalikes and other listed non-opioids are recognised but not returned.
    """
    return list(_matches(line))


@functools.lru_cache(maxsize=16384)
def _matches(line: str) -> tuple[MedicationMatch, ...]:
    # Patients write the same lines again and again ("vitamin D", "Synthroid 50 mcg"): each is read
    # once per process. The matches are frozen, so sharing them is safe.
    found: list[MedicationMatch] = []
    seen: set[tuple[str, str]] = set()
    for matches in _scan(_tokens(line)):
        for match in matches:
            if (match.kind, match.generic) not in seen:
                seen.add((match.kind, match.generic))
                found.append(match)
    return tuple(found)


def _reported(entries: Iterable[MedicationEntry], written_as: str, fuzzy: bool) -> tuple[MedicationMatch, ...]:
    """The matches a hit reports: lookalikes and other listed non-opioids are read but never reported."""
    return tuple(
        MedicationMatch(
            kind=entry.kind,
            generic=entry.generic,
            written_as=written_as,
            drug_class=entry.drug_class,
            name=entry.name,
            name_type=entry.name_type,
            fuzzy=fuzzy,
        )
        for entry in entries
        if entry.kind != NOT_OPIOID
    )


# Built once per listed name (or plural, or misspelt word) rather than once per line: building the
# frozen matches costs more than finding them.
@functools.lru_cache(maxsize=8192)
def _exact_matches(words: tuple[str, ...]) -> tuple[MedicationMatch, ...]:
    return _reported(_index().names[words], " ".join(words), False)


@functools.lru_cache(maxsize=8192)
def _plural_matches(word: str) -> tuple[MedicationMatch, ...]:
    return _reported(_index().names[(word[:-1],)], word, False)


@functools.lru_cache(maxsize=8192)
def _fuzzy_matches(word: str) -> tuple[MedicationMatch, ...]:
    return _reported(_fuzzy_entries(word), word, True)


def forget_lines() -> None:
    """Empty the per-line cache (the benchmark times screening without it too)."""
    _matches.cache_clear()


def is_opioid(line: str) -> bool:
    return any(match.kind == OPIOID for match in match_medication(line))


def medication_table() -> tuple[MedicationEntry, ...]:
    """All rows of all medication tables, as loaded (validated once)."""
    return _table()


# --- reading a line ---------------------------------------------------------------------------

_WITHOUT = re.compile(r"\bw/o\b")
_WITH = re.compile(r"\bw/")
_NUMBER_SIGN = re.compile(r"\bno\.?\s*(?=\d)")  # "Tylenol No. 3" -> "Tylenol 3"
# A word is a run of letters or a run of digits: "10mg" is "10" "mg", "q6h" is "q" "6" "h".
_WORD = re.compile(r"[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> tuple[str, ...]:
    # Table names and generics only (a bounded set), read again for every match described.
    return _tokens(text)


def _tokens(text: str) -> tuple[str, ...]:
    if not text.isascii():
        # Accents off ("Lövelace" -> "lovelace"); most lines are plain ASCII and skip this.
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
        text = text.replace("\u00b5", "u").replace("\u03bc", "u")
    plain = text.lower()
    # Each rewrite runs only where its marker occurs: a regex pass costs more than the test.
    if "w/" in plain:
        plain = _WITH.sub(" with ", _WITHOUT.sub(" without ", plain))
    if "&" in plain:
        plain = plain.replace("&", " and ")
    if "no" in plain:
        plain = _NUMBER_SIGN.sub(" ", plain)
    abbreviations = _normalisation().abbreviations
    words: list[str] = []
    for word in _WORD.findall(plain):
        expanded = abbreviations.get(word)
        if expanded is None:
            words.append(word)
        else:
            words.extend(expanded)
    return tuple(words)


def _scan(tokens: tuple[str, ...]) -> Iterator[tuple[MedicationMatch, ...]]:
    """The matches of each listed name in the words, left to right, the longest name first."""
    index = _index()
    position = 0
    guesses_left = _FUZZY_WORDS_PER_LINE
    while position < len(tokens):
        # Only names that begin with this word are tried, longest first: one dict look-up for most words.
        longest = min(index.longest_from.get(tokens[position], 0), len(tokens) - position)
        for length in range(longest, 0, -1):
            words = tokens[position : position + length]
            if words in index.names:
                yield _exact_matches(words)
                position += length
                break
        else:
            word = tokens[position]
            position += 1
            if word.endswith("s") and (word[:-1],) in index.names:
                yield _plural_matches(word)
            elif guesses_left > 0 and _FUZZY_MIN_LENGTH <= len(word) <= _FUZZY_MAX_LENGTH:
                guesses_left -= 1
                yield _fuzzy_matches(word)


@functools.lru_cache(maxsize=8192)
def _fuzzy_entries(word: str) -> tuple[MedicationEntry, ...]:
    """The entries of the nearest listed one-word name, if near enough and not a lookalike."""
    if not _FUZZY_MIN_LENGTH <= len(word) <= _FUZZY_MAX_LENGTH or not word.isalpha():
        return ()
    if word in _normalisation().ignored_words:
        return ()
    index = _index()
    allowed = _allowed_edits(word)
    best = allowed + 1
    nearest: list[str] = []
    for variant in _deletions(word, allowed):
        for name in index.deletions.get(variant, ()):
            distance = _edit_distance(word, name, best)
            if distance > allowed or distance > best:
                continue
            if len(word) < _FUZZY_ONE_EDIT_FROM_LENGTH and not _is_transposition(word, name):
                continue
            if distance < best:
                best, nearest = distance, []
            if name not in nearest:
                nearest.append(name)
    entries = [entry for name in nearest for entry in index.names[(name,)]]
    kinds = {entry.kind for entry in entries}
    if NOT_OPIOID in kinds:
        # A lookalike as near as any opioid wins: no match at all.
        return ()
    if OPIOID in kinds and len(kinds) > 1:
        # As near to an antagonist or another drug as to an opioid: do not guess the opioid.
        entries = [entry for entry in entries if entry.kind != OPIOID]
    return tuple(entries)


def _allowed_edits(word: str) -> int:
    if len(word) >= _FUZZY_TWO_EDITS_FROM_LENGTH:
        return 2
    return 1


def _is_transposition(word: str, name: str) -> bool:
    if len(word) != len(name):
        return False
    differing = [i for i, (a, b) in enumerate(zip(word, name, strict=True)) if a != b]
    return (
        len(differing) == 2
        and differing[1] == differing[0] + 1
        and word[differing[0]] == name[differing[1]]
        and word[differing[1]] == name[differing[0]]
    )


def _deletions(word: str, edits: int) -> set[str]:
    variants = {word}
    frontier = {word}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        variants |= frontier
    return variants


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (an adjacent swap counts one); > limit if larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalisation:
    abbreviations: dict[str, tuple[str, ...]]
    ignored_words: frozenset[str]


@dataclass(frozen=True)
class _Index:
    names: dict[tuple[str, ...], tuple[MedicationEntry, ...]]
    longest_name: int
    longest_from: dict[str, int]  # first word -> the most words of a listed name that begins with it
    deletions: dict[str, tuple[str, ...]]  # SymSpell-style: a deletion variant -> one-word names


def _data_text(filename: str) -> str:
    return (DATA_DIR / filename).read_text(encoding="utf-8")


@functools.cache
def _normalisation() -> _Normalisation:
    raw = json.loads(_data_text("normalisation.json"))
    return _Normalisation(
        abbreviations={
            str(written).lower(): tuple(str(meaning).lower().split())
            for written, meaning in raw["abbreviations"].items()
        },
        ignored_words=frozenset(str(word).lower() for word in raw["ignored_words"]),
    )


@functools.cache
def _table() -> tuple[MedicationEntry, ...]:
    return tuple(entry for kind, filename in KIND_FILES.items() for entry in _read(kind, filename))


def _read(kind: str, filename: str) -> Iterable[MedicationEntry]:
    rows = csv.DictReader(_data_text(filename).splitlines())
    for line_number, row in enumerate(rows, start=2):
        name = (row.get("name") or "").strip()
        generic = (row.get("generic") or "").strip()
        name_type = (row.get("name_type") or "").strip()
        if not name or not generic or name_type not in NAME_TYPES:
            raise ValueError(f"{filename} line {line_number}: needs a name, a generic and a name_type")
        yield MedicationEntry(
            name=name,
            generic=generic.lower(),
            kind=kind,
            drug_class=(row.get("drug_class") or "").strip(),
            name_type=name_type,
            note=(row.get("note") or "").strip(),
        )


@functools.cache
def _index() -> _Index:
    return _build_index(_table())


def _longest_from(names: Iterable[tuple[str, ...]]) -> dict[str, int]:
    longest: dict[str, int] = {}
    for words in names:
        longest[words[0]] = max(longest.get(words[0], 0), len(words))
    return longest


def _build_index(table: Iterable[MedicationEntry]) -> _Index:
    names: dict[tuple[str, ...], list[MedicationEntry]] = {}
    for entry in table:
        words = _tokens(entry.name)
        if not words:
            raise ValueError(f"The medication name {entry.name!r} has no words")
        names.setdefault(words, []).append(entry)
    for words, entries in names.items():
        kinds = {entry.kind for entry in entries}
        if NOT_OPIOID in kinds and len(kinds) > 1:
            raise ValueError(f"{' '.join(words)!r} is listed both as a non-opioid and as {kinds}")
    deletions: dict[str, set[str]] = {}
    for words in names:
        if len(words) == 1 and words[0].isalpha() and len(words[0]) >= _FUZZY_MIN_LENGTH - _MAX_EDITS:
            for variant in _deletions(words[0], _MAX_EDITS):
                deletions.setdefault(variant, set()).add(words[0])
    return _Index(
        names={words: tuple(entries) for words, entries in names.items()},
        longest_name=max(len(words) for words in names),
        longest_from=_longest_from(names),
        deletions={variant: tuple(sorted(found)) for variant, found in deletions.items()},
    )
