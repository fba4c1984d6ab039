from fastapi import APIRouter

from service.api.deps import DeskDep
from service.api.schemas import AskIn, AskOut

router = APIRouter(prefix="/v1", tags=["questions"])


@router.post("/ask", response_model=AskOut)
def ask(body: AskIn, desk: DeskDep) -> AskOut:
    return AskOut.of(desk.ask(body.question, top_k=body.top_k, document_ids=body.document_ids))
