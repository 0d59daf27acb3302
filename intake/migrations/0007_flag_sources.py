"""Flags stored before they carried `source` and `verification` get them: the source from the field
that raised the flag, no verification (none could be recorded then)."""

from django.db import migrations

ANSWER_FIELDS = {
    "takes_opioids", "opioid_treatment_program", "liver_condition", "pregnancy", "alcohol_drinks_per_week",
    "naltrexone_allergy", "thyroid_medication", "immunosuppressants", "surgery_within_14_days",
}  # fmt: skip
BATCH = 2000


def source_of(field: str) -> str:
    if field.startswith("current_medications"):
        return "medications"
    if field.startswith("allergies"):
        return "allergies"
    if field in ANSWER_FIELDS:
        return "answers"
    return "prescription"  # strength_mg, titration[n].strength_mg, weight_kg, quantity


def fill_sources(apps, schema_editor):
    Prescription = apps.get_model("intake", "Prescription")
    # Only prescriptions with flags (their level is then not empty); read in batches by id.
    flagged = Prescription.objects.exclude(flag_level="").order_by("pk").only("pk", "flags")
    changed = []
    for prescription in flagged.iterator(chunk_size=BATCH):
        flags = prescription.flags or []
        if all("source" in flag and "verification" in flag for flag in flags):
            continue
        prescription.flags = [
            {**flag, "source": flag.get("source") or source_of(str(flag.get("field", ""))),
             "verification": flag.get("verification")}
            for flag in flags
        ]  # fmt: skip
        changed.append(prescription)
        if len(changed) >= BATCH:
            Prescription.objects.bulk_update(changed, ["flags"])
            changed = []
    if changed:
        Prescription.objects.bulk_update(changed, ["flags"])


class Migration(migrations.Migration):
    dependencies = [("intake", "0006_state_licences_verification_rescreen")]

    operations = [migrations.RunPython(fill_sources, migrations.RunPython.noop, elidable=True)]
