"""What the wrapper adds around the `entra` functions of the `client`
component: identity classes, secrets kept out of `repr()`, and a linker
under which no call reaches the host. The case files cover the answers."""

import pytest
from wasmtime import Store, WasmtimeError
from wasmtime.component import Record

import acr_auth
from acr_auth._component import _runtime

#: The Entra scope of the public cloud's registries.
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: A tenant and an app's client ID, both GUIDs.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def test_credentials_and_tokens_stay_out_of_repr() -> None:
    values = [
        (acr_auth.FederatedToken(TENANT, CLIENT_ID, "federated-assertion-7d41"), "federated-assertion-7d41"),
        (acr_auth.ClientSecret(TENANT, CLIENT_ID, "client-secret-value-7d41"), "client-secret-value-7d41"),
        (acr_auth.EntraToken("entra-access-token-7d41", 1767225599), "entra-access-token-7d41"),
    ]
    for value, secret in values:
        assert secret not in repr(value) and secret not in str(value)
    request = acr_auth.build_entra_token_request(values[1][0], ACR_SCOPE)
    assert values[1][1].encode() in request.body
    assert values[1][1] not in repr(request)


def test_each_identity_names_its_wit_case() -> None:
    assert acr_auth.FederatedToken(TENANT, CLIENT_ID, "x").kind is acr_auth.IdentityKind.FEDERATED_TOKEN
    assert acr_auth.ClientSecret(TENANT, CLIENT_ID, "x").kind is acr_auth.IdentityKind.CLIENT_SECRET
    assert acr_auth.ManagedIdentity().kind is acr_auth.IdentityKind.MANAGED_IDENTITY
    assert acr_auth.ManagedIdentity().id is None
    assert acr_auth.ManagedIdentity(object_id=TENANT).id == (acr_auth.ManagedIdentityIdKind.OBJECT_ID, TENANT)


def test_a_managed_identity_takes_at_most_one_id() -> None:
    with pytest.raises(ValueError, match="at most one"):
        acr_auth.ManagedIdentity(client_id=CLIENT_ID, resource_id="/subscriptions/x")


def test_anything_but_an_identity_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not dict"):
        acr_auth.build_entra_token_request({"client_id": CLIENT_ID}, ACR_SCOPE)  # type: ignore[arg-type]


def test_the_client_components_imports_trap() -> None:
    """The `client` component's `login` is the one export that calls an
    import; under the wrapper's linker it traps instead of reaching the
    network."""
    runtime = _runtime("client")
    store = Store(runtime.engine)
    instance = runtime.linker.instantiate(store, runtime.component)
    login = instance.get_func(store, runtime.export("login", "login"))
    assert login is not None
    options = Record()
    for name, value in {
        "tenant": None,
        "scopes": [],
        "discover": True,
        "custom-cloud": None,
        "connect-timeout-ms": None,
        "first-byte-timeout-ms": None,
        "between-bytes-timeout-ms": None,
    }.items():
        setattr(options, name, value)
    with pytest.raises(WasmtimeError, match="unknown import"):
        login(store, "myregistry.azurecr.io", "entra-token", options)
