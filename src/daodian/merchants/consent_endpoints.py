"""A consumer's consents to merchants (PIPL Art. 23), over the API: list, grant, withdraw. Here rather than in
accounts because granting one checks that the merchant exists."""


from fastapi import APIRouter, Query, Response, status

from daodian.accounts import consent
from daodian.accounts.consent import ConsentScope, MerchantConsent
from daodian.accounts.dependencies import LoggedIn
from daodian.accounts.schemas import ConsentRead
from daodian.kit.api.http import DbSession, ObjectId, access
from daodian.kit.api.scopes import declare
from daodian.merchants import service as merchants

router = APIRouter(tags=["privacy"])
declare(router, "member:read", "member:write")  # the scopes apps' tokens need here (kit.api.scopes)


def _consent_read(row: MerchantConsent) -> ConsentRead:
    return ConsentRead(id=row.id, merchant_id=row.merchant_id, scope=row.scope, granted_at=row.granted_at,
                       withdrawn_at=row.withdrawn_at, source=row.source)


@router.get("/me/consents", response_model=list[ConsentRead], openapi_extra=access("authenticated"))
def my_consents(principal: LoggedIn, session: DbSession) -> list[ConsentRead]:
    """Every consent given, live and withdrawn, newest first: when, to whom and for what."""
    return [_consent_read(c) for c in consent.consents_of(session, principal.user_id)]


@router.post("/me/consents/{merchant_id}", response_model=ConsentRead, status_code=status.HTTP_201_CREATED,
             openapi_extra=access("authenticated"),
             responses={200: {"model": ConsentRead, "description": "Granted before: the standing consent."}})
def grant_consent(merchant_id: ObjectId, principal: LoggedIn, session: DbSession, response: Response,
                  scope: ConsentScope = Query(ConsentScope.IDENTITY)) -> ConsentRead:
    """Let this merchant see who I am (name, phone, purchase profile) in its member list. Idempotent."""
    merchant = merchants.get_merchant(session, merchant_id)
    row, created = consent.grant(session, principal, merchant.id, scope=scope, source="api")
    if not created:
        response.status_code = status.HTTP_200_OK
    return _consent_read(row)


@router.delete("/me/consents/{merchant_id}", status_code=status.HTTP_204_NO_CONTENT,
               openapi_extra=access("authenticated"))
def withdraw_consent(merchant_id: ObjectId, principal: LoggedIn, session: DbSession,
                     scope: ConsentScope = Query(ConsentScope.IDENTITY)) -> Response:
    """Withdraw it: from now on the merchant sees me only inside counts. Idempotent."""
    consent.withdraw(session, principal.user_id, merchant_id, scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
