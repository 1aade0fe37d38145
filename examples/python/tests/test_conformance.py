"""Every case of the shared case files of the pure functions through the
Python wrapper: the same expectations the Rust tests assert for the native
library and the component, one pytest case per case-file entry. The login
flow's cases are `test_login_flow.py`'s."""

import urllib.parse
from typing import Any

import pytest
from conformance import (
    case_file_names,
    cases,
    check,
    check_response_case,
    custom_cloud,
    each_case,
    identity,
    list_input,
    observe,
    optional_text_input,
    text_input,
)

import acr_auth

#: The least number of cases each file holds, as the Rust tests require: a
#: file that lost cases fails here.
MINIMUM_CASES = {
    "scope": 64,
    "cloud-environment": 21,
    "exchange-request": 22,
    "token-request": 19,
    "refresh-token": 43,
    "access-token": 7,
    "challenge": 30,
    "entra-token-request": 25,
    "entra-token-response": 17,
    "custom-cloud-record": 9,
    "login-flow": 38,
}


def test_every_case_file_is_run() -> None:
    assert case_file_names() == sorted(MINIMUM_CASES)


@pytest.mark.parametrize(("name", "minimum"), MINIMUM_CASES.items())
def test_case_file_keeps_its_cases(name: str, minimum: int) -> None:
    assert len(cases(name)) >= minimum, f"{name}.json lost cases"


def form(request: dict[str, Any]) -> list[tuple[str, str]]:
    """The decoded fields of an observed request's form body, in order."""
    return urllib.parse.parse_qsl(request["body"], keep_blank_values=True, strict_parsing=True)


@each_case("scope")
def test_resolve_scope(case: dict[str, Any]) -> None:
    environment = custom_cloud(case)
    observed = observe(lambda: acr_auth.resolve_scope(text_input(case, "reference"), environment))
    check(case, observed)
    if "expect" in case:
        again = observe(lambda: acr_auth.resolve_scope(observed["login_server"], environment))
        assert again == observed, "resolving the login server again changes it"


@each_case("cloud-environment")
def test_parse_cloud_environment(case: dict[str, Any]) -> None:
    check(case, observe(lambda: acr_auth.parse_cloud_environment(text_input(case, "json"))))


@each_case("exchange-request")
def test_build_exchange_request(case: dict[str, Any]) -> None:
    token, tenant = text_input(case, "token"), optional_text_input(case, "tenant")
    environment = custom_cloud(case)
    observed = observe(
        lambda: acr_auth.build_exchange_request(text_input(case, "reference"), token, tenant, environment)
    )
    check(case, observed)
    if "error" not in observed:
        service = observed["url"].removeprefix("https://").removesuffix("/oauth2/exchange")
        expected = [("grant_type", "access_token"), ("service", service), ("access_token", token)]
        assert form(observed) == expected + ([("tenant", tenant)] if tenant is not None else [])
        assert token not in observed["url"], "the token is in the URL"


@each_case("token-request")
def test_build_token_request(case: dict[str, Any]) -> None:
    token, scopes = text_input(case, "token"), list_input(case, "scopes")
    observed = observe(lambda: acr_auth.build_token_request(text_input(case, "reference"), token, scopes))
    check(case, observed)
    if "error" not in observed:
        fields = form(observed)
        service = fields[1][1]
        expected = [("grant_type", "refresh_token"), ("service", service)]
        assert fields == expected + [("scope", s) for s in scopes] + [("refresh_token", token)]
        assert observed["url"] == f"https://{service}/oauth2/token"


@each_case("refresh-token")
def test_parse_refresh_token(case: dict[str, Any]) -> None:
    check_response_case(case, acr_auth.parse_refresh_token, "password")


@each_case("access-token")
def test_parse_access_token(case: dict[str, Any]) -> None:
    check_response_case(case, acr_auth.parse_access_token, "token")


@each_case("challenge")
def test_parse_challenge(case: dict[str, Any]) -> None:
    check(case, observe(lambda: acr_auth.parse_challenge(text_input(case, "header"))))


@each_case("entra-token-request")
def test_build_entra_token_request(case: dict[str, Any]) -> None:
    environment = custom_cloud(case)
    observed = observe(
        lambda: acr_auth.build_entra_token_request(identity(case["identity"]), text_input(case, "scope"), environment)
    )
    check(case, observed)
    if "form" in case:
        assert form(observed) == [tuple(field) for field in case["form"]]


@each_case("entra-token-response")
def test_parse_entra_token_response(case: dict[str, Any]) -> None:
    body = text_input(case, "body").encode()
    observed = observe(lambda: acr_auth.parse_entra_token_response(case["status"], body, case["now"], []))
    check(case, observed)
    # In `expect_refusal`, `error` is the OAuth error.
    for key, want in case.get("expect_refusal", {}).items():
        observed_key = "error_code" if key == "error" else key
        assert observed_key in observed and observed[observed_key] == want, f"refusal field {key} of {observed}"


#: A tenant and an app's client ID, both GUIDs.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
#: A token that each builder takes.
TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJleHAiOjF9.c2ln"
#: The Entra scope of the built-in clouds' registries.
ACR_SCOPE = "https://containerregistry.azure.net/.default"


def first_request(flow: acr_auth.LoginFlow) -> acr_auth.Request:
    """The request a flow sends first; raises the error it failed with instead."""
    match flow.step(0, acr_auth.Start()):
        case acr_auth.Send(outgoing):
            return outgoing.request
        case acr_auth.Failed(error):
            raise error
        case step:
            raise AssertionError(f"the first step is {step}")


def through(entry: str, cloud: acr_auth.CloudEnvironment, case: dict[str, Any]) -> Any:
    """Calls the entry point `entry` with a custom cloud and the case's reference
    (or its login server as `resolved` names it)."""
    reference, resolved = case["reference"], case.get("resolved", {})
    if entry == "resolve_scope":
        return acr_auth.resolve_scope(reference, cloud)
    if entry == "build_exchange_request":
        return acr_auth.build_exchange_request(reference, TOKEN, None, cloud)
    if entry == "build_token_request":
        return acr_auth.build_token_request(reference, TOKEN, ["repository:team/app:pull"], cloud)
    if entry == "parse_challenge":
        header = f'Bearer realm="https://{reference}/oauth2/token",service="{reference}"'
        return acr_auth.parse_challenge(header, cloud)
    if entry == "build_entra_token_request":
        identity = acr_auth.ClientSecret(TENANT, CLIENT_ID, "client-secret", resolved.get("authority_host"))
        return acr_auth.build_entra_token_request(identity, resolved.get("scope", ACR_SCOPE), cloud)
    assert entry == "LoginFlow"
    with acr_auth.LoginFlow(reference, TOKEN, acr_auth.LoginOptions(custom_cloud=cloud)) as flow:
        return first_request(flow)


#: How each entry point refuses a custom cloud that does not check out.
REFUSED_AS = {
    "resolve_scope": "invalid-cloud",
    "build_exchange_request": "reference:invalid-cloud",
    "build_token_request": "reference:invalid-cloud",
    "parse_challenge": "invalid-cloud",
    "build_entra_token_request": "invalid-cloud",
    "LoginFlow": "invalid-input",
}


@pytest.mark.parametrize("entry", REFUSED_AS)
@each_case("custom-cloud-record")
def test_a_hand_built_cloud_record_is_checked_by_every_entry_point(case: dict[str, Any], entry: str) -> None:
    cloud = acr_auth.CloudEnvironment(**case["record"])
    observed = observe(lambda: through(entry, cloud, case))
    if "error" in case:
        assert observed.get("error") == REFUSED_AS[entry], observed
        assert case["field"] in observed["message"], observed["message"]
        return
    login_server = case["resolved"]["login_server"]
    expected: Any = {
        "resolve_scope": case["resolved"],
        "build_exchange_request": f"https://{login_server}/oauth2/exchange",
        "build_token_request": f"https://{login_server}/oauth2/token",
        "parse_challenge": login_server,
        "build_entra_token_request": f"{case['resolved']['authority_host']}{TENANT}/oauth2/v2.0/token",
        "LoginFlow": f"https://{login_server}/oauth2/exchange",
    }[entry]
    key = {"resolve_scope": None, "parse_challenge": "login_server"}.get(entry, "url")
    assert (observed if key is None else observed[key]) == expected, observed
