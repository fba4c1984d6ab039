"""The FastAPI application: thin routes over one Factdesk instance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import __version__
from service.api.errors import install_error_handlers
from service.api.middleware import install_middleware
from service.api.routes import ask, doctor, documents, metrics, page, summarize
from service.api.schemas import ErrorOut, Health, RateLimitHealth
from service.config import Settings
from service.desk import Factdesk
from service.observability.metrics import Metrics

ERROR_RESPONSES = {
    400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    413: {"model": ErrorOut}, 422: {"model": ErrorOut},
}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # On a clean shutdown: keep the lexical index for the next start (service/retrieve/
    # term_cache.py). A killed server only starts slower: the cache is checked chunk by chunk.
    app.state.desk.close()


def create_app(desk: Factdesk | None = None, settings: Settings | None = None) -> FastAPI:
    """``settings`` rule the HTTP layer (API keys, limits); by default they are the desk's."""
    app = FastAPI(
        lifespan=_lifespan,
        title="factdesk",
        version=__version__,
        description="Ask factual questions of stored news articles; every citation is an exact "
        "character span of a stored article (`text[start:end] == quote`).",
        responses=ERROR_RESPONSES,  # type: ignore[arg-type]
    )
    app.state.desk = desk or Factdesk(settings)
    app.state.settings = settings or app.state.desk.settings
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_middleware(app, app.state.settings)
    app.include_router(metrics.router)
    app.include_router(documents.router)
    app.include_router(ask.router)
    app.include_router(summarize.router)
    app.include_router(doctor.router)
    app.include_router(page.router)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        documents, chunks = app.state.desk.counts()
        limiter = app.state.rate_limiter
        if not limiter.enabled:
            return Health(status="ok", documents=documents, chunks=chunks)
        limiter.probe()
        limit = RateLimitHealth(store=limiter.store, reachable=limiter.reachable,
                                fail="open" if limiter.fail_open else "closed",
                                error=limiter.last_error)
        return Health(status="ok" if limiter.reachable else "degraded", documents=documents,
                      chunks=chunks, rate_limit=limit)

    return app
