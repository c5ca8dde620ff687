"""The settings of the Celery worker that tests/branches/test_reminder_worker.py starts: the project's,
with every Redis key of the broker and the result store (queues, bindings, acknowledgements, results)
under the test's own prefix. Parallel test workers, and anything else on the same Redis database, never
see its messages, and the test deletes exactly its own keys afterwards."""

import os

from leagueadmin.settings import *  # noqa: F403

REDIS_KEY_PREFIX = os.environ["TEST_REDIS_KEY_PREFIX"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}
