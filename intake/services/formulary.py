"""The default formulary (intake/data/formulary.json), loaded idempotently."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from intake.models import DosageForm, MasterFormulation

FORMULARY_FILE = Path(__file__).resolve().parent.parent / "data" / "formulary.json"


@cache
def default_formulary() -> dict[str, Any]:
    return json.loads(FORMULARY_FILE.read_text(encoding="utf-8"))


def formulary_install_defaults() -> None:
    """Create the default dosage forms and master formulations that are missing; change nothing else."""
    formulary = default_formulary()
    forms: dict[str, DosageForm] = {}
    for entry in formulary["dosage_forms"]:
        values = dict(entry)
        code = values.pop("code")
        if values.get("concentration_mg_per_ml") is not None:
            values["concentration_mg_per_ml"] = Decimal(values["concentration_mg_per_ml"])
        forms[code], _ = DosageForm.objects.get_or_create(code=code, defaults=values)
    for entry in formulary["master_formulations"]:
        values = dict(entry)
        form = forms[values.pop("dosage_form")]
        if not MasterFormulation.objects.filter(dosage_form=form).exists():
            MasterFormulation.objects.create(dosage_form=form, **values)
