"""`/api/v1`: JSON for integrations, with API keys, idempotency and problems.

See docs/api.md. `install` is the one call `create_app` makes.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from duecourse.adapters.db.api_queries import SqlApiReader
from duecourse.adapters.db.api_store import SqlApiKeyStore, SqlIdempotencyStore
from duecourse.bootstrap import Container
from duecourse.entrypoints.web.api import (
    actions,
    agreements,
    call_tasks,
    clients,
    contracts,
    invoices,
    payments,
    promises,
    rules,
)
from duecourse.entrypoints.web.api.common import ApiContext
from duecourse.entrypoints.web.api.problems import install_problems

PREFIX = "/api/v1"


def install(app: FastAPI, container: Container) -> None:
    """Add `/api/v1` and its error handlers to the app."""
    engine = container.engine
    app.state.api = ApiContext(
        container=container,
        reader=SqlApiReader(engine),
        keys=SqlApiKeyStore(engine),
        idempotency=SqlIdempotencyStore(engine),
    )
    router = APIRouter(prefix=PREFIX)
    for module in (
        clients,
        contracts,
        invoices,
        payments,
        rules,
        actions,
        call_tasks,
        promises,
        agreements,
    ):
        router.include_router(module.router)
    app.include_router(router)
    install_problems(app)
