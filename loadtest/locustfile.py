"""Load test of LeagueAdmin: virtual users of mixed roles browse the demo county.

Run it with `make loadtest USERS=20 DURATION=60s` (loadtest/run.py), against the production stack
(`make serve`) on this machine only. Each virtual user signs in once (the form, with its CSRF token),
finds its own ids on the pages it is shown, then browses what its role uses, pausing LOADTEST_THINK
seconds (1 to 3) between pages. The figures count from the moment the last user has signed in, for
LOADTEST_DURATION seconds; the sign-ins are reported apart (LOADTEST_WINDOW_REPORT).
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest import cpu
from loadtest.pages import (
    BOARD_LINK,
    MEMBER_LINK,
    PARTY_CASE_LINK,
    REVIEW_LINK,
    ROLES,
    SIGNED_IN_MARK,
    UNIT_REPORT_LINK,
    csrf_token,
    ids,
    is_loopback,
    last_member_page,
    password,
    think_time,
)

logger = logging.getLogger("leagueadmin.loadtest")

# Shared by the users of this (single) locust process.
_window = {"ready": 0, "started": None, "sign_in": None, "cpu": None}


@events.test_start.add_listener
def _only_this_machine(environment, **_kwargs):
    if not is_loopback(environment.host or ""):
        logger.error("The load test runs against 127.0.0.1 only, not %s.", environment.host)
        environment.runner.quit()


def _user_ready(environment) -> None:
    """Once every user has signed in and found its ids (or failed to), start the measured window: the
    sign-ins and look-ups are set aside, and the run ends LOADTEST_DURATION seconds later."""
    _window["ready"] += 1
    target = getattr(environment.parsed_options, "num_users", None)
    if _window["started"] is not None or not target or _window["ready"] < target:
        return
    entry = environment.stats.entries.get(("sign in", "POST"))
    if entry is not None and entry.num_requests:
        _window["sign_in"] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "max": entry.max_response_time,
        }
    environment.stats.reset_all()
    _window["started"] = time.time()
    _window["cpu"] = cpu.snapshot()
    duration = float(os.environ.get("LOADTEST_DURATION") or 0)
    if duration > 0:
        gevent.spawn_later(duration, environment.runner.quit)


@events.quitting.add_listener
def _write_window_report(environment, **_kwargs):
    path = os.environ.get("LOADTEST_WINDOW_REPORT")
    if not path:
        return
    measured = time.time() - _window["started"] if _window["started"] else None
    used = cpu.used_between(_window["cpu"], cpu.snapshot()) if _window["cpu"] else None
    report = {"users_ready": _window["ready"], "sign_in": _window["sign_in"], "measured_seconds": measured, "cpu": used}
    Path(path).write_text(json.dumps(report), encoding="utf-8")


class LeagueUser(FastHttpUser):
    abstract = True
    role = ROLES["branch"]
    wait_time = between(*think_time())

    def on_start(self) -> None:
        self.username = random.choice(self.role.usernames)
        try:
            self.sign_in()
            self.find_ids()
        finally:
            _user_ready(self.environment)

    def sign_in(self) -> None:
        with self.client.get("/login/", name="sign-in page", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                raise StopUser
            token = csrf_token(response.text)
        body = urlencode({"username": self.username, "password": password(), "csrfmiddlewaretoken": token})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{self.host}/login/"}
        with self.client.post("/login/", data=body, headers=headers, name="sign in", catch_response=True) as response:
            if SIGNED_IN_MARK not in (response.text or ""):
                # Stop this user at once: more attempts would lock the account for everyone.
                response.failure(f"{self.username} could not sign in")
                raise StopUser

    def page(self, path: str, name: str):
        """Fetch a page; anything but the page itself (an error, a bounce to sign-in) is a failure."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/login/" in (response.url or ""):
                response.failure("signed out")
            return response

    def look_up(self, path: str):
        """A page read for its links before the window; a user that cannot read it stops."""
        response = self.page(path, "look-up")
        if response.status_code != 200 or not response.text:
            raise StopUser
        return response

    def find_ids(self) -> None:
        """Ids this account may open, from the pages it is shown (none are hard-coded)."""
        listing = self.look_up("/members/").text
        self.member_ids = ids(MEMBER_LINK, listing)
        self.last_page = last_member_page(listing)
        self.unit_ids = ids(UNIT_REPORT_LINK, self.look_up("/reports/").text)
        if not (self.member_ids and self.unit_ids):
            logger.error("%s sees no member or no unit: is the demo county loaded?", self.username)
            raise StopUser

    @task(2)
    def inbox(self) -> None:
        self.page("/org/inbox/", "inbox")

    @task(1)
    def home(self) -> None:
        self.page("/", "home")


class BranchSecretary(LeagueUser):
    """团支部书记: the branch's members, its 推优 board and its reports."""

    role = ROLES["branch"]
    weight = role.weight

    def find_ids(self) -> None:
        super().find_ids()
        board = self.look_up("/promotion/")  # a secretary is sent on to the branch's board
        self.board_path = (board.url or "").split(self.host or "", 1)[-1] or "/promotion/"

    @task(4)
    def member_list(self) -> None:
        self.page("/members/", "member list")

    @task(1)
    def member_list_filtered(self) -> None:
        self.page("/members/?age=18-22&order=name", "member list, filtered")

    @task(4)
    def member_page(self) -> None:
        self.page(f"/members/{random.choice(self.member_ids)}/", "member page")

    @task(2)
    def promotion_board(self) -> None:
        self.page(self.board_path, "推优 board")

    @task(1)
    def dashboard(self) -> None:
        self.page(f"/reports/unit/{random.choice(self.unit_ids)}/", "reports dashboard")

    @task(1)
    def monthly_report(self) -> None:
        self.page(f"/reports/unit/{random.choice(self.unit_ids)}/monthly/", "monthly report")


class CommitteeStaff(LeagueUser):
    """Township committee staff (乡镇团委): the subtree's members, the boards, the review queue
    (推优审核), the pipeline overview (推优总览) and the reports."""

    role = ROLES["township"]
    weight = role.weight

    def find_ids(self) -> None:
        super().find_ids()
        self.board_ids = ids(BOARD_LINK, self.look_up("/promotion/").text)
        self.review_ids = ids(REVIEW_LINK, self.look_up("/promotion/review/").text)

    @task(3)
    def member_list(self) -> None:
        self.page("/members/", "member list")

    @task(1)
    def member_list_filtered(self) -> None:
        self.page("/members/?age=22-25&sector=village&order=-joined_on", "member list, filtered")

    @task(1)
    def member_search(self) -> None:
        self.page(f"/members/?{urlencode({'q': random.choice('王李张刘陈杨')})}", "member list, search")

    @task(1)
    def member_list_deep(self) -> None:
        self.page(f"/members/?page={random.randint(1, self.last_page)}", "member list, deep page")

    @task(3)
    def member_page(self) -> None:
        self.page(f"/members/{random.choice(self.member_ids)}/", "member page")

    @task(2)
    def promotion_board(self) -> None:
        if self.board_ids:
            self.page(f"/promotion/branches/{random.choice(self.board_ids)}/", "推优 board")

    @task(2)
    def review_queue(self) -> None:
        self.page("/promotion/review/", "review queue")

    @task(1)
    def review_case(self) -> None:
        if self.review_ids:
            self.page(f"/promotion/review/{random.choice(self.review_ids)}/", "review case")

    @task(1)
    def overview(self) -> None:
        self.page("/promotion/overview/", "推优 overview")

    @task(2)
    def dashboard(self) -> None:
        self.page(f"/reports/unit/{random.choice(self.unit_ids)}/", "reports dashboard")

    @task(1)
    def monthly_report(self) -> None:
        self.page(f"/reports/unit/{random.choice(self.unit_ids)}/monthly/", "monthly report")


class CountyStaff(CommitteeStaff):
    """团县委 staff: the same pages over the whole county, and the organization tree."""

    role = ROLES["county"]
    weight = role.weight

    @task(1)
    def unit_tree(self) -> None:
        self.page("/org/units/", "unit tree")


class PartyOrganizer(LeagueUser):
    """党组织联系人: the monthly report of their Party organization and the people handed over."""

    role = ROLES["party"]
    weight = role.weight

    def find_ids(self) -> None:
        report = self.look_up("/reports/")  # sent on to their Party organization's report
        self.report_path = (report.url or "").split(self.host or "", 1)[-1] or "/reports/"
        self.case_ids = ids(PARTY_CASE_LINK, self.look_up("/promotion/party/").text)

    @task(3)
    def party_report(self) -> None:
        self.page(self.report_path, "Party monthly report")

    @task(2)
    def party_cases(self) -> None:
        self.page("/promotion/party/", "Party cases")

    @task(2)
    def party_case(self) -> None:
        if self.case_ids:
            self.page(f"/promotion/party/{random.choice(self.case_ids)}/", "Party case")
