"""The Celery application. Broker and result store come from settings (Redis or embedded)."""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leagueadmin.settings")

app = Celery("leagueadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def freeze_loaded_objects(**kwargs) -> None:
    """In each pool process, once Django and the tasks are loaded: leave those long-lived objects out
    of the garbage collector's passes, as the web workers do (deploy/gunicorn.conf.py, when_ready)."""
    gc.freeze()
