"""Rate limits in Redis (FACTDESK_REDIS_URL), with a real redis-server: two apps (as two
workers would) share one count; with Redis gone a fail-closed service refuses with 503 and a
fail-open one serves, and both limit again when Redis is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.desk import Factdesk
from tests.api.keyed import API_KEYS, READ_KEY, app_client, bearer
from tests.api.test_limits import assert_error
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def test_two_apps_share_one_count(desk: Factdesk, redis: RedisServer) -> None:
    settings = {"api_keys": API_KEYS, "rate_limit_per_minute": 4, "redis_url": redis.url}
    with app_client(desk, **settings) as one, app_client(desk, **settings) as two:
        statuses = [client.get("/v1/documents", headers=bearer(READ_KEY)).status_code
                    for client in (one, two) * 4]
        assert statuses == [200] * 4 + [429] * 4


def test_fail_closed_refuses_while_redis_is_away(desk: Factdesk, redis: RedisServer) -> None:
    with app_client(desk, api_keys=API_KEYS, rate_limit_per_minute=100, redis_url=redis.url,
                    rate_limit_fail="closed") as client:
        assert client.get("/v1/documents", headers=bearer(READ_KEY)).status_code == 200
        redis.stop()
        refused = client.get("/v1/documents", headers=bearer(READ_KEY))
        assert_error(refused, 503, "rate_limit_unavailable")
        assert refused.headers["retry-after"] == "5"
        health = client.get("/healthz").json()  # not rate limited, so it answers
        assert health["status"] == "degraded"
        assert health["rate_limit"]["fail"] == "closed"
        assert not health["rate_limit"]["reachable"]
        redis.start()
        assert client.get("/v1/documents", headers=bearer(READ_KEY)).status_code == 200
        assert client.get("/healthz").json()["status"] == "ok"


def test_fail_open_serves_while_redis_is_away(desk: Factdesk, redis: RedisServer) -> None:
    with app_client(desk, api_keys=API_KEYS, rate_limit_per_minute=2, redis_url=redis.url,
                    rate_limit_fail="open") as client:
        redis.stop()
        statuses = {client.get("/v1/documents", headers=bearer(READ_KEY)).status_code
                    for _ in range(5)}
        assert statuses == {200}  # over the limit of 2, but nothing can count it
        redis.start()
        statuses2 = [client.get("/v1/documents", headers=bearer(READ_KEY)).status_code
                     for _ in range(3)]
        assert statuses2 == [200, 200, 429]
