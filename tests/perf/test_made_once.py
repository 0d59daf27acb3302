"""Objects that libraries would make on every request, and this project makes once."""

from __future__ import annotations

from intake.api import submission
from intake.models import Patient, Prescription
from tests.factories import api_payload


def test_the_history_manager_class_is_made_once_per_model():
    assert type(Prescription.history) is type(Prescription.history)
    assert Patient.history.model is not Prescription.history.model  # each model still its own history


def test_the_submission_serializers_keep_no_state_between_requests(prescriber_api):
    # given: a bad submission, then a good one, through the one shared serializer
    bad = prescriber_api.post("/api/v1/prescriptions/", {**api_payload(), "quantity": 0}, format="json")
    good = prescriber_api.post("/api/v1/prescriptions/", api_payload(), format="json")

    # then: the first error does not stick to the second request, and the answer is the new one's
    assert bad.status_code == 400 and "quantity" in bad.json()
    assert good.status_code == 201, good.json()
    assert good.json()["id"] == Prescription.objects.get().pk
    assert not hasattr(submission.SUBMISSION_IN, "_validated_data")  # nothing kept on the shared serializer
