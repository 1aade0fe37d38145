"""Every case of `tests/cases/*.json` through the Python wrapper: the
same expectations the Rust tests assert for the native library and the
component, one pytest case per case-file entry."""

import urllib.parse
from typing import Any

import pytest
from conformance import (
    CASES_DIR,
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
    "scope": 60,
    "cloud-environment": 19,
    "exchange-request": 22,
    "token-request": 19,
    "refresh-token": 38,
    "access-token": 7,
    "challenge": 30,
    "entra-token-request": 25,
    "entra-token-response": 17,
}


def test_every_case_file_is_run() -> None:
    assert sorted(path.stem for path in CASES_DIR.glob("*.json")) == sorted(MINIMUM_CASES)


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
        lambda: acr_auth.build_entra_token_request(identity(case), text_input(case, "scope"), environment)
    )
    check(case, observed)
    if "form" in case:
        assert form(observed) == [tuple(field) for field in case["form"]]


@each_case("entra-token-response")
def test_parse_entra_token_response(case: dict[str, Any]) -> None:
    body = text_input(case, "body").encode()
    observed = observe(lambda: acr_auth.parse_entra_token_response(case["status"], body, case["now"]))
    check(case, observed)
    # In `expect_refusal`, `error` is the OAuth error.
    for key, want in case.get("expect_refusal", {}).items():
        observed_key = "error_code" if key == "error" else key
        assert observed_key in observed and observed[observed_key] == want, f"refusal field {key} of {observed}"
