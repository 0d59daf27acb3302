"""A test-only URLconf: a view that logs, and one that fails holding a patient's data, beside the real site."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from pharmacy.celery import app as celery_app

logger = logging.getLogger("tests.logs.views")

PATIENT_NAME = "Philippa Quenby"
PATIENT_BORN = "1957-11-03"
PATIENT_EMAIL = "philippa.quenby@example.com"


def logs_a_line(request: HttpRequest) -> HttpResponse:
    logger.info("queue read by user %s", request.user.pk)
    return HttpResponse("ok")


@celery_app.task(name="tests.logs.log_from_task")
def log_from_task() -> None:
    logger.info("a line from the task")


def queues_a_task(request: HttpRequest) -> HttpResponse:
    log_from_task.delay()
    logger.info("the task is queued")
    return HttpResponse("ok")


@csrf_exempt  # reached through the WSGI handler, without the test client's CSRF exemption
def fails_on_a_patient(request: HttpRequest, token: str) -> HttpResponse:
    patient = {"name": PATIENT_NAME, "date_of_birth": PATIENT_BORN, "email": PATIENT_EMAIL}  # noqa: F841 (a local)
    answers = request.POST.get("answers", "")  # noqa: F841 (a local)
    raise RuntimeError(f"could not save {PATIENT_NAME}, born {PATIENT_BORN}")


urlpatterns = [
    path("test-logs/line/", logs_a_line),
    path("test-logs/task/", queues_a_task),
    path("questionnaire/<str:token>/fail/", fails_on_a_patient),
    path("", include("pharmacy.urls")),
]
