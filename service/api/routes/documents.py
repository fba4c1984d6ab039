from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from service.api.auth import GUARDED_RESPONSES, RATE_LIMITED_RESPONSES, READ, WRITE
from service.api.deps import AppSettingsDep, DeskDep
from service.api.schemas import (
    BatchItemError,
    BatchItemOut,
    DocumentBatchIn,
    DocumentBatchOut,
    DocumentIn,
    DocumentList,
    DocumentOut,
    DocumentSummary,
    IngestOut,
)
from service.errors import FactdeskError, InvalidInput, UploadTooLarge
from service.ingest import ArticleIn
from service.observability.metrics import count_ingest
from service.text_rules import TEXT_PATTERN

router = APIRouter(prefix="/v1/documents", tags=["documents"],
                   responses={**GUARDED_RESPONSES, **RATE_LIMITED_RESPONSES})
TEXT_FIELD = {"pattern": TEXT_PATTERN}  # service/text_rules.py


@router.post("", response_model=IngestOut, status_code=200, dependencies=[WRITE])
def add_document(body: DocumentIn, desk: DeskDep) -> IngestOut:
    result = desk.ingest(
        body.text, body.format, document_id=body.id, title=body.title, url=body.url,
        published=body.published, source=body.source, author=body.author,
    )
    count_ingest(result)
    return IngestOut.of(result)


@router.post("/batch", response_model=DocumentBatchOut, dependencies=[WRITE])
def add_documents(body: DocumentBatchIn, desk: DeskDep, settings: AppSettingsDep
                  ) -> DocumentBatchOut:
    """Several articles in one request, stored a few Chroma calls for all: each article's
    result in order (created, updated, unchanged, or an error with its code). An article that
    fails is not stored and the others are; a store failure fails the request and leaves each
    article as it was or whole."""
    if not body.documents:
        raise InvalidInput("documents is empty; give at least one article")
    if len(body.documents) > settings.max_batch_documents:
        raise InvalidInput(f"{len(body.documents)} documents in one batch; the limit is "
                           f"{settings.max_batch_documents}")
    outcomes = desk.ingest_many([
        ArticleIn(d.text, d.format, d.id, None, d.title, d.url, d.published, d.source,
                  d.author) for d in body.documents])
    results = []
    for n, (given, outcome) in enumerate(zip(body.documents, outcomes)):
        if isinstance(outcome, FactdeskError):
            results.append(BatchItemOut(index=n, id=given.id, status="error",
                                        error=BatchItemError(code=outcome.code,
                                                             message=outcome.message)))
            continue
        count_ingest(outcome)
        results.append(BatchItemOut(index=n, id=outcome.id, status=outcome.status.value,
                                    title=outcome.title, chunks=outcome.chunks))
    tally = {s: sum(r.status == s for r in results)
             for s in ("created", "updated", "unchanged", "error")}
    return DocumentBatchOut(results=results, created=tally["created"], updated=tally["updated"],
                            unchanged=tally["unchanged"], errors=tally["error"])


@router.post("/upload", response_model=IngestOut, dependencies=[WRITE])
def upload_document(
    desk: DeskDep,
    settings: AppSettingsDep,
    file: Annotated[UploadFile, File(
        description="A .txt, .md or .html article (UTF-8), or a PDF with a text layer.")],
    id: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    title: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    url: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    published: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    source: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    author: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
    format: Annotated[str | None, Form(json_schema_extra=TEXT_FIELD)] = None,
) -> IngestOut:
    raw = file.file.read(settings.max_upload_bytes + 1)
    if len(raw) > settings.max_upload_bytes:
        raise UploadTooLarge(f"the file is larger than the upload limit of "
                             f"{settings.max_upload_bytes} bytes")
    result = desk.ingest(
        raw, format or None, document_id=id or None, filename=file.filename, title=title,
        url=url, published=published, source=source, author=author,
    )
    count_ingest(result)
    return IngestOut.of(result)


@router.get("", response_model=DocumentList, dependencies=[READ])
def list_documents(desk: DeskDep) -> DocumentList:
    documents = [DocumentSummary.of(a) for a in desk.list()]
    return DocumentList(documents=documents, total=len(documents))


@router.get("/{document_id:path}", response_model=DocumentOut, dependencies=[READ])
def get_document(document_id: str, desk: DeskDep) -> DocumentOut:
    return DocumentOut.of(desk.get(document_id))


@router.delete("/{document_id:path}", dependencies=[WRITE])
def delete_document(document_id: str, desk: DeskDep) -> dict[str, str]:
    desk.delete(document_id)
    return {"id": document_id, "status": "deleted"}
