"""The Celery app. Configuration comes from Django settings (names prefixed CELERY_).

With no CELERY_BROKER_URL the settings turn on task_always_eager: the same tasks run in-process
after the commit that queued them, so the demo needs no Redis (and no worker or beat).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from intake.logging import request_id_to_task_headers, task_context_enter, task_context_leave

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")

app = Celery("pharmacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app's tasks.py, plus the notification tasks, which live in a package of their own.
app.autodiscover_tasks()
app.autodiscover_tasks(["intake.notifications"])
# A task's log lines carry the id of the request that queued it, and the task's own name and id.
before_task_publish.connect(request_id_to_task_headers, weak=False)
task_prerun.connect(task_context_enter, weak=False)
task_postrun.connect(task_context_leave, weak=False)
