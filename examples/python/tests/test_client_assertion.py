"""`client_assertion_claims`: the claims a service principal's certificate
signs, written by the component so that every host asks Entra alike. The
expected JSON is written out by hand from RFC 7523 section 3 and Microsoft's
certificate credential claims. No network."""

import json

import pytest

import acr_auth

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"


def test_the_claims_name_the_token_endpoint_and_last_ten_minutes() -> None:
    claims = acr_auth.client_assertion_claims(TENANT, CLIENT_ID, 1767222000, ID)
    assert claims == (
        f'{{"aud":"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token","iss":"{CLIENT_ID}",'
        f'"sub":"{CLIENT_ID}","jti":"{ID}","iat":1767222000,"nbf":1767222000,"exp":1767222600}}'
    )
    us = json.loads(
        acr_auth.client_assertion_claims(
            "contoso.onmicrosoft.us", CLIENT_ID, 0, ID, authority_host="https://login.microsoftonline.us/"
        )
    )
    assert us["aud"] == "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"
    assert us["exp"] == 600


@pytest.mark.parametrize(
    ("tenant", "client_id", "assertion_id", "authority", "kind"),
    [
        (TENANT, CLIENT_ID, ID, "https://login.example.com/", "UNKNOWN_AUTHORITY"),
        ("../other", CLIENT_ID, ID, None, "INVALID_TENANT"),
        (TENANT, "not-a-guid", ID, None, "INVALID_CLIENT_ID"),
        (TENANT, CLIENT_ID, 'x","exp":9', None, "INVALID_ASSERTION_ID"),
    ],
)
def test_what_a_token_request_refuses_is_refused_with_its_kind(
    tenant: str, client_id: str, assertion_id: str, authority: str | None, kind: str
) -> None:
    with pytest.raises(acr_auth.EntraRequestError) as refused:
        acr_auth.client_assertion_claims(tenant, client_id, 0, assertion_id, authority_host=authority)
    assert refused.value.kind == acr_auth.EntraRequestErrorKind[kind]
