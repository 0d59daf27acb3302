"""The compiled catalogues are committed (a deploy runs no compile step): each .mo holds exactly
the translated, reviewed (non-fuzzy) messages of its .po."""

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po"))
RECOMPILE = "recompile with `.venv/bin/pybabel -q compile -d locale -D django` and commit the .mo"


def _messages(catalog: Catalog) -> dict[tuple[str | None, str | tuple[str, ...]], tuple[str, ...]]:
    """(context, id) -> translation of every message translated in full and not fuzzy."""
    translated = {}
    for message in catalog:
        # A plural's id and strings: a tuple from the .po, a list from the .mo.
        strings = tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)
        if message.id and not message.fuzzy and all(strings):
            key = tuple(message.id) if isinstance(message.id, (tuple, list)) else message.id
            # babel's read_mo leaves a context (pgettext) as bytes.
            context = message.context.decode() if isinstance(message.context, bytes) else message.context
            translated[context, key] = strings
    return translated


def test_there_is_a_catalogue():
    assert [po.relative_to(ROOT).as_posix() for po in CATALOGUES] == ["locale/es/LC_MESSAGES/django.po"]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.relative_to(ROOT).as_posix())
def test_the_committed_mo_holds_exactly_the_po_translations(po: Path):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: {RECOMPILE}"
    with po.open("rb") as source:
        expected = _messages(read_po(source))
    with mo.open("rb") as source:
        compiled = _messages(read_mo(source))

    missing_or_extra = expected.keys() ^ compiled.keys()
    changed = {key for key in expected.keys() & compiled.keys() if expected[key] != compiled[key]}
    differing = sorted(str(message_id) for _context, message_id in missing_or_extra | changed)
    assert not differing, (
        f"{mo.relative_to(ROOT)} differs from its .po in {len(differing)} messages, first {differing[0]!r}: {RECOMPILE}"
    )
