"""Logins against the local test registry, which `host-tests/with-test-acr.sh`
runs at `https://$ACR_TEST_HOST` behind a test CA (`$ACR_TEST_CA`, also
`SSL_CERT_FILE`), accepting the Entra token `$ACR_TEST_ENTRA_TOKEN`. The same
server answers Entra's token endpoint as login.microsoftonline.com for one
app registration (`$ACR_TEST_TENANT`, `$ACR_TEST_CLIENT_ID`,
`$ACR_TEST_CLIENT_SECRET`), selling that token. Skipped without it."""

import asyncio
import base64
import http.client
import json
import os
import secrets
import ssl
import time

import pytest

import acr_auth

pytestmark = pytest.mark.skipif(
    "ACR_TEST_HOST" not in os.environ,
    reason="needs the test registry: run under host-tests/with-test-acr.sh",
)

#: How long the test registry's refresh tokens live, in seconds.
REFRESH_TOKEN_LIFETIME = 3 * 60 * 60


def host() -> str:
    return os.environ["ACR_TEST_HOST"]


def app(secret: str | None = None) -> acr_auth.ClientSecret:
    """The test app registration, signing in with its client secret, or with
    `secret` instead."""
    return acr_auth.ClientSecret(
        os.environ["ACR_TEST_TENANT"],
        os.environ["ACR_TEST_CLIENT_ID"],
        os.environ["ACR_TEST_CLIENT_SECRET"] if secret is None else secret,
    )


def realistic_token() -> str:
    """A wrong Entra token of a real one's size (about 2 KB), random so that
    no server can know it."""
    claims = {"aud": "https://containerregistry.azure.net", "nonce": secrets.token_urlsafe(1500)}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{payload}.{secrets.token_urlsafe(256)}"


def assert_holds_no_part_of(error: acr_auth.LoginError, secret: str) -> None:
    """No 16 consecutive characters of `secret` in any text of `error`."""
    texts = [str(error), repr(error), error.correlation_id or ""] + [e.message for e in error.errors]
    for start in range(len(secret) - 15):
        assert not any(secret[start : start + 16] in text for text in texts), start


def pulls(access_token: acr_auth.AccessToken, repository: str) -> int:
    """The status of a manifest GET with the access token."""
    context = ssl.create_default_context(cafile=os.environ["ACR_TEST_CA"])
    connection = http.client.HTTPSConnection(host(), context=context, timeout=10)
    try:
        headers = {"authorization": f"Bearer {access_token.token}"}
        connection.request("GET", f"/v2/{repository}/manifests/latest", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def check_logged_in(result: acr_auth.LoginResult, before: float) -> None:
    """A login's result: the registry's refresh token, and an access token
    that pulls `team/app`."""
    assert result.login_server == host()
    assert result.credential.username == "00000000-0000-0000-0000-000000000000"
    assert abs(result.credential.expires_at - (before + REFRESH_TOKEN_LIFETIME)) < 60
    assert result.credential.audience == [host()]
    assert not result.credential.abac
    assert result.access_token is not None and result.access_token.audience == [host()]
    assert pulls(result.access_token, "team/app") == 200


def test_an_entra_token_logs_in_with_discovery_and_a_scope() -> None:
    before = time.time()
    options = acr_auth.LoginOptions(discover=True, repository_scopes=["repository:team/app:pull"])
    check_logged_in(acr_auth.login(host(), os.environ["ACR_TEST_ENTRA_TOKEN"], options), before)


def test_a_client_secret_logs_in_through_entra() -> None:
    before = time.time()
    options = acr_auth.LoginOptions(repository_scopes=["repository:team/app:pull"])
    check_logged_in(acr_auth.login(host(), app(), options), before)


def test_login_async_logs_in_with_a_client_secret() -> None:
    before = time.time()
    options = acr_auth.LoginOptions(discover=True, repository_scopes=["repository:team/app:pull"])
    check_logged_in(asyncio.run(acr_auth.login_async(host(), app(), options)), before)


def test_a_workload_identity_the_environment_names_logs_in(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`AZURE_FEDERATED_TOKEN_FILE` and its companions in `os.environ`: the
    token file is read (the test Entra takes the app's credential as its
    client assertion) and the login goes through Entra to the registry."""
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(os.environ["ACR_TEST_CLIENT_SECRET"] + "\n")
    for name in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", os.environ["ACR_TEST_TENANT"])
    monkeypatch.setenv("AZURE_CLIENT_ID", os.environ["ACR_TEST_CLIENT_ID"])
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    identity = acr_auth.read_identity_from_environment()
    assert isinstance(identity, acr_auth.FederatedToken)
    before = time.time()
    options = acr_auth.LoginOptions(repository_scopes=["repository:team/app:pull"])
    check_logged_in(acr_auth.login(host(), identity, options), before)


def test_a_wrong_entra_token_is_refused_without_a_trace_of_it() -> None:
    wrong = realistic_token()
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(host(), wrong)
    error = caught.value
    assert (error.kind, error.stage, error.status) == (acr_auth.LoginErrorKind.REFUSED, acr_auth.Stage.EXCHANGE, 400)
    assert [e.code for e in error.errors] == ["BAD_REQUEST"]
    assert_holds_no_part_of(error, wrong)


def test_a_wrong_client_secret_is_refused_by_entra_without_a_trace_of_it() -> None:
    wrong = f"Qx~8Q~{secrets.token_urlsafe(30)}"
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(host(), app(wrong))
    error = caught.value
    assert (error.kind, error.stage, error.status) == (acr_auth.LoginErrorKind.REFUSED, acr_auth.Stage.ENTRA, 401)
    assert "invalid_client" in error.message and "AADSTS7000215" in error.message, error.message
    assert error.correlation_id
    assert_holds_no_part_of(error, wrong)


def test_trust_comes_from_ssl_cert_file_or_cafile(monkeypatch: pytest.MonkeyPatch) -> None:
    """`SSL_CERT_FILE` names the test CA; without it the registry is not
    trusted (and the TLS failure is not retried), with `cafile` it is."""
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(host(), os.environ["ACR_TEST_ENTRA_TOKEN"])
    assert (caught.value.kind, caught.value.stage) == (acr_auth.LoginErrorKind.TLS, acr_auth.Stage.EXCHANGE)
    transport = acr_auth.Transport(cafile=os.environ["ACR_TEST_CA"])
    assert acr_auth.login(host(), os.environ["ACR_TEST_ENTRA_TOKEN"], transport=transport).login_server == host()
