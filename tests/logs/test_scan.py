"""The session's log scan (tests/conftest.py) is live, and it finds a patient's data in a line."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from intake.logging import RedactPatientDataFilter
from intake.services.questionnaire import questionnaire_submit
from tests.conftest import SESSION_LOG_SCAN
from tests.factories import clean_answers, make_prescription
from tests.log_scan import LogScan


@pytest.fixture
def planted():
    """A scan of its own, on a logger that does not reach the root: the session's scan never sees the
    planted lines, so this test can show them found without failing the run."""
    logger = logging.getLogger("tests.logs.planted")
    logger.propagate = False
    scan = LogScan()
    scan.start(logger)
    yield logger, scan
    scan.stop(logger)
    logger.propagate = True


def test_the_session_scan_reads_every_root_line_through_the_configured_redaction(pytestconfig):
    scan = pytestconfig.stash[SESSION_LOG_SCAN]

    assert scan.lines in logging.getLogger().handlers
    assert any(isinstance(f, RedactPatientDataFilter) for f in scan.lines.filters)
    assert {type(f).__name__ for f in scan.lines.formatters} == {"Formatter", "JsonFormatter"}


def test_a_line_with_a_patients_name_medication_or_token_is_found(planted, prescriber):
    logger, scan = planted
    prescription = make_prescription(prescriber, patient={"first_name": "Wilhelmina", "last_name": "Oakhurst"})
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=date(1980, 2, 29),
                         answers=clean_answers(current_medications=["Synthroid 50 mcg"]))  # fmt: skip

    # when: lines that name the patient and their medication
    logger.warning("claimed %s for wilhelmina oakhurst", prescription.reference)
    logger.warning("Oakhurst asked again")
    logger.info("screened a line: synthroid 50 MCG")
    logger.info("claimed %s", prescription.reference)  # ids and references are fine
    logger.info("opened link %s", prescription.questionnaire_token)  # redacted before the scan

    # then: each is found, in the plain and the JSON line alike, naming its logger
    found = {(o.kind, o.found.casefold(), o.line.startswith("{")) for o in scan.offences()}
    assert found == {
        (kind, text, as_json)
        for kind, text in [("patient name", "wilhelmina oakhurst"), ("patient name", "oakhurst"),
                           ("medication", "synthroid 50 mcg")]
        for as_json in (False, True)
    }  # fmt: skip
    assert all(o.logger == "tests.logs.planted" for o in scan.offences())
    assert "tests.logs.planted" in str(scan.offences()[0])


def test_the_redaction_hides_a_birth_date_before_the_scan_reads_the_line(planted, prescriber):
    logger, scan = planted
    make_prescription(prescriber, patient={"first_name": "Wilhelmina", "last_name": "Oakhurst"})

    logger.warning("born %s", "1980-02-29")

    assert scan.offences() == []
    assert any("born [date]" in json.loads(line)["message"] for _, line in scan.lines.lines if line.startswith("{"))


# token_urlsafe's alphabet holds "-" and "_": a token may have "--" inside or a "-" at either end
AWKWARD_TOKENS = [
    "ZHeWbEru3yMMdW5BlxOGuaVxYbd19ohHndujBq--fQ4",
    "-Kq3vX9fLmT2pW8rZ1yB4nC7dH0sJ5gA6eU",
    "Kq3vX9fLmT2pW8rZ1yB4nC7dH0sJ5gA6eU_-",
]


@pytest.mark.parametrize("token", [None, *AWKWARD_TOKENS],
                         ids=["generated", "double-hyphen", "leading-hyphen", "trailing-hyphen"])  # fmt: skip
def test_a_birth_date_or_token_that_escapes_the_redaction_is_found(prescriber, token):
    scan = LogScan()
    prescription = make_prescription(prescriber)
    if token is not None:
        prescription.questionnaire_token = token
    scan.seen.patient_saved(instance=prescription.patient)
    scan.seen.prescription_saved(instance=prescription)
    # as if a handler were configured without the redaction
    scan.lines.filters = [f for f in scan.lines.filters if not isinstance(f, RedactPatientDataFilter)]

    for message in ("born 02/29/1980", f"opened /questionnaire/{prescription.questionnaire_token}/"):
        scan.lines.handle(logging.makeLogRecord({"name": "tests.logs.raw", "msg": message, "levelno": logging.INFO,
                                                 "levelname": "INFO"}))  # fmt: skip

    assert {(o.kind, o.found) for o in scan.offences()} == {
        ("birth date", "02/29/1980"),
        # a hyphen at either end of a token is not part of a word, so the finding starts after it
        ("questionnaire token", prescription.questionnaire_token.strip("-")),
    }


PLANTED_RUN = """
import logging
from datetime import date

from intake.models import Patient
from tests.conftest import SESSION_LOG_SCAN


def test_plants_a_name(pytestconfig):
    patient = Patient(first_name="Wilhelmina", last_name="Oakhurst", date_of_birth=date(1961, 4, 7))
    pytestconfig.stash[SESSION_LOG_SCAN].seen.patient_saved(instance=patient)  # as its post_save would
    logging.getLogger("intake.planted").warning("claimed for Wilhelmina Oakhurst")
"""


def test_a_run_whose_log_names_a_patient_fails_and_says_where():
    # given: a run of one passing test that logs a patient's name through the root logger, in a
    # folder under tests/ for the time of this test, so that the suite's conftest is its conftest
    folder = Path(__file__).parent / f"planted_{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        (folder / "test_planted.py").write_text(PLANTED_RUN)

        # when
        finished = subprocess.run(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(folder / "test_planted.py")],
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder)

    # then: the test passed, the run failed, and the summary names the logger and the line
    assert "1 passed" in finished.stdout, finished.stdout + finished.stderr
    assert finished.returncode == pytest.ExitCode.TESTS_FAILED
    assert "patient data in log lines" in finished.stdout
    assert "patient name 'Wilhelmina Oakhurst' in a line of logger intake.planted" in finished.stdout
