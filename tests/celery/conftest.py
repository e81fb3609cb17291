"""Fixtures of the scale-out runtime's tests: the local Redis and RabbitMQ servers.

As for PostgreSQL (tests/conftest.py), a server that is down skips its tests, except when
``CI=true``: then they fail, because CI must prove the runtime on real servers.
"""

from __future__ import annotations

import socket

import pytest
from _database_testkit import in_ci

REDIS = ("127.0.0.1", 6379)
RABBITMQ = ("127.0.0.1", 5672)
REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _require(name: str, address: tuple[str, int]) -> None:
    try:
        with socket.create_connection(address, timeout=2):
            return
    except OSError as exc:
        message = f"{name} unreachable at {address[0]}:{address[1]}: {exc}"
    if in_ci():
        pytest.fail(f"CI=true requires {name}. {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis, or a skip (a failure when CI=true)."""
    _require("Redis", REDIS)
    return REDIS_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The local RabbitMQ, or a skip (a failure when CI=true)."""
    _require("RabbitMQ", RABBITMQ)
    return RABBITMQ_URL
