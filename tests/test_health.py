"""The health check: database and broker reachability, for load balancers and monitoring."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from kombu import Connection

from leagueadmin.celery import app as celery_app

# Nothing listens on port 1, so a connection attempt is refused at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


def test_reports_ok_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]  # a proxy must not answer for the application


def test_needs_no_login(client):
    response = client.get(reverse("healthz"), follow=False)

    assert response.status_code == 200
    assert "Location" not in response


def test_reports_503_when_the_database_fails(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed the connection")):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error: OperationalError"
    assert body["broker"] == "ok"


def test_reports_503_when_the_broker_is_unreachable(client):
    with mock.patch.object(celery_app, "connection_for_write", return_value=Connection(UNREACHABLE_BROKER)):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


def test_refuses_post(client):
    response = client.post(reverse("healthz"))

    assert response.status_code == 405
