"""The default schedule of the daily run that generates the closed quarter's and month's reports
(季度报告, 月度进展报告) and tells their recipients, editable afterwards in the admin. It is
window-based: a run finds what is missing for the last closed period, so daily is cheap and a
day the scheduler missed is caught up on the next."""

from django.db import migrations

TASK_NAME = "Scheduled quarterly and monthly reports"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_night, _created = CrontabSchedule.objects.get_or_create(
        minute="40", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "reports.generate_period_reports", "crontab": every_night}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_report_started_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
