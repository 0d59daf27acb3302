"""Recognise drugs in a medication line as a person writes it, the way a pharmacist reads it.

"Norco 5/325 prn", "Suboxon 8mg film", "no opioids", "stopped tramadol in May": a line is normalised
(case, accents, doses and units, abbreviations), the listed product names in it are found (the
longest name wins: "Robitussin AC" over "Robitussin"), a word that names nothing listed is read as
the nearest name of the whole vocabulary (edit distance and Double Metaphone keys), and the words
around each name say whether it is denied ("no", "denies", "don't take") or past ("stopped",
"last year"). A product's ingredients decide what it is: a product is an opioid when any
ingredient is an opioid agonist or a partial or mixed agonist, and no antagonist beside it
(Suboxone's naloxone) ever cancels that. The tables are CSV and JSON files under ``data/``.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, NamedTuple

from doublemetaphone import doublemetaphone
from rapidfuzz import process
from rapidfuzz.distance import OSA, Hamming

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
PRODUCTS_FILE: Final = "products.csv"
INGREDIENTS_FILE: Final = "ingredients.csv"
LOOKALIKES_FILE: Final = "lookalikes.csv"
NORMALISATION_FILE: Final = "normalisation.json"
CUES_FILE: Final = "cues.json"

# What a match reports, from its ingredient's role.
OPIOID: Final = "opioid"
INTERACTION: Final = "interaction"
THYROID: Final = "thyroid"
IMMUNOSUPPRESSANT: Final = "immunosuppressant"
ANTAGONIST: Final = "antagonist"  # naloxone, nalmefene, peripheral antagonists, and naltrexone itself
# Lookalikes and everyday drugs: read so that they win over a guessed opioid; never reported.
NOT_OPIOID: Final = "not_opioid"

# An ingredient's role, as the ingredients table writes it.
FULL_AGONIST: Final = "full agonist"
PARTIAL_AGONIST: Final = "partial agonist"
MIXED_AGONIST_ANTAGONIST: Final = "mixed agonist-antagonist"
UNSPECIFIED_OPIOID: Final = "unspecified opioid"  # the words "opioids", "narcotics": ask which one
ANTAGONIST_ROLE: Final = "antagonist"
NALTREXONE: Final = "naltrexone"
INTERACTING: Final = "interacting"
THYROID_HORMONE: Final = "thyroid hormone"
IMMUNOSUPPRESSANT_ROLE: Final = "immunosuppressant"
OTHER: Final = "other"
OPIOID_ROLES: Final = frozenset({FULL_AGONIST, PARTIAL_AGONIST, MIXED_AGONIST_ANTAGONIST, UNSPECIFIED_OPIOID})
KIND_OF_ROLE: Final[dict[str, str]] = {
    FULL_AGONIST: OPIOID,
    PARTIAL_AGONIST: OPIOID,
    MIXED_AGONIST_ANTAGONIST: OPIOID,
    UNSPECIFIED_OPIOID: OPIOID,
    ANTAGONIST_ROLE: ANTAGONIST,
    NALTREXONE: ANTAGONIST,
    INTERACTING: INTERACTION,
    THYROID_HORMONE: THYROID,
    IMMUNOSUPPRESSANT_ROLE: IMMUNOSUPPRESSANT,
    OTHER: NOT_OPIOID,
}
ROLES: Final = frozenset(KIND_OF_ROLE)
NAME_TYPES: Final = frozenset({"generic", "brand", "abbreviation", "street", "botanical", "foreign", "misspelling"})

# Reading a misspelt word: words shorter than this are never guessed (too many real words are near).
_FUZZY_MIN_LENGTH: Final = 5
# Bounds that keep a long or hostile line cheap: no listed name is near this long, and a real
# medication line never holds this many unlisted words.
_FUZZY_MAX_LENGTH: Final = 32
_FUZZY_WORDS_PER_LINE: Final = 40
# A word glued to the next ("oxycodoneapap") is split only from this length on, up to the length
# of two long names.
_SPLIT_MIN_LENGTH: Final = 10
_SPLIT_MAX_LENGTH: Final = 40


# Table rows are loaded once and compared by identity: hashing one is then cheap.
@dataclass(frozen=True, eq=False)
class Ingredient:
    """One row of the ingredients table."""

    name: str  # "buprenorphine"
    role: str  # one of ROLES
    detail: str  # the drug class; for an interacting drug, the reason shown to the pharmacist
    note: str = ""

    @property
    def kind(self) -> str:
        return KIND_OF_ROLE[self.role]

    @property
    def is_opioid(self) -> bool:
        return self.role in OPIOID_ROLES

    @property
    def drug_class(self) -> str:
        """What a pharmacist reads beside the name: the opioid's class, or the detail."""
        if self.role == UNSPECIFIED_OPIOID:
            return "unspecified"
        if self.role in OPIOID_ROLES:
            return self.role
        return self.detail


@dataclass(frozen=True, eq=False)
class Product:
    """One row of the products table: a name as people write it, and what it holds."""

    name: str  # as listed: "Suboxone", "bup/nal", "Mitragyna speciosa"
    ingredients: tuple[Ingredient, ...]
    name_type: str  # one of NAME_TYPES
    note: str = ""

    @property
    def is_opioid(self) -> bool:
        """Any opioid ingredient makes the product an opioid, whatever else it holds."""
        return any(ingredient.is_opioid for ingredient in self.ingredients)

    @property
    def holds_antagonist(self) -> bool:
        return any(ingredient.kind == ANTAGONIST for ingredient in self.ingredients)


@dataclass(frozen=True)
class Lookalike:
    """A curated pair that must never be confused: ``name`` only looks like ``looks_like``."""

    name: str
    looks_like: str
    note: str = ""


@dataclass(frozen=True)
class MedicationEntry:
    """A product and one of its ingredients, flat: what ``medication_table`` lists."""

    name: str
    generic: str
    kind: str
    drug_class: str
    name_type: str
    note: str
    role: str = ""


@dataclass(frozen=True)
class MedicationMatch:
    kind: str  # opioid | interaction | thyroid | immunosuppressant | antagonist | not_opioid
    generic: str  # the ingredient, e.g. "hydrocodone"
    written_as: str  # the words as found in the line, normalised: "norco", "tylenol 3", "oxycodon"
    drug_class: str  # "full agonist", "partial agonist", ...; for interactions the reason
    name: str = ""  # the product's name as listed: "Norco", "Tylenol #3"
    name_type: str = ""  # one of NAME_TYPES
    fuzzy: bool = False  # read as the nearest listed name (a misspelling)
    role: str = ""  # the ingredient's role: "partial agonist", "naltrexone", ...
    ingredients: tuple[str, ...] = ()  # every ingredient of the product, in the table's order
    past_use: str = ""  # the words that make it read as past use ("last year"); "" when current

    def describe(self) -> str:
        """What the line matched, for a pharmacist: 'hydrocodone (in combination product Norco)'."""
        details: list[str] = []
        if _key(self.name) != _key(self.generic):
            if len(self.ingredients) > 1:
                details.append(f"in combination product {self.name}")
            else:
                label = _NAME_TYPE_LABELS.get(self.name_type, self.name_type)
                details.append(f"{label} {self.name}".strip())
        if self.fuzzy:
            details.append(f"written '{self.written_as}'")
        return f"{self.generic} ({', '.join(details)})" if details else self.generic


_NAME_TYPE_LABELS: Final[dict[str, str]] = {
    "generic": "also called",
    "brand": "brand",
    "abbreviation": "abbreviation",
    "street": "street name",
    "botanical": "botanical name",
    "foreign": "also written",
    "misspelling": "misspelt",
}


# Compared by identity: many lines share the reading of the one name they hold ("Norco 5/325",
# "norco prn"), which makes it a cheap cache key for what screening says about it.
@dataclass(frozen=True, eq=False)
class LineReading:
    """What one line says: the drugs it names as taken, and those it names only to deny."""

    matches: tuple[MedicationMatch, ...] = ()  # reported kinds, taken now or in the past
    negated: tuple[MedicationMatch, ...] = ()  # named under a negation ("no opioids"): disclose nothing
    others: tuple[MedicationMatch, ...] = ()  # lookalikes and everyday drugs named (bupropion in Contrave)

    @property
    def opioids(self) -> tuple[MedicationMatch, ...]:
        return tuple(match for match in self.matches if match.kind == OPIOID)


_NOTHING: Final = LineReading()


def match_medication(line: str) -> list[MedicationMatch]:
    """Every listed drug a line names as taken, in the order written, one per (kind, generic).

    Denied drugs ("no opioids"), lookalikes and everyday drugs are read but not returned.
    """
    return list(read_line(line).matches)


def is_opioid(line: str) -> bool:
    return any(match.kind == OPIOID for match in read_line(line).matches)


def medication_table() -> tuple[MedicationEntry, ...]:
    """Every product with each of its ingredients, as loaded (validated once)."""
    return _flat_table()


def products() -> tuple[Product, ...]:
    return _tables().products


def ingredients() -> dict[str, Ingredient]:
    return dict(_tables().ingredients)


def lookalikes() -> tuple[Lookalike, ...]:
    return _tables().lookalikes


def forget_lines() -> None:
    """Empty the per-line cache, to time or test screening on lines never read before."""
    _read_kept.cache_clear()


def forget_words() -> None:
    """Empty the per-line cache and the misspelt-word caches, to time or test reading words never
    guessed at before."""
    _read_kept.cache_clear()
    _corrections.cache_clear()
    _glued_names.cache_clear()


def read_line(line: str) -> LineReading:
    """The drugs one line names, each as taken, past or denied.

    Patients write the same lines again and again ("vitamin D", "Synthroid 50 mcg"): each is read
    once per process. The reading is frozen, so sharing it is safe. A line longer than any real
    one is read every time, never kept, so pasted essays cannot fill the memory.
    """
    if len(line) > _LONGEST_KEPT_LINE:
        return _read(line)
    return _read_kept(line)


_LONGEST_KEPT_LINE: Final = 300


def _read(line: str) -> LineReading:
    tokens, breaks = _tokens_and_breaks(line)
    if not tokens:
        return _NOTHING
    index = _index()
    mentions = _scan(tokens, index)
    if not mentions:
        return _NOTHING
    if index.cue_words.isdisjoint(tokens):
        # Most lines hold no cue word at all: every name in them is taken now.
        if len(mentions) == 1:
            return mentions[0].named.alone
        return _assemble([(mention, False, "") for mention in mentions])
    return _assemble(_with_cues(tokens, breaks, mentions, index))


_read_kept = functools.lru_cache(maxsize=16384)(_read)


# --- reading a line ---------------------------------------------------------------------------

_WITHOUT = re.compile(r"\bw/o\b")
_WITH = re.compile(r"\bw/")
_NUMBER_SIGN = re.compile(r"\bno\.?\s*(?=\d)")  # "Tylenol No. 3" -> "Tylenol 3"
# A word is a run of letters or a run of digits ("10mg" is "10" "mg"); , ; . ! end a clause, except
# a decimal point ("7.5"). A question mark does not: "Suboxone? No" is one answer.
_PIECE = re.compile(r"[a-z]+|[0-9]+|[,;!]|\.(?!\d)")
_CLAUSE_ENDS: Final = frozenset(",;!.")
_NO_BREAKS: Final[frozenset[int]] = frozenset()


@functools.lru_cache(maxsize=4096)
def _key(text: str) -> tuple[str, ...]:
    # Table names and generics only (a bounded set), read again for every match described.
    return _tokens(text)


def _tokens(text: str) -> tuple[str, ...]:
    return _tokens_and_breaks(text)[0]


def _tokens_and_breaks(text: str) -> tuple[tuple[str, ...], frozenset[int]]:
    """The words of a line, and the positions of the words that begin a new clause."""
    if not text.isascii():
        # Accents off ("Lövelace" -> "lovelace"); most lines are plain ASCII and skip this.
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
        text = text.replace("\u00b5", "u").replace("\u03bc", "u")
    plain = text.lower()
    # Each rewrite runs only where its marker occurs: a regex pass costs more than the test.
    if "w/" in plain:
        plain = _WITH.sub(" with ", _WITHOUT.sub(" without ", plain))
    if "&" in plain:
        plain = plain.replace("&", " and ")
    if "no" in plain:
        plain = _NUMBER_SIGN.sub(" ", plain)
    normalisation = _normalisation()
    pieces = _PIECE.findall(plain)
    if normalisation.rewritten_or_breaks.isdisjoint(pieces):
        return tuple(pieces), _NO_BREAKS
    rewrites = normalisation.rewrites
    words: list[str] = []
    breaks: list[int] = []
    for piece in pieces:
        if piece in _CLAUSE_ENDS:
            breaks.append(len(words))
            continue
        rewritten = rewrites.get(piece)
        if rewritten is None:
            words.append(piece)
        else:
            words.extend(rewritten)
    return tuple(words), frozenset(breaks)


class _Named(NamedTuple):
    """What a name (or a misspelling of it) stands for in a line."""

    matches: tuple[MedicationMatch, ...]  # one per ingredient of each product named, taken now
    alone: LineReading  # the reading of a line that names only this


class _Mention(NamedTuple):
    start: int  # first word
    end: int  # one past the last word
    named: _Named


def _scan(tokens: tuple[str, ...], index: _Index) -> list[_Mention]:
    """The listed names in the words, left to right, the longest name first."""
    exact = index.exact
    longest_from = index.longest_from
    known_words = index.known_words
    mentions: list[_Mention] = []
    position = 0
    guesses_left = _FUZZY_WORDS_PER_LINE
    count = len(tokens)
    while position < count:
        word = tokens[position]
        longest = longest_from.get(word)
        if longest is not None:
            if longest == 1:
                named = exact.get((word,))
                if named is not None:
                    mentions.append(_Mention(position, position + 1, named))
                    position += 1
                    continue
            else:
                found = _longest_name(tokens, position, word, longest, index)
                if found is not None:
                    length, words = found
                    mentions.append(_Mention(position, position + length, exact[words]))
                    position += length
                    continue
        position += 1
        if len(word) < _FUZZY_MIN_LENGTH or word in known_words:
            continue
        if word[-1] == "s" and (word[:-1],) in exact:
            # A plural of a one-word name: "norcos", "percocets".
            mentions.append(_Mention(position - 1, position, _name_matches(index.names[(word[:-1],)], (word,))))
            continue
        if guesses_left <= 0 or not word.isalpha():
            continue
        guesses_left -= 1
        glued = _glued_names(word)
        if glued:
            mentions.extend(
                _Mention(position - 1, position, _name_matches(index.names[(name,)], (word,))) for name in glued
            )
            continue
        guess = _guess(tokens, position - 1, _corrections(word), index)
        if guess is not None:
            mentions.append(guess)
            position = guess.end
    return mentions


def _longest_name(
    tokens: Sequence[str], position: int, first: str, longest: int, index: _Index
) -> tuple[int, tuple[str, ...]] | None:
    """The longest listed name that starts at ``position`` with ``first`` (which may be a correction)."""
    names = index.names
    longest = min(longest, len(tokens) - position)
    for length in range(longest, 0, -1):
        words = (first, *tokens[position + 1 : position + length]) if length > 1 else (first,)
        if words in names:
            return length, words
    return None


def _guess(tokens: Sequence[str], position: int, corrections: _Corrections, index: _Index) -> _Mention | None:
    """The products a misspelt word most likely names, or None where the reading is not safe."""
    if not corrections.words:
        return None
    best_length = 0
    named: list[Product] = []
    for correction in corrections.words:
        found = _longest_name(tokens, position, correction, index.longest_from.get(correction, 0), index)
        if found is None:
            continue
        length, words = found
        products_named = index.names[words]
        if length > best_length:
            best_length, named = length, list(products_named)
        elif length == best_length:
            named.extend(product for product in products_named if product not in named)
    if not named:
        return None
    chosen = _settle_tie(named)
    chosen = tuple(
        product
        for product in chosen
        if not (product.is_opioid and _guarded(tokens[position], product, corrections.distance, index))
    )
    if not chosen:
        return None
    # Described by the real name where a listed misspelling ties with it ("suboxon": Suboxone).
    chosen = tuple(sorted(chosen, key=lambda product: product.name_type == "misspelling"))
    written = tuple(tokens[position : position + best_length])
    return _Mention(position, position + best_length, _name_matches(chosen, written, fuzzy=True))


def _settle_tie(named: Sequence[Product]) -> tuple[Product, ...]:
    """Equally near names: an opioid is read only where nothing but antagonists stands beside it.

    A word as near to bupropion as to buprenorphine names neither for sure, and a false hard stop
    sends a patient away; but an antagonist never outweighs an opioid (a misspelt Suboxone is not
    naloxone alone).
    """
    if not any(product.is_opioid for product in named):
        return tuple(named)
    if any(not product.is_opioid and not product.holds_antagonist for product in named):
        return tuple(product for product in named if not product.is_opioid)
    return tuple(named)


def _guarded(word: str, product: Product, distance: int, index: _Index) -> bool:
    """True when a curated lookalike of this opioid is as few edits from the word as the opioid is.

    Sounding alike decides other ties, but not against a known lookalike pair: a word as near to
    trazodone as to tramadol is not read as tramadol.
    """
    return any(
        OSA.distance(word, lookalike, score_cutoff=distance) <= distance
        for lookalike in index.guards.get(product.name, ())
    )


# --- misspelt words -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16384)
def _glued_names(word: str) -> tuple[str, ...]:
    """The listed one-word names in two words written as one ("oxycodoneapap"), longest first part first."""
    if not _SPLIT_MIN_LENGTH <= len(word) <= _SPLIT_MAX_LENGTH:
        return ()
    index = _index()
    rewrites = _normalisation().rewrites
    for cut in range(len(word) - 2, 3, -1):
        first, rest = word[:cut], word[cut:]
        if (first,) not in index.names:
            continue
        rest_words = rewrites.get(rest, (rest,))
        if len(rest_words) == 1 and (rest_words[0],) in index.names:
            return first, rest_words[0]
        if rest in index.known_words or rest in rewrites:
            return (first,)
    return ()


@dataclass(frozen=True)
class _Corrections:
    words: tuple[str, ...] = ()  # the nearest vocabulary words, equally near
    distance: int = 0  # their edit distance from the word


_NO_CORRECTION: Final = _Corrections()


@functools.lru_cache(maxsize=16384)
def _corrections(word: str) -> _Corrections:
    """The vocabulary words nearest to a word that names nothing listed, if near enough.

    Near means few edits for its length, one more where it sounds the same (Double Metaphone:
    "perkoset" and "Percocet" are both PRKST), and the same first letter unless it sounds the same
    ("cratom" for kratom). The whole vocabulary competes, so "bupropian" is read as bupropion.
    """
    if not _FUZZY_MIN_LENGTH <= len(word) <= _FUZZY_MAX_LENGTH or not word.isalpha():
        return _NO_CORRECTION
    index = _index()
    keys = _sounds(word)
    _allowed, most = _allowed_edits(len(word))
    candidates = process.extract(word, index.fuzzy_words, scorer=OSA.distance, score_cutoff=most, limit=None)
    best: tuple[int, int] | None = None
    nearest: list[str] = []
    for candidate, distance, _position in candidates:
        score = _score(word, keys, candidate, int(distance), index.sounds[candidate])
        if score is None:
            continue
        if best is None or score < best:
            best, nearest = score, [candidate]
        elif score == best:
            nearest.append(candidate)
    if best is None:
        return _NO_CORRECTION
    return _Corrections(words=tuple(sorted(nearest)), distance=best[0])


def _score(
    word: str, keys: frozenset[str], candidate: str, distance: int, sounds: frozenset[str]
) -> tuple[int, int] | None:
    """How near a candidate is (edits, then 0 where it sounds the same), or None if too far to guess."""
    sounds_alike = not keys.isdisjoint(sounds)
    allowed, allowed_sounding_alike = _allowed_edits(len(word))
    if distance > (allowed_sounding_alike if sounds_alike else allowed):
        return None
    if not sounds_alike and candidate[0] != word[0]:
        return None
    if len(word) <= 6 and not sounds_alike and not _is_swap(word, candidate):
        # Short words: one slip only where it still sounds the same, or two letters swapped.
        return None
    return distance, 0 if sounds_alike else 1


def _allowed_edits(length: int) -> tuple[int, int]:
    """Edits allowed for a word of this length: as written, and where it sounds the same."""
    if length <= 6:
        return 1, 1
    if length <= 8:
        return 1, 2
    return 2, 3


def _sounds(word: str) -> frozenset[str]:
    return frozenset(key for key in doublemetaphone(word) if key)


def _is_swap(word: str, name: str) -> bool:
    """Two neighbouring letters swapped ("nubian" for Nubain): one edit that changes two places."""
    return len(word) == len(name) and Hamming.distance(word, name) == 2 and OSA.distance(word, name) == 1


# --- negation and past use ----------------------------------------------------------------------

NEGATION_BEFORE: Final = "negation_before"
NEGATION_AFTER: Final = "negation_after"
NEGATION_RIGHT_AFTER: Final = "negation_right_after"
PSEUDO_NEGATION: Final = "pseudo_negation"
STOPPED_BEFORE: Final = "stopped_words_before"
STOPPED_AFTER: Final = "stopped_words_after"
PAST_BEFORE: Final = "past_use_before"
PAST_AFTER: Final = "past_use_after"
SCOPE_ENDS: Final = "scope_ends"
PAST_SCOPE_ENDS: Final = "past_use_scope_ends"
CUE_KINDS: Final = (
    NEGATION_BEFORE, NEGATION_AFTER, NEGATION_RIGHT_AFTER, PSEUDO_NEGATION, STOPPED_BEFORE, STOPPED_AFTER,
    PAST_BEFORE, PAST_AFTER, SCOPE_ENDS, PAST_SCOPE_ENDS,
)  # fmt: skip
_MONTHS: Final = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})  # fmt: skip


@dataclass(frozen=True)
class _Cue:
    start: int
    end: int
    kinds: frozenset[str]
    words: str


def _cue_word(word: str) -> str:
    """Months and years read as placeholders, so that "in May" and "in 2019" are one cue each."""
    if word in _MONTHS:
        return "<month>"
    if len(word) == 4 and word.isdigit() and 1950 <= int(word) <= 2099:
        return "<year>"
    return word


def _with_cues(
    tokens: tuple[str, ...], breaks: frozenset[int], mentions: Sequence[_Mention], index: _Index
) -> list[tuple[_Mention, bool, str]]:
    """Each mention with whether it is denied and the words that make it past use."""
    cues = _find_cues(tokens, breaks, mentions, index)
    window = index.cue_window
    # Where each cue starts and ends, and which words end a scope: a mention looks only at the
    # few words around it, so a long or hostile line stays cheap.
    ending_at: dict[int, list[_Cue]] = {}
    starting_at: dict[int, _Cue] = {}
    scope_ends: set[int] = set()
    past_scope_ends: set[int] = set()
    for cue in cues:
        ending_at.setdefault(cue.end, []).append(cue)
        starting_at[cue.start] = cue
        if SCOPE_ENDS in cue.kinds:
            scope_ends.add(cue.start)
        if PAST_SCOPE_ENDS in cue.kinds:
            past_scope_ends.add(cue.start)
    mention_starts = {mention.start for mention in mentions}
    count = len(tokens)
    read: list[tuple[_Mention, bool, str]] = []
    for mention in mentions:
        negated = False
        stopped = ""
        past = ""
        # Cues before the mention, nearest first, until a clause or a scope ends.
        past_open = True
        for end in range(mention.start, max(mention.start - window, 0) - 1, -1):
            if end in breaks:
                break
            ends_here = ending_at.get(end, ())
            for cue in ends_here:
                if NEGATION_BEFORE in cue.kinds:
                    negated = True
                if STOPPED_BEFORE in cue.kinds:
                    stopped = stopped or cue.words
                if PAST_BEFORE in cue.kinds and past_open:
                    past = past or cue.words
            if any(SCOPE_ENDS in cue.kinds for cue in ends_here):
                break
            if any(PAST_SCOPE_ENDS in cue.kinds for cue in ends_here):
                past_open = False
        # Cues after it.
        past_open = True
        crossed = 0
        for start in range(mention.end, min(mention.end + window, count) + 1):
            if start in breaks:
                crossed += 1
                if crossed > 1:
                    break
            if crossed and start in mention_starts:
                break  # the next clause names a drug of its own: its words are about that drug
            following = starting_at.get(start)
            if following is None:
                continue
            if crossed == 0:
                if NEGATION_RIGHT_AFTER in following.kinds and start == mention.end:
                    negated = True
                if NEGATION_AFTER in following.kinds and (following.end == count or following.end in breaks):
                    negated = True
            # "Oxycodone, stopped in May": words of past use in a clause of their own belong to
            # the drug just before them.
            if STOPPED_AFTER in following.kinds:
                stopped = stopped or following.words
            if PAST_AFTER in following.kinds and past_open:
                past = past or following.words
            if SCOPE_ENDS in following.kinds or (crossed and following.kinds & _NEGATIONS):
                break
            if PAST_SCOPE_ENDS in following.kinds:
                past_open = False
        if stopped:
            # "I don't take oxycodone anymore": stopped, so still a stop until the last dose is known.
            read.append((mention, False, stopped))
        else:
            read.append((mention, negated, "" if negated else past))
    return read


def _find_cues(
    tokens: tuple[str, ...], breaks: frozenset[int], mentions: Sequence[_Mention], index: _Index
) -> list[_Cue]:
    """The cue phrases outside drug names, the longest first; a cue never spans a clause end."""
    inside = {position for mention in mentions for position in range(mention.start, mention.end)}
    words = [_cue_word(word) for word in tokens]
    cues: list[_Cue] = []
    position = 0
    count = len(words)
    while position < count:
        options = index.cues.get(words[position]) if position not in inside else None
        if not options:
            position += 1
            continue
        for phrase, kinds in options:
            end = position + len(phrase)
            if (
                end <= count
                and tuple(words[position:end]) == phrase
                and not any(p in inside for p in range(position, end))
                and not any(b in breaks for b in range(position + 1, end))
            ):
                cues.append(_Cue(position, end, kinds, " ".join(tokens[position:end])))
                position = end
                break
        else:
            position += 1
    return cues


_NEGATIONS: Final = frozenset({NEGATION_BEFORE, NEGATION_AFTER, NEGATION_RIGHT_AFTER})


# --- from mentions to matches -------------------------------------------------------------------


def _assemble(read: Iterable[tuple[_Mention, bool, str]]) -> LineReading:
    """One match per (kind, ingredient), in the order written: taken beats denied, now beats past."""
    taken: dict[tuple[str, str], MedicationMatch] = {}
    denied: dict[tuple[str, str], MedicationMatch] = {}
    for mention, negated, past in read:
        matches = mention.named.matches
        for match in _as_past(matches, past) if past else matches:
            key = (match.kind, match.generic)
            if negated:
                denied.setdefault(key, match)
            elif key not in taken or (taken[key].past_use and not past):
                taken[key] = match
    negated_only = tuple(match for key, match in denied.items() if key not in taken and match.kind != NOT_OPIOID)
    return _reading(tuple(taken.values()), negated_only)


def _reading(matches: tuple[MedicationMatch, ...], negated: tuple[MedicationMatch, ...] = ()) -> LineReading:
    return LineReading(
        matches=tuple(match for match in matches if match.kind != NOT_OPIOID),
        negated=negated,
        others=tuple(match for match in matches if match.kind == NOT_OPIOID),
    )


# Built once per name and spelling rather than once per line: building frozen matches costs more
# than finding them.
@functools.lru_cache(maxsize=16384)
def _name_matches(named: tuple[Product, ...], written: tuple[str, ...], fuzzy: bool = False) -> _Named:
    written_as = " ".join(written)
    found: dict[tuple[str, str], MedicationMatch] = {}
    for product in named:
        names = tuple(ingredient.name for ingredient in product.ingredients)
        for ingredient in product.ingredients:
            found.setdefault(
                (ingredient.kind, ingredient.name),
                MedicationMatch(
                    kind=ingredient.kind,
                    generic=ingredient.name,
                    written_as=written_as,
                    drug_class=ingredient.drug_class,
                    name=product.name,
                    name_type=product.name_type,
                    fuzzy=fuzzy,
                    role=ingredient.role,
                    ingredients=names,
                ),
            )
    matches = tuple(found.values())
    return _Named(matches=matches, alone=_reading(matches))


@functools.lru_cache(maxsize=4096)
def _as_past(matches: tuple[MedicationMatch, ...], past: str) -> tuple[MedicationMatch, ...]:
    return tuple(replace(match, past_use=past) for match in matches)


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalisation:
    rewrites: dict[str, tuple[str, ...]]  # abbreviations: "apap" -> ("acetaminophen",)
    ignored_words: frozenset[str]  # dose, form and sig words, never guessed as a drug
    rewritten_or_breaks: frozenset[str]  # the pieces of a line that need more than splitting


@dataclass(frozen=True)
class _Tables:
    ingredients: dict[str, Ingredient]
    products: tuple[Product, ...]
    lookalikes: tuple[Lookalike, ...]


@dataclass(frozen=True)
class _Index:
    names: dict[tuple[str, ...], tuple[Product, ...]]
    exact: dict[tuple[str, ...], _Named]  # each listed name, read as written
    longest_from: dict[str, int]  # first word -> the most words of a listed name that begins with it
    known_words: frozenset[str]  # every word of a name, an ignored word or a cue: never guessed
    fuzzy_words: tuple[str, ...]  # the vocabulary a misspelt word is compared with
    sounds: dict[str, frozenset[str]]  # vocabulary word -> its Double Metaphone keys
    guards: dict[str, tuple[str, ...]]  # opioid product name -> its curated lookalikes, as one word each
    cues: dict[str, tuple[tuple[tuple[str, ...], frozenset[str]], ...]]  # first word -> phrases, longest first
    cue_words: frozenset[str]  # every word that begins a cue, as written (months and years too)
    cue_window: int


def _data_text(filename: str) -> str:
    return (DATA_DIR / filename).read_text(encoding="utf-8")


@functools.cache
def _normalisation() -> _Normalisation:
    raw = json.loads(_data_text(NORMALISATION_FILE))
    rewrites = {
        str(written).lower(): tuple(str(meaning).lower().split()) for written, meaning in raw["abbreviations"].items()
    }
    return _Normalisation(
        rewrites=rewrites,
        ignored_words=frozenset(str(word).lower() for word in raw["ignored_words"]),
        rewritten_or_breaks=frozenset(rewrites) | _CLAUSE_ENDS,
    )


@functools.cache
def _tables() -> _Tables:
    table_ingredients = _read_ingredients(_data_text(INGREDIENTS_FILE), INGREDIENTS_FILE)
    table_products = _read_products(_data_text(PRODUCTS_FILE), PRODUCTS_FILE, table_ingredients)
    table_lookalikes = _read_lookalikes(_data_text(LOOKALIKES_FILE), LOOKALIKES_FILE, table_products)
    return _Tables(ingredients=table_ingredients, products=table_products, lookalikes=table_lookalikes)


def _rows(text: str, filename: str, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or list(reader.fieldnames) != list(columns):
        raise ValueError(f"{filename}: the columns must be {', '.join(columns)}")
    for line_number, row in enumerate(reader, start=2):
        if None in row or any(value is None for value in row.values()):
            raise ValueError(f"{filename} line {line_number}: expected {len(columns)} columns")
        yield line_number, {key: value.strip() for key, value in row.items()}


def _read_ingredients(text: str, filename: str) -> dict[str, Ingredient]:
    found: dict[str, Ingredient] = {}
    for line_number, row in _rows(text, filename, ("ingredient", "role", "detail", "note")):
        name = row["ingredient"].lower()
        where = f"{filename} line {line_number}"
        if not name:
            raise ValueError(f"{where}: needs an ingredient")
        if row["role"] not in ROLES:
            raise ValueError(f"{where}: role {row['role']!r} is not one of {', '.join(sorted(ROLES))}")
        if row["role"] == INTERACTING and not row["detail"]:
            raise ValueError(f"{where}: an interacting drug needs its reason in detail")
        if name in found:
            raise ValueError(f"{where}: {name!r} is listed twice")
        found[name] = Ingredient(name=name, role=row["role"], detail=row["detail"], note=row["note"])
    return found


def _read_products(text: str, filename: str, known: dict[str, Ingredient]) -> tuple[Product, ...]:
    found: list[Product] = []
    seen: dict[tuple[str, ...], int] = {}
    for line_number, row in _rows(text, filename, ("name", "ingredients", "name_type", "note")):
        where = f"{filename} line {line_number}"
        name = row["name"]
        words = _tokens(name)
        if not name or not words:
            raise ValueError(f"{where}: needs a name with a word in it")
        if row["name_type"] not in NAME_TYPES:
            raise ValueError(f"{where}: name_type {row['name_type']!r} is not one of {', '.join(sorted(NAME_TYPES))}")
        parts = [part.strip().lower() for part in row["ingredients"].split("+")]
        if not all(parts):
            raise ValueError(f"{where}: needs its ingredients, written 'a + b'")
        unknown = [part for part in parts if part not in known]
        if unknown:
            raise ValueError(f"{where}: {', '.join(unknown)} not in {INGREDIENTS_FILE}")
        if len(set(parts)) != len(parts):
            raise ValueError(f"{where}: an ingredient is written twice")
        if words in seen:
            raise ValueError(f"{where}: {name!r} reads the same as the name on line {seen[words]}")
        seen[words] = line_number
        found.append(
            Product(
                name=name,
                ingredients=tuple(known[part] for part in parts),
                name_type=row["name_type"],
                note=row["note"],
            )
        )
    return tuple(found)


def _read_lookalikes(text: str, filename: str, listed: Sequence[Product]) -> tuple[Lookalike, ...]:
    by_name = {_tokens(product.name): product for product in listed}
    found: list[Lookalike] = []
    for line_number, row in _rows(text, filename, ("name", "looks_like", "note")):
        where = f"{filename} line {line_number}"
        lookalike = by_name.get(_tokens(row["name"]))
        opioid = by_name.get(_tokens(row["looks_like"]))
        if lookalike is None or opioid is None:
            raise ValueError(f"{where}: both names must be listed in {PRODUCTS_FILE}")
        if lookalike.is_opioid or not opioid.is_opioid:
            raise ValueError(f"{where}: {row['name']!r} must hold no opioid and {row['looks_like']!r} one")
        found.append(Lookalike(name=lookalike.name, looks_like=opioid.name, note=row["note"]))
    return tuple(found)


@functools.cache
def _flat_table() -> tuple[MedicationEntry, ...]:
    return tuple(
        MedicationEntry(
            name=product.name,
            generic=ingredient.name,
            kind=ingredient.kind,
            drug_class=ingredient.drug_class,
            name_type=product.name_type,
            note=product.note,
            role=ingredient.role,
        )
        for product in _tables().products
        for ingredient in product.ingredients
    )


@functools.cache
def _cue_table() -> tuple[dict[str, list[str]], int]:
    raw = json.loads(_data_text(CUES_FILE))
    phrases: dict[str, list[str]] = {}
    for kind in CUE_KINDS:
        listed = raw.get(kind)
        if not isinstance(listed, list) or not all(isinstance(phrase, str) and phrase.strip() for phrase in listed):
            raise ValueError(f"{CUES_FILE}: {kind} must be a list of phrases")
        phrases[kind] = listed
    window = raw.get("window")
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"{CUES_FILE}: window must be a whole number of words")
    return phrases, window


@functools.cache
def _index() -> _Index:
    tables = _tables()
    phrases, window = _cue_table()
    return _build_index(tables.products, tables.lookalikes, phrases, window)


def _build_index(
    listed: Iterable[Product],
    pairs: Iterable[Lookalike] = (),
    cue_phrases: dict[str, list[str]] | None = None,
    cue_window: int = 8,
) -> _Index:
    names: dict[tuple[str, ...], list[Product]] = {}
    for product in listed:
        names.setdefault(_tokens(product.name), []).append(product)
    longest_from: dict[str, int] = {}
    for words in names:
        longest_from[words[0]] = max(longest_from.get(words[0], 0), len(words))
    vocabulary = {word for words in names for word in words}
    fuzzy_words = tuple(sorted(word for word in vocabulary if word.isalpha() and len(word) >= _FUZZY_MIN_LENGTH - 1))
    guards: dict[str, list[str]] = {}
    for pair in pairs:
        guards.setdefault(pair.looks_like, []).append("".join(_tokens(pair.name)))
    cues: dict[str, list[tuple[tuple[str, ...], set[str]]]] = {}
    for kind, kind_phrases in (cue_phrases or {}).items():
        for phrase in kind_phrases:
            words = tuple(_cue_word(word) for word in _tokens(phrase)) if "<" not in phrase else tuple(phrase.split())
            options = cues.setdefault(words[0], [])
            for existing, kinds in options:
                if existing == words:
                    kinds.add(kind)
                    break
            else:
                options.append((words, {kind}))
    # Only a cue that can change a reading sends a line down the slower path.
    effective = {NEGATION_BEFORE, NEGATION_AFTER, NEGATION_RIGHT_AFTER, STOPPED_BEFORE, STOPPED_AFTER}
    effective |= {PAST_BEFORE, PAST_AFTER}
    cue_words = {first for first, options in cues.items() if any(kinds & effective for _phrase, kinds in options)}
    if "<month>" in cue_words:
        cue_words |= _MONTHS
    if "<year>" in cue_words:
        cue_words |= {str(year) for year in range(1950, 2100)}
    cue_words -= {"<month>", "<year>"}
    cue_vocabulary = {word for options in cues.values() for phrase, _kinds in options for word in phrase}
    return _Index(
        names={words: tuple(found) for words, found in names.items()},
        exact={words: _name_matches(tuple(found), words) for words, found in names.items()},
        longest_from=longest_from,
        known_words=frozenset(vocabulary | _normalisation().ignored_words | cue_vocabulary),
        fuzzy_words=fuzzy_words,
        sounds={word: _sounds(word) for word in fuzzy_words},
        guards={name: tuple(found) for name, found in guards.items()},
        cues={
            first: tuple((phrase, frozenset(kinds)) for phrase, kinds in sorted(options, key=lambda o: -len(o[0])))
            for first, options in cues.items()
        },
        cue_words=frozenset(cue_words),
        cue_window=cue_window,
    )
