"""The Celery app. Configuration comes from Django settings (names prefixed CELERY_).

With no CELERY_BROKER_URL the settings turn on task_always_eager: the same tasks run in-process
after the commit that queued them, so the demo needs no Redis (and no worker or beat).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")

app = Celery("pharmacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, plus the notification tasks, which live in a package of their own.
app.autodiscover_tasks()
app.autodiscover_tasks(["intake.notifications"])
