"""The default schedule of the daily warm-up of the statistics dashboard (reports/cache.py): just after
midnight, when the day in the figures' key has changed, each county's live quarterly figures are
computed in the worker, so that the morning's first views of the heaviest dashboards find them kept.
Its own entry rather than a step of the period reports' run (0003): another concern, on another clock
(that run waits until 02:40 and may be moved), and each can be disabled or retried alone."""

from django.db import migrations

TASK_NAME = "Dashboard figures computed for the new day"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    after_midnight, _created = CrontabSchedule.objects.get_or_create(
        minute="5", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "reports.warm_live_figures", "crontab": after_midnight}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_schedule_period_reports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
