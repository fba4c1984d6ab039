from typing import Annotated

from fastapi import Depends, Request

from service.desk import Factdesk


def get_desk(request: Request) -> Factdesk:
    return request.app.state.desk  # type: ignore[no-any-return]


DeskDep = Annotated[Factdesk, Depends(get_desk)]
