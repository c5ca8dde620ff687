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


@pytest.fixture(autouse=True)
def _embedded_broker_folders(tmp_path):
    """In the embedded runtime, point the broker at folders that exist, whatever the state of var/."""
    if not celery_app.conf.broker_url.startswith("filesystem"):
        yield
        return
    queue, control = tmp_path / "queue", tmp_path / "control"
    queue.mkdir()
    control.mkdir()
    options = {"data_folder_in": str(queue), "data_folder_out": str(queue), "control_folder": str(control)}
    with mock.patch.dict(celery_app.conf.broker_transport_options, options):
        yield


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


def test_reports_503_when_the_embedded_broker_folders_are_missing(client, tmp_path):
    missing = tmp_path / "absent"
    options = {"data_folder_in": str(missing), "data_folder_out": str(missing), "control_folder": str(missing)}
    with mock.patch.object(
        celery_app, "connection_for_write", return_value=Connection("filesystem://", transport_options=options)
    ):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"] == "error: FileNotFoundError"
