"""What the load test's virtual users do, kept apart from locust so the test suite can check it
against the real templates (tests/test_production_stack.py) without importing gevent's patches.

The accounts are those of the demo county (`manage.py seed_demo`, README "Demo accounts"). Many virtual
users share one account: sign-in succeeds every time, and only failures count towards the lockout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEMO_PASSWORD = "Tuanwei@2026demo"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MEMBER_LINK = re.compile(r'href="/members/(\d+)/"')
BOARD_LINK = re.compile(r'href="/promotion/branches/(\d+)/"')
REVIEW_LINK = re.compile(r'href="/promotion/review/(\d+)/')
UNIT_REPORT_LINK = re.compile(r'href="/reports/unit/(\d+)/"')
PARTY_CASE_LINK = re.compile(r'href="/promotion/party/(\d+)/"')
MEMBER_COUNT = re.compile(r'data-testid="member-count">\s*(\d+)')
MEMBER_PAGE_SIZE = 50  # members/views.py PAGE_SIZE
# The page a signed-in user lands on shows the sign-out form; the sign-in page does not.
SIGNED_IN_MARK = 'action="/logout/"'


@dataclass(frozen=True)
class Role:
    """One kind of user: the accounts it signs in as and its share of the virtual users."""

    name: str
    usernames: tuple[str, ...]
    weight: int


# Branch secretaries are most of the real users; county staff and Party organizers are few.
ROLES = {
    "branch": Role("branch", tuple(f"branch{n:03d}" for n in range(1, 133)), weight=5),
    "township": Role("township", tuple(f"township{n:02d}" for n in range(1, 11)), weight=3),
    "county": Role("county", ("county",), weight=1),
    "party": Role("party", ("party01",), weight=1),
}


def password() -> str:
    return os.environ.get("LOADTEST_PASSWORD") or DEMO_PASSWORD


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    if not match:
        raise ValueError("no csrfmiddlewaretoken in the page")
    return match.group(1)


def ids(pattern: re.Pattern[str], html: str) -> list[int]:
    """The distinct ids of the links matching `pattern`, in page order."""
    return list(dict.fromkeys(int(found) for found in pattern.findall(html)))


def last_member_page(html: str) -> int:
    """The member list's last page number, from the count above the list."""
    match = MEMBER_COUNT.search(html)
    count = int(match.group(1)) if match else 0
    return max(1, -(-count // MEMBER_PAGE_SIZE))


def is_loopback(url: str) -> bool:
    """The load test only ever targets this machine."""
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def think_time() -> tuple[float, float]:
    """Seconds a user waits between two pages, from LOADTEST_THINK ("1,3" by default)."""
    raw = os.environ.get("LOADTEST_THINK", "").strip() or "1,3"
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"LOADTEST_THINK must be two numbers of seconds, e.g. 1,3, not {raw!r}.") from None
    if not 0 <= low <= high:
        raise ValueError(f"LOADTEST_THINK must be 0 ≤ low ≤ high, not {raw!r}.")
    return low, high
