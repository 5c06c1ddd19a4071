"""Helpers shared by the tests."""

from __future__ import annotations

import os

import pytest


def service_absent(reason: str) -> None:
    """Skip a test whose outside service is missing, or fail where CI requires it.

    CI sets DUECOURSE_REQUIRE_SERVICES, so a missing broker or browser there is
    a failure, never a silent skip.
    """
    if os.environ.get("DUECOURSE_REQUIRE_SERVICES"):
        pytest.fail(f"{reason}; CI requires it")
    pytest.skip(reason)
