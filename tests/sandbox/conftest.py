"""Fixtures: a real sandbox on a loopback port per test, and a client session bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from importer.sandbox import SandboxConfig
from tests.support.sandbox_api import Api, running_api


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A sandbox with default settings (static token on, no faults)."""
    async with running_api() as a:
        yield a


@pytest.fixture
def sandbox_with() -> Callable[..., AbstractAsyncContextManager[Api]]:
    """``async with sandbox_with(rate_limit=5, ...) as api:`` for a custom configuration."""

    def make(**options: Any) -> AbstractAsyncContextManager[Api]:
        return running_api(SandboxConfig(**options))

    return make
