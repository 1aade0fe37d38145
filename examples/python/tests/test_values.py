"""What the wrapper adds around the component's values: identity and event
classes, secrets kept out of `repr()`, and a component that imports nothing.
The case files cover the answers."""

import dataclasses

import pytest
from wasmtime import Engine
from wasmtime.component import Component

import acr_auth

#: The Entra scope of the public cloud's registries.
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: A tenant and an app's client ID, both GUIDs.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def test_the_component_imports_nothing(pure_component: tuple[Engine, Component]) -> None:
    engine, component = pure_component
    assert component.type.imports(engine) == {}


def test_secrets_stay_out_of_repr() -> None:
    """Every value that holds a secret, with the secret it holds."""
    body = b"grant_type=access_token&access_token=entra-access-token-7d41"
    values = [
        (acr_auth.FederatedToken(TENANT, CLIENT_ID, "federated-assertion-7d41"), "federated-assertion-7d41"),
        (acr_auth.ClientSecret(TENANT, CLIENT_ID, "client-secret-value-7d41"), "client-secret-value-7d41"),
        (acr_auth.AppService("http://localhost:8081/msi/token", "identity-header-7d41"), "identity-header-7d41"),
        (acr_auth.EntraToken("entra-access-token-7d41", 1767225599), "entra-access-token-7d41"),
        (acr_auth.Credential("0", "refresh-token-7d41", 1, None, [], None, False), "refresh-token-7d41"),
        (acr_auth.AccessToken("access-token-7d41", 1, None, []), "access-token-7d41"),
        (acr_auth.Header("authorization", "Basic arc-key-7d41"), "arc-key-7d41"),
        (acr_auth.Request("POST", "https://r.azurecr.io/oauth2/exchange", [], body), "entra-access-token-7d41"),
        (acr_auth.Response(200, [], b'{"refresh_token":"refresh-token-7d41"}'), "refresh-token-7d41"),
        (acr_auth.FileRead("arc-key-7d41"), "arc-key-7d41"),
    ]
    for value, secret in values:
        assert secret not in repr(value) and secret not in str(value), value
    identity = acr_auth.ManagedIdentity(acr_auth.ClientId(CLIENT_ID), values[2][0])  # type: ignore[arg-type]
    assert "identity-header-7d41" not in repr(identity)
    flow = acr_auth.LoginFlow("myregistry.azurecr.io", values[1][0])  # type: ignore[arg-type]
    assert "client-secret-value-7d41" not in repr(flow) and "client-secret-value-7d41" not in repr(vars(flow))
    flow.close()


def test_a_request_carries_its_secret_where_repr_hides_it() -> None:
    request = acr_auth.build_entra_token_request(
        acr_auth.ManagedIdentity(source=acr_auth.AppService("http://localhost:8081/msi/token", "identity-header-7d41")),
        ACR_SCOPE,
    )
    assert acr_auth.Header("x-identity-header", "identity-header-7d41") in request.headers
    assert "identity-header-7d41" not in repr(request)


def test_each_case_class_names_its_wit_case() -> None:
    assert acr_auth.FederatedToken(TENANT, CLIENT_ID, "x").kind is acr_auth.IdentityKind.FEDERATED_TOKEN
    assert acr_auth.ManagedIdentity().kind is acr_auth.IdentityKind.MANAGED_IDENTITY
    assert acr_auth.ManagedIdentity() == acr_auth.ManagedIdentity(None, acr_auth.Imds())
    assert acr_auth.ResourceId("/subscriptions/x").kind is acr_auth.ManagedIdentityIdKind.RESOURCE_ID
    assert (
        acr_auth.CloudShell("http://localhost:50342/oauth2/token").kind
        is acr_auth.ManagedIdentitySourceKind.CLOUD_SHELL
    )
    assert acr_auth.Wait(1).kind is acr_auth.StepKind.WAIT
    assert acr_auth.Woke().kind is acr_auth.EventKind.WOKE


def test_the_case_classes_work_with_match() -> None:
    match acr_auth.ManagedIdentity(acr_auth.ObjectId(TENANT), acr_auth.AzureArc("http://localhost:40342/x")):
        case acr_auth.ManagedIdentity(acr_auth.ObjectId(named), acr_auth.AzureArc(endpoint)):
            assert (named, endpoint) == (TENANT, "http://localhost:40342/x")
        case other:
            pytest.fail(f"no match for {other}")


def test_every_managed_identity_source_reaches_the_component() -> None:
    """Each source's request goes to its own endpoint, as the Azure SDKs send it."""
    arc = "http://localhost:40342/metadata/identity/oauth2/token"
    sources: list[tuple[acr_auth.ManagedIdentitySource, str]] = [
        (acr_auth.Imds(), "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&"),
        (
            acr_auth.AppService("http://127.0.0.1:8081/msi/token", "h"),
            "http://127.0.0.1:8081/msi/token?api-version=2019-08-01&",
        ),
        (acr_auth.AzureArc(arc), f"{arc}?api-version=2020-06-01&"),
        (acr_auth.CloudShell("http://localhost:50342/oauth2/token"), "http://localhost:50342/oauth2/token"),
    ]
    for source, url in sources:
        request = acr_auth.build_entra_token_request(acr_auth.ManagedIdentity(source=source), ACR_SCOPE)
        assert request.url.startswith(url), (source, request.url)


def test_arc_and_cloud_shell_serve_only_the_system_assigned_identity() -> None:
    for source in (acr_auth.AzureArc("http://localhost:40342/x"), acr_auth.CloudShell("http://localhost:50342/x")):
        with pytest.raises(acr_auth.EntraRequestError) as caught:
            acr_auth.build_entra_token_request(
                acr_auth.ManagedIdentity(acr_auth.ClientId(CLIENT_ID), source), ACR_SCOPE
            )
        assert caught.value.kind is acr_auth.EntraRequestErrorKind.USER_ASSIGNED_UNSUPPORTED


@pytest.mark.parametrize(
    "identity",
    [
        {"client_id": CLIENT_ID},
        acr_auth.ManagedIdentity(CLIENT_ID),  # type: ignore[arg-type]
        acr_auth.ManagedIdentity(source="http://localhost:8081/msi/token"),  # type: ignore[arg-type]
    ],
    ids=["not an identity", "an ID that is a str", "a source that is a str"],
)
def test_anything_but_an_identity_is_a_type_error(identity: object) -> None:
    with pytest.raises(TypeError):
        acr_auth.build_entra_token_request(identity, ACR_SCOPE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        acr_auth.LoginFlow("myregistry.azurecr.io", identity)  # type: ignore[arg-type]


def test_anything_but_an_event_is_a_type_error() -> None:
    with acr_auth.LoginFlow("myregistry.azurecr.io", "eyJ0eXAi.e30.c2ln") as flow, pytest.raises(TypeError):
        flow.step(0, "start")  # type: ignore[arg-type]


def test_login_options_default_as_the_wit_says() -> None:
    """No options is the WIT's defaults: the default timeouts go out with the
    first request."""
    with acr_auth.LoginFlow("myregistry.azurecr.io", "eyJ0eXAi.e30.c2ln") as flow:
        step = flow.step(0, acr_auth.Start())
    assert isinstance(step, acr_auth.Send)
    timeouts = dataclasses.replace(step.outgoing, request=None)  # type: ignore[arg-type]
    assert timeouts == acr_auth.Outgoing(None, 10_000, 30_000, 30_000, 65536)  # type: ignore[arg-type]
    options = acr_auth.LoginOptions(connect_timeout_ms=1500, retry=acr_auth.RetryPolicy(max_retries=0))
    with acr_auth.LoginFlow("myregistry.azurecr.io", "eyJ0eXAi.e30.c2ln", options) as flow:
        step = flow.step(0, acr_auth.Start())
        assert isinstance(step, acr_auth.Send) and step.outgoing.connect_timeout_ms == 1500
        refused = acr_auth.Responded(acr_auth.Response(429, [acr_auth.Header("retry-after", "1")], b""))
        assert isinstance(flow.step(0, refused), acr_auth.Failed), "no retry with max_retries 0"
