"""The system check of the branch-life rules: a mistyped kind or cadence in LEAGUE_ACTIVITY_CADENCE is
an error at start-up, not a requirement silently dropped."""

from __future__ import annotations

from branches.checks import check_activity_rules


def rules(settings, **overrides):
    settings.LEAGUE_RULES = {**settings.LEAGUE_RULES, **overrides}


def test_the_default_rules_pass(settings):
    assert check_activity_rules() == []


def test_an_unknown_kind_or_cadence_is_an_error(settings):
    rules(settings, activity_cadence={"comittee_meeting": "monthly", "themed_day": "montly", "league_class": "yearly"})
    errors = check_activity_rules()
    assert [e.id for e in errors] == ["branches.E001", "branches.E002"]
    assert "comittee_meeting" in errors[0].msg and "montly" in errors[1].msg


def test_a_negative_late_limit_is_an_error(settings):
    rules(settings, activity_late_days=-1)
    assert [e.id for e in check_activity_rules()] == ["branches.E003"]


def test_the_check_is_registered():
    from django.core.checks.registry import registry

    assert check_activity_rules in registry.get_checks()
