"""The side-effect check-in 14 days after a first fill: which answers need a pharmacist, and what
to tell the patient. The symptoms and the words are data (``data/follow_up.json``).

Rules: any symptom that bothers the patient, anything written under "other effects", or a request
for a call lands in the pharmacist's follow-up list. Sleep problems or vivid dreams (at any level)
bring the advice to talk about morning dosing, whatever the current timing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "follow_up.json"
LEVELS = ("none", "mild", "bothersome")


@functools.cache
def follow_up_table() -> dict[str, Any]:
    return dict(json.loads(DATA.read_text(encoding="utf-8")))


def symptom_labels(language: str = "en") -> dict[str, str]:
    """The symptoms' names, in `language` where the table has them (English otherwise)."""
    translated = follow_up_table().get("languages", {}).get(language, {}).get("symptoms", {})
    return {code: translated.get(code, entry["label"]) for code, entry in follow_up_table()["symptoms"].items()}


def advice_in(advice: tuple[str, ...] | list[str], language: str) -> list[str]:
    """Advice kept in English, as the patient reads it: each known text in `language` where the table has it."""
    table = follow_up_table()
    translated = table.get("languages", {}).get(language, {}).get("advice", {})
    key_of = {text: key for key, text in table["advice"].items()}
    return [translated.get(key_of.get(text, ""), text) for text in advice]


@dataclass(frozen=True)
class FollowUpAssessment:
    needs_pharmacist: bool
    reasons: tuple[str, ...]
    advice: tuple[str, ...]


def follow_up_assess(
    *, symptoms: Mapping[str, str], other_effects: str = "", wants_call: bool = False
) -> FollowUpAssessment:
    """Assess the answers: symptom code -> "none" | "mild" | "bothersome" (unknown codes are refused)."""
    table = follow_up_table()
    unknown = set(symptoms) - set(table["symptoms"])
    if unknown:
        raise ValueError(f"Unknown symptoms: {', '.join(sorted(unknown))}")
    bad = {code for code, level in symptoms.items() if level not in LEVELS}
    if bad:
        raise ValueError(f"Unknown levels for: {', '.join(sorted(bad))}")
    reasons: list[str] = []
    for code, entry in table["symptoms"].items():
        if symptoms.get(code) == "bothersome":
            reasons.append(f"{entry['label']}: bothers the patient")
    if other_effects.strip():
        reasons.append("Other effects described")
    if wants_call:
        reasons.append("Asked for a call")

    texts = table["advice"]
    advice: list[str] = []
    present = {code for code, level in symptoms.items() if level in ("mild", "bothersome")}
    if any(table["symptoms"][code]["morning_dosing"] for code in present):
        advice.append(texts["morning_dosing"])
    if present and not reasons:
        advice.append(texts["mild"])
    if reasons:
        advice.append(texts["pharmacist"])
    if not present and not reasons:
        advice.append(texts["none"])
    return FollowUpAssessment(needs_pharmacist=bool(reasons), reasons=tuple(reasons), advice=tuple(advice))
