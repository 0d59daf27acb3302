"""Recognising drugs in medication lines as people write them, the way a pharmacist reads them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.hostile_lines import HOSTILE_LINES, UNLISTED_WORDS
from intake.clinical import medications
from intake.clinical.medications import (
    ANTAGONIST,
    NOT_OPIOID,
    OPIOID,
    MedicationMatch,
    is_opioid,
    match_medication,
    medication_table,
    products,
    read_line,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "intake" / "clinical" / "data"


def _rows(filename: str) -> list[dict[str, str]]:
    with (HERE / filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


OPIOID_LINES = _rows("opioid_lines.csv")
OTHER_LINES = _rows("not_opioid_lines.csv")
PRODUCTS = products()


def test_the_line_tables_are_large_enough():
    assert len(OPIOID_LINES) >= 400
    assert len(OTHER_LINES) >= 200


@pytest.mark.parametrize(
    ("line", "generic"),
    [(row["line"], row["generic"]) for row in OPIOID_LINES],
    ids=[f"{row['line']}:{row['generic']}" for row in OPIOID_LINES],
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


# --- the tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("product", PRODUCTS, ids=[product.name for product in PRODUCTS])
def test_every_listed_name_reads_as_its_ingredients(product: medications.Product):
    reading = read_line(product.name)

    named = {(match.kind, match.generic) for match in reading.matches + reading.others}
    assert named == {(ingredient.kind, ingredient.name) for ingredient in product.ingredients}
    assert not any(match.fuzzy for match in reading.matches + reading.others)
    assert is_opioid(product.name) == product.is_opioid


def test_every_listed_name_reads_the_same_in_any_case_and_with_a_dose():
    for product in PRODUCTS:
        expected = {
            (ingredient.kind, ingredient.name) for ingredient in product.ingredients if ingredient.kind != NOT_OPIOID
        }
        for written in (
            product.name.upper(),
            product.name.lower(),
            f"{product.name} 5 mg daily",
            f"take {product.name} 10mg prn",
        ):
            assert expected <= {(match.kind, match.generic) for match in match_medication(written)}, written


def test_a_product_is_an_opioid_when_any_ingredient_is():
    holding_both = [product for product in PRODUCTS if product.is_opioid and product.holds_antagonist]

    assert {"Suboxone", "Zubsolv", "Bunavail", "Talwin NX", "Targin", "Embeda", "bup nal"} <= {
        product.name for product in holding_both
    }
    for product in holding_both:
        assert is_opioid(product.name), product.name
        assert is_opioid(f"{product.name} film 8-2mg"), product.name


@pytest.mark.parametrize(
    "line", ["Suboxon 8mg film", "subozone", "bup/nal", "buprenorphine-naloxone", "Zubsolv", "Talwin NX", "suboxen",
             "Zubsolve", "Bunavale", "saboxone", "buprenorphine/naloxone 8-2", "pentazocine-naloxone", "Targinn"],
)  # fmt: skip
def test_no_antagonist_ever_cancels_the_opioid_beside_it(line: str):
    kinds = {match.kind for match in match_medication(line)}

    assert OPIOID in kinds
    assert ANTAGONIST in kinds


def test_a_misspelling_of_any_opioid_antagonist_combination_keeps_the_opioid():
    # One letter dropped inside the longest word of each name, as a patient would.
    for product in PRODUCTS:
        if not (product.is_opioid and product.holds_antagonist):
            continue
        word = max(product.name.split(), key=len)
        if len(word) < 8:
            continue
        for cut in range(2, len(word) - 1):
            misspelt = product.name.replace(word, word[:cut] + word[cut + 1 :])
            assert is_opioid(misspelt), misspelt


def test_the_table_holds_every_opioid_the_clinical_brief_names_with_other_names():
    names_of: dict[str, set[str]] = {}
    for entry in medication_table():
        if entry.kind == OPIOID:
            names_of.setdefault(entry.generic, set()).add(entry.name.lower())
    named = {
        "codeine", "dihydrocodeine", "hydrocodone", "oxycodone", "morphine", "hydromorphone", "oxymorphone",
        "fentanyl", "sufentanil", "meperidine", "methadone", "levorphanol", "tramadol", "tapentadol",
        "buprenorphine", "butorphanol", "pentazocine", "nalbuphine", "diphenoxylate", "opium", "kratom",
        "tianeptine", "alfentanil", "remifentanil", "difenoxin", "benzhydrocodone", "carfentanil", "heroin",
        "propoxyphene",
    }  # fmt: skip
    assert named <= set(names_of)
    for generic in named - {"carfentanil"}:
        assert len(names_of[generic]) >= 2, generic  # a brand, street or foreign name beside the generic


@pytest.mark.parametrize(
    ("generic", "names"),
    [
        ("kratom", ["Mitragyna speciosa", "ketum", "thang", "kakuam", "biak", "maeng da", "7-OH", "mitragynine"]),
        ("tianeptine", ["Tianaa", "Zaza", "gas station heroin", "Neptune's Fix", "Pegasus", "Stablon"]),
        ("opium", ["paregoric", "laudanum", "opium tincture", "poppy seed tea", "B&O"]),
        ("diphenoxylate", ["Lomotil", "Lonox", "co-phenotrope"]),
        ("buprenorphine", ["Suboxone", "Zubsolv", "Subutex", "Sublocade", "Butrans", "Belbuca", "bupe", "subs"]),
    ],
)
def test_street_botanical_and_brand_names_are_listed(generic: str, names: list[str]):
    for name in names:
        assert generic in {match.generic for match in match_medication(name)}, name


def test_ingredient_roles():
    table = medications.ingredients()

    assert table["buprenorphine"].role == "partial agonist"
    assert {table[name].role for name in ("butorphanol", "nalbuphine", "pentazocine")} == {"mixed agonist-antagonist"}
    assert table["hydrocodone"].role == "full agonist"
    assert table["naltrexone"].role == "naltrexone"
    assert table["naloxone"].role == "antagonist"
    assert table["thioridazine"].role == "interacting"
    assert table["levothyroxine"].role == "thyroid hormone"
    assert table["tacrolimus"].role == "immunosuppressant"
    assert table["bupropion"].role == "other"
    assert table["loperamide"].role == "other"  # acts in the gut at usual doses: no stop
    assert {ingredient.role for ingredient in table.values()} <= medications.ROLES


def test_the_flat_table_has_an_entry_per_product_and_ingredient():
    entries = [entry for entry in medication_table() if entry.name == "Suboxone"]

    assert {(entry.generic, entry.kind, entry.drug_class) for entry in entries} == {
        ("buprenorphine", OPIOID, "partial agonist"),
        ("naloxone", ANTAGONIST, "opioid antagonist"),
    }
    assert all(entry.name_type in medications.NAME_TYPES for entry in medication_table())


@pytest.mark.parametrize("pair", medications.lookalikes(), ids=lambda pair: f"{pair.name}~{pair.looks_like}")
def test_a_listed_lookalike_and_its_slips_are_never_read_as_the_opioid(pair: medications.Lookalike):
    word = "".join(pair.name.lower().split())
    assert not is_opioid(pair.name)
    for cut in range(2, len(word) - 1):
        assert not is_opioid(word[:cut] + word[cut + 1 :]), word[:cut] + word[cut + 1 :]


# --- how a line is read ---------------------------------------------------------------------------


def test_a_brand_match_says_what_it_is():
    [match] = match_medication("Norco 5/325 prn")

    assert match == MedicationMatch(
        kind=OPIOID,
        generic="hydrocodone",
        written_as="norco",
        drug_class="full agonist",
        name="Norco",
        name_type="brand",
        fuzzy=False,
        role="full agonist",
        ingredients=("hydrocodone", "acetaminophen"),
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


def test_a_combination_is_read_for_every_ingredient():
    reading = read_line("Contrave 8/90 bid")

    assert [(match.kind, match.generic, match.role) for match in reading.matches] == [
        (ANTAGONIST, "naltrexone", "naltrexone")
    ]
    assert [match.generic for match in reading.others] == ["bupropion"]
    assert not is_opioid("Contrave 8/90 bid")


@pytest.mark.parametrize(
    ("misspelt", "generic"),
    [("codine", "codeine"), ("perkoset", "oxycodone"), ("oxycodin", "oxycodone"), ("hydrocodon", "hydrocodone"),
     ("ultrum", "tramadol"), ("subozone", "buprenorphine"), ("cratom", "kratom"), ("dilaudad", "hydromorphone"),
     ("fentynal", "fentanyl"), ("methadon", "methadone"), ("tramadal", "tramadol"), ("norko", "hydrocodone"),
     ("percocett", "oxycodone"), ("vicadin", "hydrocodone"), ("oxycotin", "oxycodone"), ("phentanyl", "fentanyl"),
     ("herion", "heroin"), ("tianeptin", "tianeptine"), ("lomitil", "diphenoxylate"), ("demoral", "meperidine")],
)  # fmt: skip
def test_misspellings_patients_write(misspelt: str, generic: str):
    assert generic in {match.generic for match in match_medication(misspelt) if match.kind == OPIOID}


@pytest.mark.parametrize(
    "line",
    ["bupropion", "oxybutynin", "oxcarbazepine", "oxazepam", "Percogesic", "hydroxyzine", "hydrochlorothiazide",
     "hydrocortisone", "hydroxychloroquine", "tizanidine", "trazodone", "buspirone", "trandolapril", "methocarbamol",
     "metformin", "methylphenidate", "naproxen", "nabumetone", "oxytocin", "sotalol", "Avanza", "methylone",
     "loperamide", "Imodium"],
)  # fmt: skip
def test_a_lookalike_wins_over_the_opioid_it_resembles(line: str):
    assert match_medication(line) == []
    assert read_line(line).others


@pytest.mark.parametrize(
    ("misspelt", "lookalike"),
    [("bupropian", "bupropion"), ("oxybutinin", "oxybutynin"), ("hydroxyzin", "hydroxyzine"),
     ("trazadone", "trazodone"), ("metformim", "metformin"), ("methocarbomol", "methocarbamol"),
     ("tizanadine", "tizanidine"), ("busprione", "buspirone"), ("hydrocortone", "hydrocortisone")],
)  # fmt: skip
def test_a_misspelt_lookalike_is_read_as_itself(misspelt: str, lookalike: str):
    assert not is_opioid(misspelt)
    assert [match.generic for match in read_line(misspelt).others] == [
        match.generic for match in read_line(lookalike).others
    ]


def test_a_word_as_near_to_a_lookalike_as_to_the_opioid_is_not_guessed():
    # "tramadone": two edits from tramadol and from trazodone.
    assert not is_opioid("tramadone")


def test_a_six_letter_word_is_guessed_only_when_it_sounds_the_same_or_swaps_two_letters():
    assert not is_opioid("target")  # two letters from Targin
    assert is_opioid("nubian")  # Nubain with two letters swapped
    assert is_opioid("ultrim")  # Ultram, and it sounds the same
    assert is_opioid("cratom")  # a different first letter, but the same sound as kratom


def test_short_words_and_numbers_are_never_guessed():
    assert match_medication("nrco") == []
    assert match_medication("5/325") == []
    assert match_medication("") == []
    assert match_medication("   ,;/-  ") == []


def test_words_written_together_are_split():
    assert is_opioid("oxycodoneapap")
    assert is_opioid("hydrocodoneacetaminophen 10/325")
    assert is_opioid("tramadolhcl 50")


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
    assert not is_opioid("I don\u2019t take opioids")


def test_the_longest_name_wins():
    assert not is_opioid("Robitussin")
    assert is_opioid("Robitussin AC")
    assert is_opioid("robitusin ac")  # a misspelt first word still completes the name
    assert not is_opioid("Robitussin DM")
    assert not is_opioid("Fioricet")
    assert is_opioid("Fioricet with codeine")
    assert not is_opioid("Tylenol")
    assert is_opioid("Tylenol #3")
    assert not is_opioid("Tylenol 325")
    assert not is_opioid("poppy seed")
    assert is_opioid("poppy seed tea")
    assert not is_opioid("Oxy acne wash")
    assert is_opioid("oxy 30mg")


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


# --- ties, with a table made for the purpose -------------------------------------------------------


def _ingredient(name: str, role: str) -> medications.Ingredient:
    return medications.Ingredient(name=name, role=role, detail="", note="")


def _product(name: str, *ingredients: medications.Ingredient) -> medications.Product:
    return medications.Product(name=name, ingredients=ingredients, name_type="brand")


@pytest.fixture
def tiny_index(monkeypatch: pytest.MonkeyPatch):
    """Made-up names a letter apart: an opioid, a lookalike, an antagonist and a combination."""
    opioid = _ingredient("morphinox", "full agonist")
    blocker = _ingredient("naloxabol", "antagonist")
    other = _ingredient("morphanol", "other")
    listed = [
        _product("morphinex", opioid),
        _product("morphanex", other),
        _product("naloxabix", blocker),
        _product("naloxebix", opioid),
        _product("trimadolex", opioid),
        _product("trazadolex", other),
    ]
    guard = medications.Lookalike(name="trazadolex", looks_like="trimadolex")
    index = medications._build_index(listed, [guard], {}, 8)
    monkeypatch.setattr(medications, "_index", lambda: index)
    medications.forget_words()
    yield index
    medications.forget_words()


@pytest.mark.usefixtures("tiny_index")
def test_a_tie_between_an_opioid_and_a_lookalike_goes_to_the_lookalike():
    # "morphenex" is one edit from both names, and sounds like both.
    assert match_medication("morphenex") == []
    assert [match.generic for match in read_line("morphenex").others] == ["morphanol"]
    # "morphinax" is one edit from the opioid only.
    assert [match.generic for match in match_medication("morphinax")] == ["morphinox"]


@pytest.mark.usefixtures("tiny_index")
def test_a_tie_between_an_opioid_and_an_antagonist_keeps_the_opioid():
    # "naloxibix" is one edit from the antagonist and from the opioid: both are read.
    assert {(match.kind, match.generic) for match in match_medication("naloxibix")} == {
        (ANTAGONIST, "naloxabol"),
        (OPIOID, "morphinox"),
    }


@pytest.mark.usefixtures("tiny_index")
def test_a_curated_lookalike_as_few_edits_away_guards_the_opioid(monkeypatch: pytest.MonkeyPatch):
    # "tramadolex" is one edit from the opioid "trimadolex" and one from its listed lookalike
    # "trazadolex"; it sounds like the opioid only, which would decide the tie without the guard.
    assert not is_opioid("tramadolex")
    assert is_opioid("trimadolax")  # one edit from the opioid, three from the lookalike

    unguarded = medications._build_index(
        [_product("trimadolex", _ingredient("trimadol", "full agonist")),
         _product("trazadolex", _ingredient("trazadol", "other"))], [], {}, 8,
    )  # fmt: skip
    monkeypatch.setattr(medications, "_index", lambda: unguarded)
    medications.forget_words()
    assert is_opioid("tramadolex")


def test_a_listed_name_written_twice_is_refused():
    ingredients = {"zorbo": _ingredient("zorbo", "full agonist")}
    text = "name,ingredients,name_type,note\nZorbo,zorbo,brand,\nzorbo,zorbo,generic,\n"

    with pytest.raises(ValueError, match="line 3: 'zorbo' reads the same as the name on line 2"):
        medications._read_products(text, "products.csv", ingredients)


# --- the loader fails loudly on a bad row ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ingredient,role,detail\nzorbo,full agonist,opioid\n", "the columns must be"),
        ("ingredient,role,detail,note\nzorbo,agonist,opioid,\n", "line 2: role 'agonist' is not one of"),
        ("ingredient,role,detail,note\n,full agonist,opioid,\n", "line 2: needs an ingredient"),
        ("ingredient,role,detail,note\nzorbo,interacting,,\n", "line 2: an interacting drug needs its reason"),
        ("ingredient,role,detail,note\nzorbo,other,x,\nZorbo,other,x,\n", "line 3: 'zorbo' is listed twice"),
        ("ingredient,role,detail,note\nzorbo,other,x\n", "line 2: expected 4 columns"),
    ],
)
def test_a_bad_ingredient_row_is_refused(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        medications._read_ingredients(text, "ingredients.csv")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Zorbo,zorbo,trademark,", "name_type 'trademark' is not one of"),
        ("Zorbo,zorbo + blip,brand,", "blip not in ingredients.csv"),
        ("Zorbo,zorbo + ,brand,", "needs its ingredients"),
        ("Zorbo,zorbo + zorbo,brand,", "an ingredient is written twice"),
        ("--,zorbo,brand,", "needs a name with a word in it"),
    ],
)
def test_a_bad_product_row_is_refused(row: str, message: str):
    known = {"zorbo": _ingredient("zorbo", "full agonist")}

    with pytest.raises(ValueError, match=f"products.csv line 2: {message}"):
        medications._read_products(f"name,ingredients,name_type,note\n{row}\n", "products.csv", known)


@pytest.mark.parametrize(
    ("row", "message"),
    [("Blip,Zorbo,", "both names must be listed"), ("Zorbo,Plain,", "must hold no opioid")],
)
def test_a_bad_lookalike_row_is_refused(row: str, message: str):
    listed = [_product("Zorbo", _ingredient("zorbo", "full agonist")), _product("Plain", _ingredient("plain", "other"))]

    with pytest.raises(ValueError, match=message):
        medications._read_lookalikes(f"name,looks_like,note\n{row}\n", "lookalikes.csv", listed)


def test_the_shipped_tables_load():
    assert len(PRODUCTS) >= 1000
    assert len(medications.ingredients()) >= 300
    assert len(medications.lookalikes()) >= 40


# --- work bounds (the timings live in the benchmark: `hostile_lines_ms`, `screen_cold_per_s`) -------


def _guesses_made() -> int:
    """Misspelt-word lookups since the caches were last cleared: the costly part of reading a line."""
    corrections, glued = medications._corrections.cache_info(), medications._glued_names.cache_info()
    return corrections.hits + corrections.misses + glued.hits + glued.misses


def _read_afresh(line: str) -> bool:
    medications.forget_words()
    return is_opioid(line)


@pytest.mark.parametrize(("line", "opioid"), [hostile[1:] for hostile in HOSTILE_LINES],
                         ids=[hostile.name for hostile in HOSTILE_LINES])  # fmt: skip
def test_a_long_or_hostile_line_is_read_right_with_few_guesses(line, opioid):
    # A line of thousands of unknown words guesses at no more of them than a real line holds.
    assert _read_afresh(line) is opioid
    assert _guesses_made() <= 2 * medications._FUZZY_WORDS_PER_LINE


def test_words_too_long_to_be_a_name_are_never_guessed():
    assert _read_afresh("z" * 100_000 + " " + "q" * (medications._FUZZY_MAX_LENGTH + 1)) is False
    assert medications._corrections("q" * (medications._FUZZY_MAX_LENGTH + 1)).words == ()
    assert medications._glued_names("q" * (medications._SPLIT_MAX_LENGTH + 1)) == ()


def test_a_thousand_unlisted_words_cost_no_more_guesses_than_forty():
    _read_afresh(" ".join(UNLISTED_WORDS.split()[:40]))
    forty = _guesses_made()
    _read_afresh(UNLISTED_WORDS)
    assert _guesses_made() == forty > 0


def test_the_cue_file_has_every_list():
    raw = json.loads((DATA / "cues.json").read_text(encoding="utf-8"))

    assert set(medications.CUE_KINDS) <= set(raw)
    assert raw["window"] >= 5


# --- negation and past use -------------------------------------------------------------------------

CUE_LINES = _rows("cue_lines.csv")


def _read_as(line: str, generic: str) -> str:
    reading = read_line(line)
    for match in reading.matches:
        if match.generic == generic:
            return "past" if match.past_use else "taken"
    if generic in {match.generic for match in reading.negated}:
        return "denied"
    return "not named"


@pytest.mark.parametrize(
    ("line", "generic", "expected"),
    [(row["line"], row["generic"], row["reading"]) for row in CUE_LINES],
    ids=[f"{row['line']}:{row['generic']}" for row in CUE_LINES],
)
def test_a_line_is_read_as_taken_past_or_denied(line: str, generic: str, expected: str):
    assert _read_as(line, generic) == expected


def _cues() -> dict[str, list[str]]:
    raw: dict[str, list[str]] = json.loads((DATA / "cues.json").read_text(encoding="utf-8"))
    return raw


def _written(cue: str) -> str:
    return cue.replace("<month>", "May").replace("<year>", "2019").replace(" t ", "'t ").removesuffix(" t") + (
        "'t" if cue.endswith(" t") else ""
    )


CUES = _cues()


@pytest.mark.parametrize("cue", CUES["negation_before"])
def test_every_negation_before_the_drug(cue: str):
    line = f"{_written(cue)} oxycodone"

    assert _read_as(line, "oxycodone") == "denied", line
    assert not is_opioid(line)


@pytest.mark.parametrize("cue", CUES["negation_after"])
def test_every_negation_ending_the_clause_after_the_drug(cue: str):
    assert _read_as(f"oxycodone: {_written(cue)}", "oxycodone") == "denied"
    # Not when the clause goes on: "Norco no refills" still names Norco.
    assert _read_as(f"oxycodone {_written(cue)} 5 mg daily, tramadol", "tramadol") == "taken"


@pytest.mark.parametrize("cue", CUES["negation_right_after"])
def test_every_negation_straight_after_the_drug(cue: str):
    assert _read_as(f"codeine {cue} cough syrup", "codeine") == "denied"
    assert _read_as(f"sugar {cue} codeine cough syrup", "codeine") == "taken"


@pytest.mark.parametrize("cue", CUES["past_use_before"])
def test_every_past_use_before_the_drug(cue: str):
    line = f"{_written(cue)} oxycodone"

    assert _read_as(line, "oxycodone") == "past", line
    assert is_opioid(line)


@pytest.mark.parametrize("cue", CUES["past_use_after"])
def test_every_past_use_after_the_drug(cue: str):
    line = f"oxycodone {_written(cue)}"

    assert _read_as(line, "oxycodone") == "past", line
    assert is_opioid(line)


@pytest.mark.parametrize("cue", CUES["stopped_words_before"])
def test_every_word_of_stopping_before_the_drug_is_past_use(cue: str):
    assert _read_as(f"{_written(cue)} oxycodone", "oxycodone") == "past"


@pytest.mark.parametrize("cue", CUES["stopped_words_after"])
def test_every_word_of_stopping_is_past_use_even_under_a_negation(cue: str):
    assert _read_as(f"I don't take oxycodone {_written(cue)}", "oxycodone") == "past"


@pytest.mark.parametrize("cue", CUES["pseudo_negation"])
def test_a_pseudo_negation_negates_nothing(cue: str):
    line = f"{_written(cue)} oxycodone"

    assert _read_as(line, "oxycodone") == "taken", line


@pytest.mark.parametrize("cue", CUES["scope_ends"])
def test_every_scope_end_stops_a_negation(cue: str):
    line = f"no opioids {_written(cue)} oxycodone"

    assert _read_as(line, "oxycodone") == "taken", line


@pytest.mark.parametrize("cue", CUES["past_use_scope_ends"])
def test_every_past_use_scope_end_stops_past_use(cue: str):
    line = f"stopped tramadol {_written(cue)} oxycodone"

    assert _read_as(line, "tramadol") == "past", line
    assert _read_as(line, "oxycodone") == "taken", line


def test_a_negation_reaches_a_few_words_only():
    assert _read_as("no " + "x " * 3 + "oxycodone", "oxycodone") == "denied"
    assert _read_as("no " + "5 " * 20 + "oxycodone", "oxycodone") == "taken"


def test_a_clause_end_stops_a_negation():
    assert _read_as("no opioids; oxycodone 5 mg", "oxycodone") == "taken"
    assert _read_as("no opioids. oxycodone 5 mg", "oxycodone") == "taken"
    assert _read_as("no opioids! oxycodone", "oxycodone") == "taken"
    assert _read_as("no opioids, oxycodone", "oxycodone") == "taken"


def test_a_cue_inside_a_drug_name_is_no_cue():
    # "Feel Free" holds kratom; its "free" negates nothing.
    assert _read_as("Feel Free", "kratom") == "taken"
    assert _read_as("Synalgos-DC", "dihydrocodeine") == "taken"
