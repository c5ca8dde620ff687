"""The Simplified Chinese catalog is complete, and the compiled catalog matches it."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"

needs_gettext = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="GNU gettext is not installed (CI installs it)"
)


def _statistics(po: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True, check=True
    )
    return result.stderr.strip()


SOURCES = ["branches", "members", "promotion", "reports", "leagueadmin", "templates", "locale"]


@needs_gettext
def test_every_marked_string_has_a_chinese_translation(tmp_path, monkeypatch, settings):
    # Re-extract the strings into a copy of the sources and catalog, as `make messages` would:
    # new strings arrive untranslated, changed ones fuzzy. The working tree is left alone.
    for name in SOURCES:
        shutil.copytree(
            Path(settings.BASE_DIR) / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    call_command("makemessages", locale=["zh_Hans"], no_location=True, no_obsolete=True, verbosity=0)
    statistics = _statistics(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert "fuzzy" not in statistics and "untranslated" not in statistics, (
        f"{statistics}: run `make messages` and translate the new entries"
    )


@needs_gettext
def test_the_compiled_catalog_is_up_to_date(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(CATALOG / "django.po")], check=True)
    with compiled.open("rb") as fresh, (CATALOG / "django.mo").open("rb") as committed:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(committed)._catalog, (
            "django.mo is stale: run `make messages`"
        )
