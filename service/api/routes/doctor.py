from dataclasses import asdict

from fastapi import APIRouter

from service.api.auth import GUARDED_RESPONSES, RATE_LIMITED_RESPONSES, READ
from service.api.deps import DeskDep
from service.api.schemas import DoctorOut

router = APIRouter(prefix="/v1", tags=["operations"], dependencies=[READ],
                   responses={**GUARDED_RESPONSES, **RATE_LIMITED_RESPONSES})


@router.get("/doctor", response_model=DoctorOut)
def doctor(desk: DeskDep) -> DoctorOut:
    """What this running service sees against the store: the store's own consistency, and
    whether the service's catalog and lexical index match it (what `factdesk doctor` prints
    for a running service). It repairs nothing."""
    report = desk.doctor(repair=False)
    return DoctorOut(**{k: v for k, v in asdict(report).items() if k != "repaired"},
                     problems=report.problems)
