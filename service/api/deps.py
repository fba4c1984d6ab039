from typing import Annotated

from fastapi import Depends, Request

from service.config import Settings
from service.desk import Factdesk
from service.observability.metrics import Metrics


def get_desk(request: Request) -> Factdesk:
    return request.app.state.desk  # type: ignore[no-any-return]


DeskDep = Annotated[Factdesk, Depends(get_desk)]


def get_app_settings(request: Request) -> Settings:
    """The HTTP layer's settings (keys, limits); the desk's unless the app was given others."""
    return request.app.state.settings  # type: ignore[no-any-return]


AppSettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
