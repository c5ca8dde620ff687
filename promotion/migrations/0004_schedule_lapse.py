"""The default schedule of the daily sweep that lapses recommendations past their validity, editable
afterwards in the admin."""

from django.db import migrations

TASK_NAME = "Lapse expired 推优 recommendations"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_night, _created = CrontabSchedule.objects.get_or_create(
        minute="20", hour="1", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(name=TASK_NAME, defaults={"task": "promotion.lapse_cases", "crontab": every_night})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("promotion", "0003_nomination_removal_system_steps"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
