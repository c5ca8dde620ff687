"""A year of 推优 on a demo county, written through the pipeline's own services.

Every case gets a real history (transitions, audit entries, reports, votes, reviews) because it is
built by calling promotion/services.py as the branch secretaries and township staff would, each step
with the clock moved to the day it happened (time-machine): days waiting, time in stage and late
reports then look as they do after a year of use. The services take the business dates (meeting,
publicity, hand-over, decisions) explicitly; the clock gives them "today" and the time stamps.

What the county gets: cases in cultivation with quarterly reports (some overdue), rounds at every stage
(a preliminary list, opinions, a vote with a passed and a failed candidate, publicity with an objection
still open, objections upheld and dismissed), cases waiting for review for days, a returned case and a
resubmitted one, a rejected one, cases handed over with monthly follow-up reports (some filed late, some
missing), the Party's decisions at every stage (activist, development candidate, probationary, full,
not adopted), a lapsed recommendation, a withdrawn case, and a plan for every township committee.

Deterministic for a county (members picked by branch and primary key, texts by a seeded random
generator); added once. Only a county with the secretaries' and township accounts (the demo county;
those built for benchmarks have no one to act) and branches large enough for a round gets it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import time_machine
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from branches.audit import audit_events_bulk
from branches.models import COMMITTEE_KINDS, Organization, PartyOrganization, Role, RoleAssignment, User
from members.models import Evaluation, EvaluationGrade, Member, PoliticalStatus, Registration, add_years
from promotion import services
from promotion.models import (
    Nomination,
    OpinionSource,
    PromotionCase,
    PromotionRound,
    Track,
)
from promotion.workdays import add_months, month_start, nth_working_day, quarter_of, quarter_start

# The stories happen in branches of ten active members or more: a round there may list two candidates
# (the share cap is 20%, rounded down). A county seeded with a few members per branch (the tests of
# the organization demo, benchmarks) has no such branch and gets no 推优 demo at all.
ROUND_ROSTER = 10
OPINIONS = {
    OpinionSource.PARTY_MEMBERS: ["政治立场坚定，工作积极主动，同意推荐。", "平时表现突出，群众基础好，同意推荐。"],
    OpinionSource.LEAGUE_MEMBERS: ["团员们一致认为该同志表现优秀。", "热心团的工作，在团员中威信较高。"],
    OpinionSource.PARTY_ORGANIZATION: ["经党支部研究，同意列为推优人选。", "党组织同意推荐，请按程序办理。"],
}
CULTIVATION_TEXTS = [
    "本季度积极参加主题团日活动，主动承担志愿服务任务，学习党的基本知识。",
    "认真参加团课学习，带头完成团支部布置的工作，思想汇报按时提交。",
    "在本职工作中表现突出，团结同事，主动向党组织靠拢。",
]
FOLLOW_UP_TEXTS = {
    "thinking": ["思想积极上进，认真学习党的理论。", "政治立场坚定，按时向党组织汇报思想。"],
    "work": ["工作认真负责，完成各项任务。", "在岗位上发挥骨干作用，得到群众好评。"],
    "study": ["参加党课学习，完成学习笔记。", "自学党章，参加业余培训。"],
}
TALKERS = ["团支部书记", "党支部委员", "培养联系人"]


@dataclass
class Place:
    """A branch where a story happens: who works there, who reviews its cases, whom it may list."""

    branch: Organization
    secretary: User
    reviewer: User
    active_members: int
    candidates: list[Member] = field(default_factory=list)
    # Where its recommendations go, when not to the branch's paired Party organization: the township's
    # Party committee, where that committee's organizer has an account (the demo's party01).
    party: PartyOrganization | None = None

    def take(self, n: int) -> list[Member]:
        taken, self.candidates = self.candidates[:n], self.candidates[n:]
        return taken


class PipelineDemo:
    def __init__(self, county: Organization, today: date):
        self.county = county
        self.today = today
        self.real_now = timezone.now()
        self.rng = random.Random(f"promotion-{county.code}")
        self.places = self._places()
        self.next_report_month: dict[int, date] = {}

    # --- the clock ------------------------------------------------------------------------------------

    @contextmanager
    def on(self, day: date, hour: int = 10) -> Iterator[None]:
        """Run the block as if on `day` (never later than the real now: nothing is dated in the future)."""
        moment = timezone.make_aware(datetime.combine(day, time(hour, self.rng.randrange(60))))
        with time_machine.travel(min(moment, self.real_now), tick=False):
            yield

    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)

    def months_ago(self, n: int) -> date:
        return add_months(self.today, -n)

    # --- where the stories happen ------------------------------------------------------------------

    def _places(self) -> list[Place]:
        """Branches with a secretary account and enough members, spread over the township committees
        (their staff review), largest first within each committee."""
        county = self.county
        secretaries = {
            a.organization_id: a.user
            for a in RoleAssignment.objects.filter(
                role=Role.BRANCH_SECRETARY, deputy_for__isnull=True, organization__path__startswith=county.path
            ).select_related("user")
        }
        staff = {
            a.organization.path: a.user
            for a in RoleAssignment.objects.filter(
                role=Role.TOWNSHIP_STAFF, organization__path__startswith=county.path
            ).select_related("user", "organization")
        }
        committees = {
            c.path: c
            for c in Organization.objects.filter(path__startswith=county.path, kind__in=COMMITTEE_KINDS)
            .active()
            .select_related("party_organization")
        }
        organizers = set(
            RoleAssignment.objects.filter(role=Role.PARTY_ORGANIZER).values_list("party_organization_id", flat=True)
        )
        branches = (
            Organization.objects.subtree_of([county.path])
            .branches()
            .active()
            .filter(pk__in=list(secretaries))
            .annotate(active=Count("members", filter=Q(members__status="active")))
            .filter(active__gte=ROUND_ROSTER)
        )
        # Candidates: League members of 22 to 27 (adults through the whole demo year, not about to leave
        # at 28), with no poor evaluation grade and no sanction on record.
        candidates = (
            Member.objects.active()
            .filter(
                branch__path__startswith=county.path,
                political_status=PoliticalStatus.LEAGUE_MEMBER,
                birth_date__lte=add_years(self.today, -22),
                birth_date__gt=add_years(self.today, -27),
            )
            .exclude(evaluations__grade__in=[EvaluationGrade.BASIC, EvaluationGrade.UNQUALIFIED])
            .exclude(sanctions__isnull=False)
            .order_by("branch_id", "pk")
        )
        by_branch: dict[int, list[Member]] = defaultdict(list)
        for member in candidates:
            by_branch[member.branch_id].append(member)
        by_committee: dict[str, list[Place]] = defaultdict(list)
        for branch in branches:
            above = [path for path in committees if branch.path.startswith(path)]
            committee_path = max(above, key=len) if above else None
            reviewer = staff.get(committee_path) if committee_path else None
            if reviewer is None or len(by_branch[branch.pk]) < 2:
                continue  # reviewed by no township account (county-level units), or nobody to list
            party = committees[committee_path].party_organization
            by_committee[committee_path].append(
                Place(
                    branch,
                    secretaries[branch.pk],
                    reviewer,
                    branch.active,
                    by_branch[branch.pk],
                    party if party is not None and party.pk in organizers else None,
                )
            )
        for places in by_committee.values():
            places.sort(key=lambda p: (-p.active_members, p.branch.code))
        # Round-robin over the committees, so every township has cases to review and count.
        ordered = []
        queues = [by_committee[path] for path in sorted(by_committee)]
        while any(queues):
            for queue in queues:
                if queue:
                    ordered.append(queue.pop(0))
        return ordered

    def place(self, *, nominees: int = 1, handed_over: bool = False) -> Place | None:
        """The next branch with `nominees` candidates left, or None when none is left. Stories that end
        with a hand-over go first to the township whose Party organizer has an account, so that the
        organizer's pages have people at every stage."""
        suitable = [index for index, place in enumerate(self.places) if len(place.candidates) >= nominees]
        if handed_over:
            suitable.sort(key=lambda index: self.places[index].party is None)
        return self.places.pop(suitable[0]) if suitable else None

    # --- facts the rules read ---------------------------------------------------------------------

    def ensure_facts(self, place: Place, members: list[Member], day: date) -> None:
        """The registration of `day`'s year and a passing grade for the year before, where the members
        demo (which covers only the last two years) has none: the candidates' earlier years. Written
        in bulk with the audit entries the branch's registration and evaluation leave (one per member
        and change, on the member, by the secretary), so the members' timelines show them."""
        by_pk = {m.pk: m for m in members}
        registered = set(
            Registration.objects.filter(member_id__in=by_pk, year=day.year).values_list("member_id", flat=True)
        )
        graded = set(
            Evaluation.objects.filter(member_id__in=by_pk, year=day.year - 1).values_list("member_id", flat=True)
        )
        to_register = [pk for pk in by_pk if pk not in registered]
        to_grade = [pk for pk in by_pk if pk not in graded]
        Evaluation.objects.bulk_create(
            Evaluation(member_id=pk, year=day.year - 1, grade=EvaluationGrade.QUALIFIED, recorded_by=place.secretary)
            for pk in to_grade
        )
        Registration.objects.bulk_create(
            Registration(
                member_id=pk, year=day.year, registered_on=min(date(day.year, 1, 15), day), recorded_by=place.secretary
            )
            for pk in to_register
        )
        grade = f"{day.year - 1} {EvaluationGrade.QUALIFIED.label}"
        audit_events_bulk(
            [(by_pk[pk], {"evaluation": ["", grade]}) for pk in to_grade]
            + [(by_pk[pk], {"registration": ["", day.year]}) for pk in to_register],
            actor=place.secretary,
        )

    # --- steps, each through its service on its day -----------------------------------------------

    def open(
        self, place: Place, member: Member, *, track: str, opened_on: date, activist_since: date | None = None
    ) -> PromotionCase:
        applied_on = add_months(opened_on, -self.rng.randint(1, 3))
        if track == Track.DEVELOPMENT:
            activist_since = activist_since or add_months(opened_on, -13)
            applied_on = add_months(activist_since, -self.rng.randint(6, 12))
        with self.on(opened_on, 9):
            return services.case_open(
                member=member,
                track=track,
                party_applied_on=applied_on,
                month_only=self.rng.random() < 0.3,
                activist_since=activist_since,
                actor=place.secretary,
            )

    def cultivate(self, place: Place, case: PromotionCase, start: date, end: date, *, skip_last: bool = False) -> None:
        """The quarterly reports due between `start` and `end`, each filed a few days before its due
        day (the 15th of the month after the quarter); with `skip_last`, the latest one is missing."""
        due = []
        year, quarter = quarter_of(max(start, case.party_applied_on))
        while True:
            filed_on = add_months(quarter_start(year, quarter), 3).replace(day=self.rng.randint(5, 14))
            if filed_on >= end:
                break
            if filed_on >= start:
                due.append((year, quarter, filed_on))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
        if skip_last and due:
            due.pop()
        for year, quarter, filed_on in due:
            with self.on(filed_on, 16):
                services.cultivation_report_file(
                    case=case,
                    year=year,
                    quarter=quarter,
                    content=self.rng.choice(CULTIVATION_TEXTS),
                    actor=place.secretary,
                )

    def round(
        self, place: Place, cases: list[PromotionCase], listed_on: date, *, short_wait: bool = False
    ) -> PromotionRound:
        track = cases[0].track
        with self.on(listed_on):
            self.ensure_facts(place, [c.member for c in cases], listed_on)
            round = services.round_create(
                branch=place.branch,
                track=track,
                title=f"{listed_on.year}年{listed_on.month}月推优（{Track(track).label}）",
                actor=place.secretary,
            )
            for case in cases:
                services.round_nominate(
                    round=round,
                    case=case,
                    actor=place.secretary,
                    short_wait_reason="该同志表现特别突出，经支委会研究提前列入。" if short_wait else "",
                )
        return round

    def opinions(self, place: Place, round: PromotionRound, day: date) -> None:
        with self.on(day):
            services.round_open_opinions(round=round, actor=place.secretary)
        for offset, source in enumerate(OpinionSource, start=1):
            with self.on(day + timedelta(days=offset)):
                for nomination in round.nominations.listed().order_by("pk"):
                    services.opinion_record(
                        nomination=nomination,
                        source=source,
                        content=self.rng.choice(OPINIONS[source]),
                        favourable=True,
                        actor=place.secretary,
                    )

    def vote(self, place: Place, round: PromotionRound, meeting_on: date, passes: list[bool]) -> list[Nomination]:
        """The branch general meeting: most members present; a candidate passes or falls short."""
        # Entitled to vote is the roster on the meeting day, not today's (members joined since then).
        voting = services.voting_roster(place.branch, meeting_on)
        present = voting - max(1, voting // 6)
        votes = {}
        nominations = list(round.nominations.listed().order_by("pk"))
        for nomination, passed in zip(nominations, passes, strict=True):
            votes_for = present - 1 if passed else voting // 2 - 1
            against = 1 if passed else present - votes_for - 1
            votes[nomination.pk] = (votes_for, against, present - votes_for - against)
        with self.on(meeting_on + timedelta(days=1)):
            services.round_record_vote(
                round=round,
                meeting_on=meeting_on,
                voting_members=voting,
                present_members=present,
                votes=votes,
                actor=place.secretary,
            )
        return nominations

    def publicize(self, place: Place, round: PromotionRound, starts_on: date) -> PromotionRound:
        with self.on(starts_on, 11):  # after the vote, recorded the morning after the meeting
            return services.round_start_publicity(round=round, starts_on=starts_on, actor=place.secretary)

    def submit(self, place: Place, round: PromotionRound) -> date:
        day = round.publicity_ends_on + timedelta(days=1)
        with self.on(day):
            services.round_submit(round=round, actor=place.secretary)
        return day

    def through_round(self, place: Place, cases: list[PromotionCase], listed_on: date) -> tuple[PromotionRound, date]:
        """List, ask opinions, vote (all pass), publicize and submit: the usual month of a round."""
        round = self.round(place, cases, listed_on)
        self.opinions(place, round, listed_on + timedelta(days=3))
        meeting_on = listed_on + timedelta(days=14)
        self.vote(place, round, meeting_on, [True] * len(cases))
        round = self.publicize(place, round, nth_working_day(meeting_on + timedelta(days=1), 1))
        return round, self.submit(place, round)

    def review(
        self, place: Place, case: PromotionCase, day: date, decision: str = "approve", comment: str = ""
    ) -> None:
        with self.on(day, 15):
            services.case_review(case=case, decision=decision, comment=comment, actor=place.reviewer)

    def hand_over(self, place: Place, case: PromotionCase, day: date) -> None:
        with self.on(day):
            services.case_hand_over(
                case=case, handed_over_on=day, actor=place.secretary, party_organization=place.party
            )

    def follow_up(self, place: Place, case: PromotionCase, end: date, *, late: int = 0, missing: int = 0) -> None:
        """The monthly reports not yet filed whose filing day comes before `end`, each filed by its due
        day (the 10th of the next month); the last `late` of them filed late (the 20th), and the last
        `missing` not filed at all: what the branch board and the overview flag. A talk every quarter."""
        month = self.next_report_month.get(case.pk, month_start(case.recommended_on))
        months = []
        while add_months(month, 1).replace(day=20) < end:
            months.append(month)
            month = add_months(month, 1)
        self.next_report_month[case.pk] = month
        if missing:
            months = months[:-missing]
        for index, month in enumerate(months):
            next_month = add_months(month, 1)
            with self.on(next_month.replace(day=20 if index >= len(months) - late else self.rng.randint(3, 9)), 17):
                services.follow_up_report_file(
                    case=case,
                    month=month,
                    thinking=self.rng.choice(FOLLOW_UP_TEXTS["thinking"]),
                    work=self.rng.choice(FOLLOW_UP_TEXTS["work"]),
                    study=self.rng.choice(FOLLOW_UP_TEXTS["study"]),
                    actor=place.secretary,
                )
            talked_on = next_month.replace(day=25)
            if month.month % 3 == 0 and talked_on < end:
                with self.on(talked_on, 19):
                    services.talk_record(
                        case=case,
                        held_on=talked_on,
                        held_by=self.rng.choice(TALKERS),
                        summary="了解近期思想和工作情况，勉励其继续努力，争取早日加入党组织。",
                        actor=place.secretary,
                    )

    def decide(self, place: Place, case: PromotionCase, decision: str, day: date, comment: str = "") -> None:
        with self.on(day, 14):
            services.case_record_party_decision(
                case=case, decision=decision, decided_on=day, comment=comment, actor=place.secretary
            )

    def recommended(self, place: Place, track: str, listed_on: date, *, nominees: int = 1) -> list[PromotionCase]:
        """Cases opened half a year before `listed_on`, cultivated, through a round, approved by the
        township a few days after submission and handed over to the paired Party organization."""
        opened_on = add_months(listed_on, -6)
        cases = [self.open(place, m, track=track, opened_on=opened_on) for m in place.take(nominees)]
        for case in cases:
            self.cultivate(place, case, opened_on, listed_on)
        _round, submitted_on = self.through_round(place, cases, listed_on)
        for case in cases:
            reviewed_on = submitted_on + timedelta(days=self.rng.randint(2, 6))
            self.review(place, case, reviewed_on, comment="材料齐全，程序规范，同意推荐。")
            self.hand_over(place, case, reviewed_on + timedelta(days=3))
            case.refresh_from_db()
        return cases

    # --- the stories --------------------------------------------------------------------------------

    def seed(self) -> None:
        stories = [
            self.in_review_recent,
            self.returned,
            self.publicity_with_open_objection,
            self.voted_one_passed,
            self.recommended_with_late_reports,
            self.activists,
            self.development_on_track_b,
            self.probationary,
            self.full_member,
            self.objections_settled,
            self.in_review_long_waiting,
            self.resubmitted,
            self.rejected,
            self.not_adopted,
            self.lapsed,
            self.activist_then_development,
            self.continued_on_development_track,
            self.opinions_asked,
            self.preliminary_list,
            self.withdrawn,
            *[self.in_cultivation] * 6,
        ]
        for story in stories:
            story()
        self.plans()

    def in_cultivation(self) -> None:
        place = self.place()
        if place is None:
            return
        opened_on = self.months_ago(self.rng.randint(2, 9))
        (member,) = place.take(1)
        case = self.open(place, member, track=Track.ACTIVIST, opened_on=opened_on)
        self.cultivate(place, case, opened_on, self.today, skip_last=self.rng.random() < 0.4)

    def preliminary_list(self) -> None:
        """A round drawn up this week; one nominee applied to the Party only four months ago, so the
        branch wrote why it lists them early."""
        place = self.place(nominees=2)
        if place is None:
            return
        first, second = place.take(2)
        listed_on = self.days_ago(4)
        cases = [
            self.open(place, first, track=Track.ACTIVIST, opened_on=self.months_ago(7)),
            self.open(place, second, track=Track.ACTIVIST, opened_on=self.months_ago(3)),
        ]
        self.cultivate(place, cases[0], self.months_ago(7), listed_on)
        self.round(place, cases, listed_on, short_wait=True)

    def opinions_asked(self) -> None:
        place = self.place(nominees=2)
        if place is None:
            return
        listed_on = self.days_ago(12)
        cases = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(8)) for m in place.take(2)]
        round = self.round(place, cases, listed_on)
        self.opinions(place, round, listed_on + timedelta(days=2))

    def voted_one_passed(self) -> None:
        """The general meeting passed one candidate and not the other (back to cultivation, the vote kept)."""
        place = self.place(nominees=2)
        if place is None:
            return
        listed_on = self.days_ago(21)
        cases = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(9)) for m in place.take(2)]
        round = self.round(place, cases, listed_on)
        self.opinions(place, round, listed_on + timedelta(days=2))
        self.vote(place, round, self.days_ago(6), [True, False])

    def publicity_with_open_objection(self) -> None:
        place = self.place(nominees=2)
        if place is None:
            return
        starts_on = nth_working_day(self.days_ago(4), 1)
        listed_on = starts_on - timedelta(days=18)
        cases = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(8)) for m in place.take(2)]
        round = self.round(place, cases, listed_on)
        self.opinions(place, round, listed_on + timedelta(days=2))
        nominations = self.vote(place, round, starts_on - timedelta(days=2), [True, True])
        self.publicize(place, round, starts_on)
        received_on = min(starts_on + timedelta(days=1), self.today)
        with self.on(received_on, 15):
            services.objection_record(
                nomination=nominations[1],
                received_on=received_on,
                content="反映该同志近期参加团组织活动较少，请核实。",
                actor=place.secretary,
            )

    def objections_settled(self) -> None:
        """Two objections in one publicity: one dismissed (the candidate goes on, is approved and waits
        for the hand-over), one upheld (the case goes back to cultivation, everything kept)."""
        place = self.place(nominees=2)
        if place is None:
            return
        listed_on = self.months_ago(2)
        cases = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(9)) for m in place.take(2)]
        for case in cases:
            self.cultivate(place, case, self.months_ago(9), listed_on)
        round = self.round(place, cases, listed_on)
        self.opinions(place, round, listed_on + timedelta(days=2))
        meeting_on = listed_on + timedelta(days=14)
        nominations = self.vote(place, round, meeting_on, [True, True])
        round = self.publicize(place, round, nth_working_day(meeting_on + timedelta(days=1), 1))
        objections = []
        for nomination, content in zip(
            nominations,
            ["反映该同志工作作风问题，经核实不属实。", "反映该同志未按时参加组织生活，经核实属实。"],
            strict=True,
        ):
            with self.on(round.publicity_starts_on + timedelta(days=1), 11):
                objections.append(
                    services.objection_record(
                        nomination=nomination,
                        received_on=round.publicity_starts_on + timedelta(days=1),
                        content=content,
                        actor=place.secretary,
                    )
                )
        with self.on(round.publicity_ends_on, 16):
            services.objection_resolve(
                objection=objections[0],
                upheld=False,
                resolution="经团支部调查核实，反映情况不属实。",
                actor=place.secretary,
            )
            services.objection_resolve(
                objection=objections[1], upheld=True, resolution="情况属实，暂缓推荐，继续培养。", actor=place.secretary
            )
        submitted_on = self.submit(place, round)
        self.review(place, cases[0], submitted_on + timedelta(days=4), comment="同意推荐。")

    def in_review_recent(self) -> None:
        """Rounds submitted two and nine days ago: the township's queue has work, some of it overdue."""
        for days, nominees in ((2, 2), (9, 1)):
            place = self.place(nominees=nominees)
            if place is None:
                return
            # Five working days from here end a week later at most: submitted `days` to a week before that.
            starts_on = nth_working_day(self.days_ago(days + 10), 1)
            listed_on = starts_on - timedelta(days=16)
            cases = [
                self.open(place, m, track=Track.ACTIVIST, opened_on=add_months(listed_on, -7))
                for m in place.take(nominees)
            ]
            for case in cases:
                self.cultivate(place, case, add_months(listed_on, -7), listed_on)
            round = self.round(place, cases, listed_on)
            self.opinions(place, round, listed_on + timedelta(days=2))
            self.vote(place, round, starts_on - timedelta(days=2), [True] * nominees)
            self.submit(place, self.publicize(place, round, starts_on))

    def in_review_long_waiting(self) -> None:
        place = self.place()
        if place is None:
            return
        listed_on = self.days_ago(45)
        (case,) = [self.open(place, m, track=Track.DEVELOPMENT, opened_on=self.months_ago(8)) for m in place.take(1)]
        self.cultivate(place, case, self.months_ago(8), listed_on)
        self.through_round(place, [case], listed_on)

    def returned(self) -> None:
        place = self.place()
        if place is None:
            return
        listed_on = self.days_ago(50)
        (case,) = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(8)) for m in place.take(1)]
        self.cultivate(place, case, self.months_ago(8), listed_on)
        _round, submitted_on = self.through_round(place, [case], listed_on)
        self.review(
            place,
            case,
            submitted_on + timedelta(days=5),
            "return",
            "团员大会记录缺少缺席人员及原因，请补充后重新报送。",
        )

    def resubmitted(self) -> None:
        place = self.place()
        if place is None:
            return
        listed_on = self.days_ago(70)
        (case,) = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(9)) for m in place.take(1)]
        self.cultivate(place, case, self.months_ago(9), listed_on)
        _round, submitted_on = self.through_round(place, [case], listed_on)
        returned_on = submitted_on + timedelta(days=6)
        self.review(place, case, returned_on, "return", "推优表缺少党组织意见，请补充。")
        with self.on(returned_on + timedelta(days=15)):
            services.case_resubmit(case=case, comment="已补充党组织书面意见。", actor=place.secretary)

    def rejected(self) -> None:
        place = self.place()
        if place is None:
            return
        listed_on = self.days_ago(80)
        (case,) = [self.open(place, m, track=Track.ACTIVIST, opened_on=self.months_ago(10)) for m in place.take(1)]
        _round, submitted_on = self.through_round(place, [case], listed_on)
        self.review(
            place, case, submitted_on + timedelta(days=3), "reject", "该同志入党申请书时间与档案记载不符，不予推荐。"
        )

    def recommended_with_late_reports(self) -> None:
        """Handed over months ago and waiting for the Party: follow-up reports, one filed late and the
        latest not filed at all."""
        place = self.place(nominees=2, handed_over=True)
        if place is None:
            return
        for index, case in enumerate(self.recommended(place, Track.ACTIVIST, self.months_ago(5), nominees=2)):
            self.follow_up(place, case, self.today, late=1, missing=index)

    def activists(self) -> None:
        for months in (10, 8):
            place = self.place(handed_over=True)
            if place is None:
                return
            (case,) = self.recommended(place, Track.ACTIVIST, self.months_ago(months))
            named_on = add_months(case.recommended_on, 2)
            self.follow_up(place, case, named_on)
            self.decide(place, case, "activist", named_on, "经党支部委员会研究，确定为入党积极分子。")
            self.follow_up(place, case, self.today)

    def activist_then_development(self) -> None:
        """Applicant track the whole way: named activist, then a development candidate after a year."""
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.ACTIVIST, self.months_ago(20))
        named_on = add_months(case.recommended_on, 1)
        developed_on = add_months(named_on, 13)
        self.follow_up(place, case, named_on)
        self.decide(place, case, "activist", named_on)
        self.follow_up(place, case, developed_on)
        self.decide(place, case, "development", developed_on, "经党支部委员会讨论，列为发展对象。")
        self.follow_up(place, case, self.today, missing=1)

    def continued_on_development_track(self) -> None:
        """Named an activist on the applicant track; a year on, the branch opens the development track
        for the member (推荐为发展对象人选), where the activist-track case continues (its stage
        “continued on the development track”); the new case is in cultivation."""
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.ACTIVIST, self.months_ago(18))
        named_on = add_months(case.recommended_on, 1)
        self.follow_up(place, case, named_on)
        self.decide(place, case, "activist", named_on, "经党支部委员会研究，确定为入党积极分子。")
        opened_on = min(add_months(named_on, 13), self.days_ago(30))
        self.follow_up(place, case, opened_on)
        with self.on(opened_on, 9):
            continued = services.case_open(
                member=case.member,
                track=Track.DEVELOPMENT,
                party_applied_on=case.party_applied_on,
                month_only=case.party_applied_month_only,
                activist_since=named_on,
                actor=place.secretary,
            )
        self.cultivate(place, continued, opened_on, self.today)

    def development_on_track_b(self) -> None:
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.DEVELOPMENT, self.months_ago(5))
        developed_on = add_months(case.recommended_on, 2)
        self.follow_up(place, case, developed_on)
        self.decide(place, case, "development", developed_on)
        self.follow_up(place, case, self.today)

    def probationary(self) -> None:
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.DEVELOPMENT, self.months_ago(15))
        developed_on = add_months(case.recommended_on, 1)
        admitted_on = add_months(developed_on, 4)
        self.follow_up(place, case, developed_on)
        self.decide(place, case, "development", developed_on)
        self.follow_up(place, case, admitted_on)
        self.decide(place, case, "probationary", admitted_on, "支部大会讨论通过，接收为预备党员。")

    def full_member(self) -> None:
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.DEVELOPMENT, self.months_ago(28))
        developed_on = add_months(case.recommended_on, 1)
        admitted_on = add_months(developed_on, 2)
        self.follow_up(place, case, developed_on)
        self.decide(place, case, "development", developed_on)
        self.follow_up(place, case, admitted_on)
        self.decide(place, case, "probationary", admitted_on)
        self.decide(place, case, "full", add_years(admitted_on, 1) + timedelta(days=3), "预备期满，按期转为正式党员。")

    def not_adopted(self) -> None:
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.ACTIVIST, self.months_ago(9))
        decided_on = add_months(case.recommended_on, 3)
        self.follow_up(place, case, decided_on)
        self.decide(place, case, "not_adopted", decided_on, "党组织研究认为需进一步培养考察，暂不确定。")

    def lapsed(self) -> None:
        """Handed over more than two years ago; the Party never acted, so the daily sweep lapsed it."""
        place = self.place(handed_over=True)
        if place is None:
            return
        (case,) = self.recommended(place, Track.ACTIVIST, self.months_ago(26))
        self.follow_up(place, case, add_months(case.recommended_on, 4))
        lapse_day = case.valid_until + timedelta(days=1)
        with self.on(lapse_day, 2):
            services.lapse_expired_cases(lapse_day)

    def withdrawn(self) -> None:
        place = self.place()
        if place is None:
            return
        opened_on = self.months_ago(7)
        (member,) = place.take(1)
        case = self.open(place, member, track=Track.ACTIVIST, opened_on=opened_on)
        self.cultivate(place, case, opened_on, self.months_ago(1))
        with self.on(self.months_ago(1)):
            services.case_withdraw(case=case, reason="本人外出务工，申请暂缓推优。", actor=place.secretary)

    # --- plans ---------------------------------------------------------------------------------------

    def plans(self) -> None:
        """Each township committee's plan for the year, saved in January by its staff: an activist
        candidate from each of its three largest branches, a development candidate from the largest
        (some forty in the county, as in the county report of domain.md §0)."""
        saved_on = min(date(self.today.year, 1, 8), self.today)
        staff = RoleAssignment.objects.filter(
            role=Role.TOWNSHIP_STAFF, organization__path__startswith=self.county.path
        ).select_related("user", "organization")
        for assignment in staff.order_by("organization__path"):
            committee = assignment.organization
            branches = list(
                Organization.objects.subtree_of([committee.path])
                .branches()
                .active()
                .annotate(active=Count("members", filter=Q(members__status="active")))
                .filter(active__gte=ROUND_ROSTER)
                .order_by("-active", "code")[:3]
            )
            targets = {(b.pk, Track.ACTIVIST.value): 1 for b in branches}
            targets.update({(b.pk, Track.DEVELOPMENT.value): 1 for b in branches[:1]})
            with self.on(saved_on):
                services.plan_save(
                    committee=committee,
                    year=self.today.year,
                    targets=targets,
                    note="按照党委年度发展党员计划，推优工作与党员发展计划相衔接。",
                    actor=assignment.user,
                )


def seed_promotion(county: Organization) -> int:
    """A year of 推优 on the demo county, unless it has cases already (idempotent). Returns the
    number of cases added."""
    in_county = PromotionCase.objects.filter(branch__path__startswith=county.path)
    if in_county.exists():
        return 0
    demo = PipelineDemo(county, timezone.localdate())
    if not demo.places:
        return 0
    with transaction.atomic():
        demo.seed()
    return in_county.count()
