"""The Celery application. Broker and result store come from settings (Redis or embedded)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leagueadmin.settings")

app = Celery("leagueadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
