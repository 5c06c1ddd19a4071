"""What the desk's routes reach beyond `WebContext`: the engine and the run's parts.

`install` puts one `DeskParts` on the app when a desk router is included;
each request opens its own stores and closes them when it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy import Engine

from duecourse.adapters.db.desk_store import SqlDeskStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.db.timeline_store import SqlTimelineStore
from duecourse.bootstrap import Container
from duecourse.domain.rules import PenaltyCheck
from duecourse.services.compose import Composer


@dataclass(frozen=True)
class DeskParts:
    engine: Engine
    composer: Composer
    check_penalty: PenaltyCheck

    @contextmanager
    def store(self) -> Iterator[SqlDeskStore]:
        """A desk unit of work; what was not committed is dropped at the end."""
        store = SqlDeskStore(self.engine)
        try:
            yield store
        finally:
            store.close()

    def held_store(self) -> SqlRunStore:
        return SqlRunStore(self.engine, held=True)

    def timeline(self) -> SqlTimelineStore:
        return SqlTimelineStore(self.engine)


def install(app: FastAPI, container: Container) -> None:
    if not isinstance(getattr(app.state, "desk", None), DeskParts):
        app.state.desk = DeskParts(
            container.engine, container.composer, container.check_penalty
        )


def desk_of(request: Request) -> DeskParts:
    parts = request.app.state.desk
    assert isinstance(parts, DeskParts)
    return parts
