"""Today's routine for the feed: a ``SessionRequest`` resolved the one way every front end
resolves it (``session.request.resolve``), with the name the history knows it by. Planning
and synthesis wait until an episode is really made, so a feed with nothing new to publish
costs no speech (the resolved routine makes its voice on first use)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..plan.progression import Level
from ..routine import Routine
from ..session.prepare import Session, Today as Resolved, prepare
from ..session.request import SessionRequest, resolve
from ..speech import Synthesizer


@dataclass(frozen=True)
class Today:
    """``source``: the routine as the history knows it (a built-in's name, else the file's
    absolute path); ``resolved``: the request resolved (routine at today's levels, phrases,
    voice)."""

    source: str
    resolved: Resolved

    @property
    def routine(self) -> Routine:
        return self.resolved.routine

    @property
    def levels(self) -> dict[str, Level]:
        return dict(self.resolved.levels)

    @property
    def synthesizer(self) -> Synthesizer:
        return self.resolved.synthesizer


def resolve_today(request: SessionRequest, *, synthesizer=None, warn=None) -> Today:
    """``request`` resolved for an episode (``synthesizer`` overrides the engine: tests use
    fakes). Raises the errors of loading, the history and the engine."""
    from ..history.journal import recorded_name
    return Today(recorded_name(request.routine), resolve(request, synthesizer=synthesizer, warn=warn))


def prepare_today(today: Today) -> Session:
    """The planned ``Session`` of ``today`` (synthesizing what the cache does not hold)."""
    return prepare(today.resolved)


def resolvers(requests: Iterable[SessionRequest], *, warn=None) -> list[Callable[[], Today]]:
    """One callable per request that resolves it when called (at each publish: the levels
    move with the history). The routines are loaded now, so a bad one fails at once."""
    from ..routine import load_routine
    requests = list(requests)
    for request in requests:
        load_routine(request.routine)
    return [lambda request=request: resolve_today(request, warn=warn) for request in requests]
