"""PROMOTION_RULES that cannot work are refused by a system check at start."""

from django.conf import settings
from django.core.checks import run_checks
from django.test import override_settings

from promotion.checks import rule_errors


def rules(**changes):
    return {**settings.PROMOTION_RULES, **changes}


def test_the_default_rules_pass():
    assert rule_errors(settings.PROMOTION_RULES) == []


def test_the_share_cap_is_a_share():
    assert rule_errors(rules(share_cap=1.0)) == []
    for cap in (0, -0.1, 1.2):
        assert rule_errors(rules(share_cap=cap)) != []


def test_due_days_exist_in_every_month():
    for name in ("follow_up_due_day", "cultivation_due_day"):
        assert rule_errors(rules(**{name: 1})) == rule_errors(rules(**{name: 28})) == []
        assert rule_errors(rules(**{name: 0})) != []
        assert rule_errors(rules(**{name: 29})) != []


def test_the_county_hears_after_the_township():
    assert rule_errors(rules(escalate_township_days=30, escalate_county_days=30)) != []
    assert rule_errors(rules(escalate_township_days=10, escalate_county_days=11)) == []


def test_the_check_runs_with_the_others():
    with override_settings(PROMOTION_RULES=rules(share_cap=0)):
        assert [e.id for e in run_checks() if e.id.startswith("promotion.")] == ["promotion.E001"]
