"""The FastAPI application: thin routes over one Factdesk instance."""

from __future__ import annotations

from fastapi import FastAPI

from service import __version__
from service.api.errors import install_error_handlers
from service.api.routes import ask, documents
from service.api.schemas import ErrorOut, Health
from service.desk import Factdesk

ERROR_RESPONSES = {
    400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


def create_app(desk: Factdesk | None = None) -> FastAPI:
    app = FastAPI(
        title="factdesk",
        version=__version__,
        description="Ask factual questions of stored news articles; every citation is an exact "
        "character span of a stored article (`text[start:end] == quote`).",
        responses=ERROR_RESPONSES,  # type: ignore[arg-type]
    )
    app.state.desk = desk or Factdesk()
    install_error_handlers(app)
    app.include_router(documents.router)
    app.include_router(ask.router)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        documents, chunks = app.state.desk.counts()
        return Health(status="ok", documents=documents, chunks=chunks)

    return app
