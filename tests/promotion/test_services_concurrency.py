"""Two people acting on the same case or round at the same moment: the row lock lets one win and the
other is told clearly. PostgreSQL only (SQLite has no row locks and serializes whole writes)."""

import threading
import time
from datetime import date

import pytest
import time_machine
from django.db import connection

from promotion import services
from promotion.models import CaseTransition, Nomination, PromotionCase, Stage
from tests.promotion.helpers import NOW, at_stage, eligible_member, make_case

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")


def run_at_once(*calls):
    """Run each call in its own thread (its own database connection), started together; returns what
    each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        from django.db import connections

        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold each lock a moment, so that the second caller surely arrives while the first holds it."""
    lock_case, lock_round = services._lock_case, services._lock_round

    def slowly(lock):
        def locked(obj):
            held = lock(obj)
            time.sleep(0.3)
            return held

        return locked

    monkeypatch.setattr(services, "_lock_case", slowly(lock_case))
    monkeypatch.setattr(services, "_lock_round", slowly(lock_round))


def test_two_reviewers_at_once_one_wins_and_the_other_is_told(transactional_db, tree, people, slow_lock):
    member = eligible_member(tree["branch_a1"], "并发", recorder=people["county_staff"])
    case = at_stage(make_case(member, recorder=people["secretary_a1"]), Stage.IN_REVIEW)
    township, county = people["township_a_staff"], people["county_staff"]
    with time_machine.travel(NOW, tick=True):
        results = run_at_once(
            lambda: services.case_review(case=case, decision="approve", comment="", actor=township),
            lambda: services.case_review(case=case, decision="return", comment="材料不全", actor=county),
        )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], services.PromotionError)
    assert "的推优已由" in errors[0].messages[0]
    (review,) = CaseTransition.objects.filter(case=case)
    assert PromotionCase.objects.get(pk=case.pk).stage == review.to_stage
    assert review.to_stage in (Stage.APPROVED, Stage.RETURNED)


def test_two_secretaries_listing_the_last_place_at_once(transactional_db, tree, people, slow_lock):
    """Ten members: two places. One is taken; two more listed at once: the round lock serializes
    them, and the share cap refuses the second."""
    secretary, deputy = people["secretary_a1"], people["deputy_a1"]
    members = [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(10)]
    cases = [make_case(m, recorder=secretary) for m in members[:3]]
    with time_machine.travel(NOW, tick=True):
        round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
        services.round_nominate(round=round_, case=cases[0], actor=secretary)
        results = run_at_once(
            lambda: services.round_nominate(round=round_, case=cases[1], actor=secretary),
            lambda: services.round_nominate(round=round_, case=cases[2], actor=deputy),
        )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert "至多推荐本支部10名在册团员中的2名" in " ".join(errors[0].messages)
    assert Nomination.objects.listed().filter(round=round_).count() == 2


def test_two_listings_in_the_branch_rounds_on_both_tracks_at_once(transactional_db, tree, people, slow_lock):
    """Ten members: two places, one taken on the activist track. Two more listed at once, one in the
    activist round and one in the development round: the branch lock serializes them across rounds,
    and the share cap (the branch's) refuses the second."""
    secretary, deputy = people["secretary_a1"], people["deputy_a1"]
    members = [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(10)]
    cases = [make_case(m, recorder=secretary) for m in members[:2]]
    development = make_case(
        members[2],
        recorder=secretary,
        track="development",
        party_applied_on=date(2024, 9, 1),
        activist_since=date(2025, 1, 1),
    )
    with time_machine.travel(NOW, tick=True):
        round_a = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
        round_b = services.round_create(branch=tree["branch_a1"], track="development", title="发展", actor=secretary)
        services.round_nominate(round=round_a, case=cases[0], actor=secretary)
        results = run_at_once(
            lambda: services.round_nominate(round=round_a, case=cases[1], actor=secretary),
            lambda: services.round_nominate(round=round_b, case=development, actor=deputy),
        )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert "至多推荐本支部10名在册团员中的2名" in " ".join(errors[0].messages)
    assert Nomination.objects.listed().filter(round__branch=tree["branch_a1"]).count() == 2


def test_a_party_decision_and_a_transfer_at_once_take_turns(transactional_db, tree, people, slow_lock):
    """Both lock the member before the case: no deadlock, both go through."""
    from members import transfers

    member = eligible_member(tree["branch_a1"], "调动", recorder=people["county_staff"])
    case = at_stage(
        make_case(member, recorder=people["secretary_a1"]),
        Stage.DEVELOPMENT,
        recommended_on=date(2026, 1, 5),
        valid_until=date(2028, 1, 4),
        activist_since=date(2025, 1, 5),
        development_on=date(2026, 2, 1),
    )
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    with time_machine.travel(NOW, tick=True):
        results = run_at_once(
            lambda: services.case_record_party_decision(
                case=case, decision="probationary", decided_on=NOW.date(), actor=people["county_staff"]
            ),
            lambda: transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer),
        )
    assert not [r for r in results if isinstance(r, Exception)], results
    case.refresh_from_db()
    assert (case.stage, case.branch) == (Stage.PROBATIONARY, tree["branch_b1"])


def test_two_lapse_sweeps_at_once_lapse_each_case_once(transactional_db, tree, people):
    for i in range(6):
        member = eligible_member(tree["branch_a1"], f"到期{i}", recorder=people["county_staff"])
        at_stage(
            make_case(member, recorder=people["secretary_a1"]),
            Stage.RECOMMENDED,
            valid_until=NOW.date().replace(year=2026, month=1, day=1),
        )
    results = run_at_once(
        lambda: services.lapse_expired_cases(NOW.date()), lambda: services.lapse_expired_cases(NOW.date())
    )
    assert sum(results) == 6, results
    assert CaseTransition.objects.filter(action="lapse").count() == 6
