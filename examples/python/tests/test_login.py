"""Logins against the local test registry, which `host-tests/with-test-acr.sh`
runs at `https://$ACR_TEST_HOST` behind a test CA (`$ACR_TEST_CA`), accepting
the Entra token `$ACR_TEST_ENTRA_TOKEN`. The same server answers Entra's token
endpoint as login.microsoftonline.com for one app registration
(`$ACR_TEST_TENANT`, `$ACR_TEST_CLIENT_ID`, `$ACR_TEST_CLIENT_SECRET`),
selling that token. Skipped without it."""

import http.client
import os
import secrets
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pytest
from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Record, Variant

import acr_auth

pytestmark = pytest.mark.skipif(
    "ACR_TEST_HOST" not in os.environ,
    reason="needs the test registry: run under host-tests/with-test-acr.sh",
)


@dataclass(frozen=True)
class Registry:
    """Where the test registry listens, the token it accepts and the TLS
    context that trusts its CA."""

    host: str
    entra_token: str
    ssl_context: ssl.SSLContext


@pytest.fixture
def registry() -> Registry:
    """The test registry of the environment `with-test-acr.sh` sets up."""
    return Registry(
        host=os.environ["ACR_TEST_HOST"],
        entra_token=os.environ["ACR_TEST_ENTRA_TOKEN"],
        ssl_context=ssl.create_default_context(cafile=os.environ["ACR_TEST_CA"]),
    )


def send(request: acr_auth.Request, ssl_context: ssl.SSLContext) -> tuple[int, bytes]:
    """Sends an HTTPS request the component built, as given, and returns the
    status and body of the answer; `http.client` follows no redirect."""
    url = urllib.parse.urlsplit(request.url)
    assert url.scheme == "https"
    connection = http.client.HTTPSConnection(url.netloc, context=ssl_context, timeout=10)
    try:
        target = url.path + (f"?{url.query}" if url.query else "")
        headers = {header.name: header.value for header in request.headers}
        connection.request(request.method, target, body=request.body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def app_identity(secret: str | None = None) -> acr_auth.ClientSecret:
    """The test app registration, signing in with its client secret, or with
    `secret` instead."""
    return acr_auth.ClientSecret(
        os.environ["ACR_TEST_TENANT"],
        os.environ["ACR_TEST_CLIENT_ID"],
        os.environ["ACR_TEST_CLIENT_SECRET"] if secret is None else secret,
    )


def test_an_app_registration_gets_the_entra_token_the_registry_takes(registry: Registry) -> None:
    scope = acr_auth.resolve_scope(registry.host).scope
    now = int(time.time())
    request = acr_auth.build_entra_token_request(app_identity(), scope)
    token = acr_auth.parse_entra_token_response(*send(request, registry.ssl_context), now)
    assert token.access_token == registry.entra_token
    assert token.expires_at == now + 3599, "the test Entra sends expires_in 3599"
    result = acr_auth.login(registry.host, token.access_token, ssl_context=registry.ssl_context)
    assert result.credential.expires_at > now


def test_a_wrong_client_secret_is_refused_with_entras_code_never_echoed(registry: Registry) -> None:
    wrong = f"wrong-client-secret-{secrets.token_hex(8)}"
    request = acr_auth.build_entra_token_request(app_identity(wrong), acr_auth.resolve_scope(registry.host).scope)
    with pytest.raises(acr_auth.EntraResponseError) as caught:
        acr_auth.parse_entra_token_response(*send(request, registry.ssl_context), int(time.time()))
    refusal = caught.value.refusal
    assert refusal is not None
    assert (refusal.status, refusal.error, refusal.code) == (401, "invalid_client", 7000215)
    assert refusal.correlation_id
    assert wrong not in repr(caught.value) and wrong not in str(caught.value)


def test_login_yields_a_refresh_token_and_a_working_access_token(registry: Registry) -> None:
    before = time.time()
    result = acr_auth.login(
        registry.host,
        registry.entra_token,
        scopes=["repository:team/app:pull"],
        discover=True,
        ssl_context=registry.ssl_context,
    )
    assert result.login_server == registry.host
    assert result.credential.username == "00000000-0000-0000-0000-000000000000"
    assert abs(result.credential.expires_at - (before + 3 * 60 * 60)) < 60, "the refresh token lives 3 hours"
    assert result.access_token is not None
    assert result.access_token.login_server == registry.host
    assert result.access_token.expires_at > before
    connection = http.client.HTTPSConnection(registry.host, context=registry.ssl_context, timeout=10)
    try:
        connection.request(
            "GET", "/v2/team/app/manifests/latest", headers={"authorization": f"Bearer {result.access_token.token}"}
        )
        assert connection.getresponse().status == 200, "the access token pulls team/app"
    finally:
        connection.close()


def test_a_wrong_token_is_refused_without_echoing_it(registry: Registry) -> None:
    wrong = f"wrong-entra-token-{secrets.token_hex(8)}"
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(registry.host, wrong, ssl_context=registry.ssl_context)
    error = caught.value
    assert (error.kind, error.stage, error.status) == (acr_auth.LoginErrorKind.REFUSED, acr_auth.Stage.EXCHANGE, 400)
    assert error.errors and error.errors[0].code == "BAD_REQUEST"
    assert wrong not in repr(error) and wrong not in str(error)


def test_an_untrusted_certificate_fails_closed(registry: Registry) -> None:
    trusts_nothing = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(registry.host, registry.entra_token, ssl_context=trusts_nothing)
    assert (caught.value.kind, caught.value.stage) == (acr_auth.LoginErrorKind.TLS, acr_auth.Stage.EXCHANGE)


def test_the_client_component_on_wasmtime_py_cannot_trust_the_test_ca(
    client_component: tuple[Engine, Component], registry: Registry
) -> None:
    """Why `login` is Python's: wasmtime-py links the `client` component's
    `wasi:http` imports to Wasmtime's built-in client, which reaches the
    registry but trusts only the roots compiled into Wasmtime, whatever
    `SSL_CERT_FILE` says. If this starts to fail, that route may have opened."""
    engine, component = client_component
    linker = Linker(engine)
    linker.add_wasip2()
    linker.add_wasi_http()
    store = Store(engine)
    store.set_wasi(WasiConfig())
    store.set_wasi_http()
    instance = linker.instantiate(store, component)
    index = component.get_export_index("login", component.get_export_index("acr:auth/login@0.1.0"))
    assert index is not None
    options = Record()
    fields: dict[str, Any] = {
        "tenant": None,
        "scopes": [],
        "discover": True,
        "custom-cloud": None,
        "connect-timeout-ms": 5000,
        "first-byte-timeout-ms": 5000,
        "between-bytes-timeout-ms": 5000,
    }
    for name, value in fields.items():
        setattr(options, name, value)
    func = instance.get_func(store, index)
    assert func is not None
    result = func(store, registry.host, registry.entra_token, options)
    assert isinstance(result, Variant) and result.tag == "err", "the built-in wasi:http now trusts the test CA"
    error: Any = result.payload
    assert (error.kind, error.stage) == ("tls", "discovery")
