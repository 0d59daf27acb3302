"""Recognising drugs in medication lines as people write them."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from intake.clinical import medications
from intake.clinical.medications import (
    ANTAGONIST,
    KIND_FILES,
    NOT_OPIOID,
    OPIOID,
    MedicationMatch,
    is_opioid,
    match_medication,
    medication_table,
)

HERE = Path(__file__).resolve().parent


def _rows(filename: str) -> list[dict[str, str]]:
    with (HERE / filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


OPIOID_LINES = _rows("opioid_lines.csv")
OTHER_LINES = _rows("not_opioid_lines.csv")


def test_the_tables_are_large_enough():
    assert len(OPIOID_LINES) >= 220
    assert len(OTHER_LINES) >= 170


@pytest.mark.parametrize(
    ("line", "generic"),
    [(row["line"], row["generic"]) for row in OPIOID_LINES],
    ids=[row["line"] for row in OPIOID_LINES],
)
def test_opioid_line_is_recognised(line: str, generic: str):
    # when
    matches = match_medication(line)

    # then
    assert generic in {match.generic for match in matches if match.kind == OPIOID}
    assert is_opioid(line)


@pytest.mark.parametrize(
    ("line", "kinds"),
    [(row["line"], row["kinds"]) for row in OTHER_LINES],
    ids=[row["line"] for row in OTHER_LINES],
)
def test_other_line_is_not_an_opioid(line: str, kinds: str):
    # when
    matches = match_medication(line)

    # then
    assert not is_opioid(line)
    assert {match.kind for match in matches} == {kind for kind in kinds.split("|") if kind}


def _data_rows() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for kind, filename in KIND_FILES.items():
        path = HERE.parents[1] / "intake" / "clinical" / "data" / filename
        with path.open(encoding="utf-8", newline="") as handle:
            rows.extend((row["name"], row["generic"], kind) for row in csv.DictReader(handle))
    return rows


DATA_ROWS = _data_rows()


@pytest.mark.parametrize(
    ("name", "generic", "kind"),
    [row for row in DATA_ROWS if row[2] != NOT_OPIOID],
    ids=[f"{row[2]}:{row[0]}" for row in DATA_ROWS if row[2] != NOT_OPIOID],
)
def test_every_listed_name_matches_itself(name: str, generic: str, kind: str):
    matches = match_medication(name)

    assert (kind, generic.lower()) in {(match.kind, match.generic) for match in matches}
    assert not any(match.fuzzy for match in matches)


@pytest.mark.parametrize(
    ("name", "generic"),
    [(row[0], row[1]) for row in DATA_ROWS if row[2] == NOT_OPIOID],
    ids=[row[0] for row in DATA_ROWS if row[2] == NOT_OPIOID],
)
def test_every_listed_non_opioid_matches_nothing_reported(name: str, generic: str):
    assert match_medication(name) == []


def test_every_listed_name_matches_itself_in_any_case_and_with_a_dose():
    for name, generic, kind in DATA_ROWS:
        if kind == NOT_OPIOID:
            continue
        for written in (name.upper(), name.lower(), f"{name} 5 mg daily", f"take {name} 10mg prn"):
            matches = match_medication(written)
            assert (kind, generic.lower()) in {(match.kind, match.generic) for match in matches}, written


def test_the_table_holds_every_opioid_the_clinical_brief_names():
    generics = {entry.generic for entry in medication_table() if entry.kind == OPIOID}
    named = {
        "codeine", "dihydrocodeine", "hydrocodone", "oxycodone", "morphine", "hydromorphone",
        "oxymorphone", "fentanyl", "sufentanil", "alfentanil", "remifentanil", "meperidine",
        "methadone", "levorphanol", "tramadol", "tapentadol", "buprenorphine", "butorphanol",
        "pentazocine", "nalbuphine", "diphenoxylate", "difenoxin", "opium", "kratom",
        "benzhydrocodone", "carfentanil", "heroin", "propoxyphene",
    }  # fmt: skip
    assert named <= generics


def test_opioid_classes_are_agonists_partial_or_mixed():
    classes = {entry.drug_class for entry in medication_table() if entry.kind == OPIOID}
    assert classes <= {"full agonist", "partial agonist", "mixed agonist-antagonist", "unspecified"}
    by_generic = {entry.generic: entry.drug_class for entry in medication_table() if entry.kind == OPIOID}
    assert by_generic["buprenorphine"] == "partial agonist"
    assert by_generic["butorphanol"] == "mixed agonist-antagonist"
    assert by_generic["nalbuphine"] == "mixed agonist-antagonist"
    assert by_generic["pentazocine"] == "mixed agonist-antagonist"
    assert by_generic["hydrocodone"] == "full agonist"


def test_no_name_is_both_a_lookalike_and_a_drug_to_flag():
    words_by_kind: dict[tuple[str, ...], set[str]] = {}
    for entry in medication_table():
        words_by_kind.setdefault(medications._tokens(entry.name), set()).add(entry.kind)
    for words, kinds in words_by_kind.items():
        assert not (NOT_OPIOID in kinds and len(kinds) > 1), words


def test_every_row_has_a_known_name_type():
    for entry in medication_table():
        assert entry.name_type in medications.NAME_TYPES
        assert entry.name
        assert entry.generic


# --- how a line is read -----------------------------------------------------------------------


def test_a_brand_match_says_what_it_is():
    [match] = match_medication("Norco 5/325 prn")

    assert match == MedicationMatch(
        kind=OPIOID,
        generic="hydrocodone",
        written_as="norco",
        drug_class="full agonist",
        name="Norco",
        name_type="combination",
        fuzzy=False,
    )
    assert match.describe() == "hydrocodone (in combination product Norco)"


def test_a_generic_match_describes_itself_plainly():
    [match] = match_medication("tramadol 50mg")

    assert match.describe() == "tramadol"
    assert match.drug_class == "full agonist"


def test_a_misspelling_is_read_as_the_nearest_name_and_says_so():
    [match] = match_medication("oxycodon 5mg")

    assert match.generic == "oxycodone"
    assert match.fuzzy
    assert match.written_as == "oxycodon"
    assert match.describe() == "oxycodone (written 'oxycodon')"


def test_a_misspelt_brand_names_the_brand():
    [match] = match_medication("percoset")

    assert match.describe() == "oxycodone (in combination product Percocet, written 'percoset')"


@pytest.mark.parametrize(
    "line",
    ["bupropion", "oxybutynin", "oxcarbazepine", "hydroxyzine", "hydrochlorothiazide", "hydrocortisone",
     "hydroxychloroquine", "trazodone", "trandolapril", "methocarbamol", "metformin", "methylphenidate",
     "naproxen", "nabumetone", "oxytocin", "sotalol", "Avanza", "methylone"],
)  # fmt: skip
def test_a_lookalike_wins_over_the_opioid_it_resembles(line: str):
    assert match_medication(line) == []


@pytest.mark.parametrize(
    ("misspelt", "lookalike"),
    [("bupropian", "bupropion"), ("oxybutinin", "oxybutynin"), ("hydroxyzin", "hydroxyzine"),
     ("trazadone", "trazodone"), ("metformim", "metformin"), ("methocarbomol", "methocarbamol")],
)  # fmt: skip
def test_a_misspelt_lookalike_is_not_read_as_an_opioid(misspelt: str, lookalike: str):
    assert not is_opioid(misspelt)
    assert not is_opioid(lookalike)


def _entry(name: str, generic: str, kind: str) -> medications.MedicationEntry:
    return medications.MedicationEntry(
        name=name, generic=generic, kind=kind, drug_class="", name_type="generic", note=""
    )


@pytest.fixture
def tiny_index(monkeypatch: pytest.MonkeyPatch):
    """A two-name table: 'morphine' (opioid) and 'morphone' (a made-up lookalike)."""
    index = medications._build_index(
        [_entry("morphine", "morphine", OPIOID), _entry("morphone", "morphone", NOT_OPIOID),
         _entry("naloxone", "naloxone", ANTAGONIST), _entry("naloxine", "naloxine", OPIOID)]
    )  # fmt: skip
    monkeypatch.setattr(medications, "_index", lambda: index)
    medications._fuzzy_entries.cache_clear()
    yield index
    medications._fuzzy_entries.cache_clear()


@pytest.mark.usefixtures("tiny_index")
def test_a_tie_between_an_opioid_and_a_lookalike_goes_to_the_lookalike():
    # "morphane" is one edit from both names: the lookalike wins, nothing is reported.
    assert match_medication("morphane") == []
    # "morphina" is one edit from the opioid only.
    assert [match.generic for match in match_medication("morphina")] == ["morphine"]


@pytest.mark.usefixtures("tiny_index")
def test_a_tie_between_an_opioid_and_an_antagonist_goes_to_the_antagonist():
    assert [(match.kind, match.generic) for match in match_medication("naloxane")] == [(ANTAGONIST, "naloxone")]


def test_a_listed_name_in_two_kinds_including_not_opioid_is_refused():
    with pytest.raises(ValueError, match="listed both"):
        medications._build_index([_entry("Zorbo", "zorbo", OPIOID), _entry("zorbo", "zorbo", NOT_OPIOID)])


def test_a_six_letter_word_is_only_read_through_a_swap_of_two_letters():
    assert not is_opioid("target")  # one letter from Targin
    assert is_opioid("nubian")  # Nubain with two letters swapped
    assert not is_opioid("ultrim")  # one substitution from Ultram: too short to guess


def test_short_words_and_numbers_are_never_guessed():
    assert match_medication("nrco") == []
    assert match_medication("5/325") == []
    assert match_medication("") == []
    assert match_medication("   ,;/-  ") == []


def test_combination_products_are_split_on_every_separator():
    for line in (
        "oxycodone/acetaminophen",
        "oxycodone-acetaminophen",
        "oxycodone + acetaminophen",
        "acetaminophen with oxycodone",
        "acetaminophen w/ oxycodone",
        "acetaminophen & oxycodone",
        "acetaminophen,oxycodone",
        "(oxycodone)acetaminophen",
    ):
        assert is_opioid(line), line


def test_doses_units_and_frequency_words_do_not_hide_the_name():
    for line in ("Norco5/325", "norco 10-325mg", "NORCO #30", "norco q6h prn", "norco10mg", "norco bid"):
        assert is_opioid(line), line


def test_accents_and_odd_characters_are_read_plainly():
    assert is_opioid("CODÉINE")
    assert is_opioid("morfína")
    assert is_opioid("fentanyl 25\u00b5g/h")
    assert is_opioid("\u201cPercocet\u201d")


def test_the_longest_name_wins():
    assert not is_opioid("Robitussin")
    assert is_opioid("Robitussin AC")
    assert not is_opioid("Robitussin DM")
    assert not is_opioid("Fioricet")
    assert is_opioid("Fioricet with codeine")
    assert not is_opioid("Tylenol")
    assert is_opioid("Tylenol #3")
    assert not is_opioid("Tylenol 325")
    assert not is_opioid("poppy seed")
    assert is_opioid("poppy seed tea")


def test_a_line_with_several_drugs_reports_each_once_in_order():
    matches = match_medication("Suboxone 8/2 and Narcan, levothyroxine; suboxone again")

    assert [(match.kind, match.generic) for match in matches] == [
        (OPIOID, "buprenorphine"),
        (ANTAGONIST, "naloxone"),
        ("thyroid", "levothyroxine"),
    ]


def test_an_abbreviation_is_expanded():
    [match] = match_medication("hydrocodone/APAP")

    assert match.generic == "hydrocodone"
    assert medications._tokens("hydrocodone/APAP 5/325") == ("hydrocodone", "acetaminophen", "5", "325")
    assert medications._tokens("Tylenol w/ codeine No. 3") == ("tylenol", "with", "codeine", "3")
    assert medications._tokens("OxyContin ER") == ("oxycontin", "extended", "release")


def test_matching_is_fast():
    lines = [row["line"] for row in OPIOID_LINES + OTHER_LINES]
    medications._fuzzy_entries.cache_clear()
    medications._index()  # built once, outside the timing

    started = time.perf_counter()
    for line in lines:
        match_medication(line)
    per_line = (time.perf_counter() - started) / len(lines)

    assert per_line < 0.001


def test_a_long_or_hostile_line_stays_cheap():
    words = " ".join(f"qwertzuiop{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(2000))
    medications._fuzzy_entries.cache_clear()

    started = time.perf_counter()
    assert match_medication(words + " x" * 5000 + " " + "z" * 100_000) == []
    assert is_opioid(words + " Norco 10/325")

    assert time.perf_counter() - started < 0.5
