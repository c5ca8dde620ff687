"""The honours a county records out of the box (domain.md §0); more can be added in the admin."""

from django.db import migrations

DEFAULT_TITLES = [
    # name, to people, to units
    ("优秀共青团员", True, False),
    ("优秀共青团干部", True, False),
    ("五四红旗团委", False, True),
    ("五四红旗团支部", False, True),
    ("五四奖章", True, True),
    ("青年岗位能手", True, False),
    ("十大杰出青年", True, False),
]


def create_titles(apps, schema_editor):
    HonourTitle = apps.get_model("branches", "HonourTitle")
    for name, for_members, for_units in DEFAULT_TITLES:
        HonourTitle.objects.get_or_create(name=name, defaults={"for_members": for_members, "for_units": for_units})


class Migration(migrations.Migration):
    dependencies = [("branches", "0010_branch_life")]

    operations = [migrations.RunPython(create_titles, migrations.RunPython.noop)]
