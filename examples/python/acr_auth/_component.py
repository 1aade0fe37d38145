"""The pure functions, each a call into the `pure` component, and the
conversions between this package's types and the component's values.

The component is compiled once per process, on first use. Every call gets a
fresh `Store` and instance, limited to 16 MiB of linear memory, as the Rust
CLI does: one bad input can never leave state (or a token) behind for the
next call, a trap poisons nothing, and calls from several threads never share
a store. A `LoginFlow` keeps one store for its whole login (`_flow.py`).

The `pure` component imports nothing, so it is instantiated with an empty
linker: no call can reach the network, a clock, a file or anything else of
the host.

How wasmtime-py maps WIT values, which the conversions below rely on:
records are `wasmtime.component.Record` objects with the WIT (kebab-case)
field names as attributes; enums are their case names as `str`; options are
the value or `None`; `list<u8>` is `bytes`, other lists are `list`s. A
`result` or `variant` is a `Variant(tag, payload)` when two of its cases
would map to the same Python class (two records, two strings, two empty
cases), and the bare payload otherwise: so `result<record, record>` gives
`Variant("ok" | "err", record)`, while `result<record, variant>` gives the
record, or the error variant's own `Variant`; and `credentials`
(`entra-token(string)` or `identity(identity)`) is passed as the bare `str`
or the identity's `Variant`.
"""

import dataclasses
import enum
import functools
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from wasmtime import Engine, Store
from wasmtime.component import Component, ExportIndex, Instance, Linker, Record, Variant

from ._types import (
    AccessToken,
    AcrAuthError,
    AcrError,
    AppService,
    AzureArc,
    Challenge,
    ChallengeError,
    ClientId,
    ClientSecret,
    CloudEnvironment,
    CloudEnvironmentError,
    CloudShell,
    Credential,
    EntraRefusal,
    EntraRequestError,
    EntraResponseError,
    EntraResponseErrorKind,
    EntraToken,
    EnvironmentIdentity,
    FederatedToken,
    Identity,
    IdentityEnvironmentError,
    Imds,
    InputErrorKind,
    MalformedKind,
    ManagedIdentity,
    ObjectId,
    ReferenceErrorKind,
    RegistryReferenceError,
    Request,
    RequestError,
    RequestErrorKind,
    ResolvedScope,
    ResourceId,
    ResponseError,
    ResponseErrorKind,
)

#: The `pure` component file: the one the package carries as package data,
#: unless `ACR_AUTH_COMPONENT` names another file or `ACR_AUTH_COMPONENTS_DIR`
#: another directory (run from the source tree, where `cargo xtask build`
#: writes it to `target/components/`).
DEFAULT_COMPONENT = (
    Path(os.environ["ACR_AUTH_COMPONENTS_DIR"]) / "acr_auth.wasm"
    if os.environ.get("ACR_AUTH_COMPONENTS_DIR")
    else Path(__file__).resolve().with_name("acr_auth.wasm")
)

#: The linear memory one store may use: far more than the documented input
#: caps need, far less than a runaway could take.
MEMORY_LIMIT = 16 * 1024 * 1024

#: The WIT package's interfaces are exported as `acr:auth/<name>@<version>`.
_PACKAGE = "acr:auth/{}@0.1.0"

T = TypeVar("T")


class _Runtime:
    """The compiled component, an empty linker (it imports nothing) and the
    export indices looked up so far."""

    def __init__(self, path: Path) -> None:
        self.engine = Engine()
        self.component = Component.from_file(self.engine, path)
        self.linker = Linker(self.engine)
        self._exports: dict[tuple[str, str], ExportIndex] = {}

    def instantiate(self) -> tuple[Store, Instance]:
        """A fresh store, limited to `MEMORY_LIMIT`, and an instance in it."""
        store = Store(self.engine)
        store.set_limits(memory_size=MEMORY_LIMIT)
        return store, self.linker.instantiate(store, self.component)

    def func(self, store: Store, instance: Instance, interface: str, function: str) -> Any:
        """The function `interface.function` of `instance`, its index found once."""
        key = (interface, function)
        if key not in self._exports:
            exported = self.component.get_export_index(_PACKAGE.format(interface))
            index = self.component.get_export_index(function, exported)
            if index is None:
                raise LookupError(f"the component exports no {interface}.{function}")
            self._exports[key] = index
        func = instance.get_func(store, self._exports[key])
        assert func is not None, f"{interface}.{function} is a function"
        return func


@functools.cache
def _runtime() -> _Runtime:
    """The process's one compiled `pure` component."""
    return _Runtime(Path(os.environ.get("ACR_AUTH_COMPONENT", DEFAULT_COMPONENT)))


def _invoke(interface: str, function: str, args: tuple[Any, ...]) -> Any:
    """Calls `interface.function` in a fresh store and returns what it returned,
    as wasmtime-py maps it."""
    runtime = _runtime()
    store, instance = runtime.instantiate()
    return runtime.func(store, instance, interface, function)(store, *args)


def _call(interface: str, function: str, args: tuple[Any, ...], ok: type[T], error: Callable[[Any], AcrAuthError]) -> T:
    """Calls `interface.function` in a fresh store; returns its `ok` value as
    the dataclass `ok`, or raises its error converted by `error`.

    A trap or a mistyped argument raises wasmtime's own exception: a bug, not
    an answer.
    """
    result = _invoke(interface, function, args)
    payload: Any
    if isinstance(result, Variant) and result.tag in ("ok", "err"):
        is_ok, payload = result.tag == "ok", result.payload
    else:
        # No WIT error variant here has a case named `ok` or `err`: a bare
        # `Variant` is the error, a bare record the success.
        is_ok, payload = not isinstance(result, Variant), result
    if is_ok:
        return _lift(ok, payload)
    raise error(payload)


def _lift(cls: type[T], record: Record) -> T:
    """Converts a component record into the dataclass `cls`, field by field,
    following the field's type hint."""
    return cls(**{name: _lift_value(hint, getattr(record, wit_name)) for name, wit_name, hint in _fields(cls)})


#: The fields of each dataclass `_lift` builds, as (Python name, WIT name,
#: type hint): resolving type hints costs more than a whole call, so it is
#: done once per class.
_FIELDS: dict[type, list[tuple[str, str, Any]]] = {}


def _fields(cls: type) -> list[tuple[str, str, Any]]:
    """The fields of the dataclass `cls`, worked out on first use."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = [(f.name, f.name.replace("_", "-"), hints[f.name]) for f in dataclasses.fields(cls)]
    return _FIELDS[cls]


def _lift_value(hint: Any, value: Any) -> Any:
    """Converts one component value to the Python type `hint`: enums from their
    case names, records to dataclasses, through options and lists."""
    if value is None:
        return None
    if isinstance(value, Variant):
        return _lift_case(hint, value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _lift_value(inner, value)
    if origin is list:
        (inner,) = typing.get_args(hint)
        return [_lift_value(inner, item) for item in value]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _lift(hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value


def _lift_case(union: Any, variant: Variant) -> Any:
    """A component variant as the class of `union` (optional or not) whose
    `kind` names its case: a case without a payload as the bare class, a
    record payload as the class's own fields (`FederatedToken`,
    `AppService`), any other payload as the class's one field (`ClientId`'s
    value, `Ready`'s identity)."""
    cases = {cls.kind.value: cls for cls in typing.get_args(union) if cls is not type(None)}
    cls = cases[variant.tag]
    payload: Any = variant.payload
    if payload is None:
        return cls()
    if isinstance(payload, Record):
        return _lift(cls, payload)
    ((name, _, hint),) = _fields(cls)
    return cls(**{name: _lift_value(hint, payload)})


def _lower(value: Any) -> Any:
    """A value of a WIT record, enum, list or plain type as the component
    takes it: a dataclass as a `Record` under its WIT (kebab-case) field
    names, an enum as its case name, a list or tuple item by item. Variants
    have functions of their own (`_lower_identity`, `_lower_event`)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_lower(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        record = Record()
        for f in dataclasses.fields(value):
            setattr(record, f.name.replace("_", "-"), _lower(getattr(value, f.name)))
        return record
    return value


def _lower_identity(identity: Identity) -> Variant:
    """An identity as the component's `identity` variant: a federated token's or
    client secret's record, or a managed identity's record with its ID and
    source variants."""
    payload: Any
    match identity:
        case FederatedToken() | ClientSecret():
            payload = _lower(identity)
        case ManagedIdentity(id=named, source=source):
            payload = Record()
            match named:
                case None:
                    payload.id = None
                case ClientId(value) | ObjectId(value) | ResourceId(value):
                    payload.id = Variant(named.kind.value, value)
                case _:
                    raise TypeError(f"a managed identity's id is a ClientId, ObjectId or ResourceId, not {named!r}")
            match source:
                case Imds():
                    payload.source = Variant(source.kind.value)
                case AppService():
                    payload.source = Variant(source.kind.value, _lower(source))
                case AzureArc(endpoint) | CloudShell(endpoint):
                    payload.source = Variant(source.kind.value, endpoint)
                case _:
                    kinds = "Imds, AppService, AzureArc or CloudShell"
                    raise TypeError(f"a managed identity's source is {kinds}, not {type(source).__name__}")
        case _:
            kinds = "FederatedToken, ClientSecret or ManagedIdentity"
            raise TypeError(f"an identity is a {kinds}, not {type(identity).__name__}")
    return Variant(identity.kind.value, payload)


# The error records, converted like any other record.
_reference_error = functools.partial(_lift, RegistryReferenceError)
_cloud_environment_error = functools.partial(_lift, CloudEnvironmentError)
_challenge_error = functools.partial(_lift, ChallengeError)
_entra_request_error = functools.partial(_lift, EntraRequestError)


def _request_error(error: Variant) -> RequestError:
    """The WIT variant `request-error`: `reference(reference-error)` or
    `input(input-error)`."""
    payload: Any = error.payload
    reason = ReferenceErrorKind if error.tag == "reference" else InputErrorKind
    return RequestError(RequestErrorKind(error.tag), reason(payload.kind), payload.message)


def _response_error(error: Variant) -> ResponseError:
    """The WIT variant `response-error`: `refused(refusal)` or
    `malformed(malformed)`."""
    payload: Any = error.payload
    if error.tag == "refused":
        errors = [_lift(AcrError, e) for e in payload.errors]
        return ResponseError(ResponseErrorKind.REFUSED, None, payload.message, payload.status, errors)
    return ResponseError(ResponseErrorKind.MALFORMED, MalformedKind(payload.kind), payload.message, None, [])


def _entra_response_error(error: Variant) -> EntraResponseError:
    """The WIT variant `entra-response-error`: `refused(entra-refusal)` or
    `malformed(malformed)`."""
    payload: Any = error.payload
    if error.tag == "refused":
        return EntraResponseError(EntraResponseErrorKind.REFUSED, None, payload.message, _lift(EntraRefusal, payload))
    return EntraResponseError(EntraResponseErrorKind.MALFORMED, MalformedKind(payload.kind), payload.message, None)


def resolve_scope(reference: str, custom_cloud: CloudEnvironment | None = None) -> ResolvedScope:
    """Resolves what a user typed (a host, an image reference, an `oci://` or
    `https://` URL, any letter case, an explicit `:443`) to the registry's
    login server and the Entra scope and authority its token needs.

    Built-in clouds always win; `custom_cloud` adds one more registry suffix.
    Raises `RegistryReferenceError` for anything that is not an ACR login
    server, and with `INVALID_CLOUD` for a custom cloud that does not check
    out.
    """
    return _call("scope", "resolve-scope", (reference, _lower(custom_cloud)), ResolvedScope, _reference_error)


def parse_cloud_environment(json: str) -> CloudEnvironment:
    """Reads a custom cloud's environment file (the JSON that
    `AZURE_ENVIRONMENT_FILEPATH` names), so that its registries resolve.

    Raises `CloudEnvironmentError` when a required field is missing or invalid.
    """
    return _call("scope", "parse-cloud-environment", (json,), CloudEnvironment, _cloud_environment_error)


def build_exchange_request(
    reference: str,
    entra_token: str,
    tenant: str | None = None,
    custom_cloud: CloudEnvironment | None = None,
) -> Request:
    """Builds `POST https://<login-server>/oauth2/exchange`, which trades an
    Entra access token for an ACR refresh token; send it, then pass the
    response to `parse_refresh_token`.

    The token goes only into the form body. Raises `RequestError` for a
    refused reference, custom cloud, token or tenant.
    """
    args = (reference, entra_token, tenant, _lower(custom_cloud))
    return _call("exchange", "build-exchange-request", args, Request, _request_error)


def build_token_request(
    reference: str,
    refresh_token: str,
    scopes: Sequence[str],
    custom_cloud: CloudEnvironment | None = None,
) -> Request:
    """Builds `POST https://<login-server>/oauth2/token`, which trades an ACR
    refresh token for an access token limited to `scopes`
    (`repository:<name>:<actions>` or `registry:catalog:*`, 1 to 32); send
    it, then pass the response to `parse_access_token`.

    Raises `RequestError` for a refused reference, custom cloud, token or scope.
    """
    args = (reference, refresh_token, list(scopes), _lower(custom_cloud))
    return _call("exchange", "build-token-request", args, Request, _request_error)


def parse_refresh_token(status: int, body: bytes, sent: Sequence[str] = ()) -> Credential:
    """Reads an `/oauth2/exchange` response into a credential and its expiry.

    `sent` holds the secrets the request carried (the Entra token): no error
    text repeats them, whole or in part. The JWT signature is not verified
    (only the registry can); the claims only say when to refresh. Raises
    `ResponseError`: `REFUSED` for a status other than 200, `MALFORMED` for a
    200 that breaks the protocol.
    """
    return _call("token", "parse-refresh-token", (status, bytes(body), list(sent)), Credential, _response_error)


def parse_access_token(status: int, body: bytes, sent: Sequence[str] = ()) -> AccessToken:
    """Reads an `/oauth2/token` response into an access token and its expiry,
    as `parse_refresh_token` reads an exchange response; `sent` holds the
    refresh token the request carried."""
    return _call("token", "parse-access-token", (status, bytes(body), list(sent)), AccessToken, _response_error)


def parse_challenge(www_authenticate: str, custom_cloud: CloudEnvironment | None = None) -> Challenge:
    """Parses a `WWW-Authenticate` header (RFC 7235) and returns its Bearer
    challenge, whose realm must be an ACR login server over HTTPS.

    Raises `ChallengeError` otherwise, or for a refused custom cloud.
    """
    args = (www_authenticate, _lower(custom_cloud))
    return _call("challenge", "parse-challenge", args, Challenge, _challenge_error)


def build_entra_token_request(
    identity: Identity,
    scope: str,
    custom_cloud: CloudEnvironment | None = None,
) -> Request:
    """Builds the request for an Entra access token for `scope` (as
    `resolve_scope` returned it), made with the host's own identity; send it,
    following no redirect, then pass the answer to `parse_entra_token_response`.

    A `FederatedToken` or `ClientSecret` is `POST
    <authority><tenant>/oauth2/v2.0/token` with the client-credentials form;
    the authority must be a built-in cloud's Entra host or `custom_cloud`'s
    `active_directory_endpoint`. A `ManagedIdentity` asks its source: the
    instance metadata service (`GET http://169.254.169.254/...` with
    `metadata: true`), or the endpoint App Service, Azure Arc or Cloud Shell
    names, each exactly as given (plain HTTP only to a loopback address).
    The request may carry a secret in its body or headers: never log it.

    Raises `EntraRequestError` for a refused scope, authority, tenant, client
    ID, managed identity ID or endpoint, credential or custom cloud, and
    `TypeError` for anything that is not an identity.
    """
    args = (_lower_identity(identity), scope, _lower(custom_cloud))
    return _call("entra", "build-entra-token-request", args, Request, _entra_request_error)


def client_assertion_claims(
    tenant: str,
    client_id: str,
    now: int,
    id: str,
    *,
    authority_host: str | None = None,
    custom_cloud: CloudEnvironment | None = None,
) -> str:
    """The claims of the client assertion a service principal signs with its
    certificate, as JSON text for the host to sign (RS256, with the
    certificate's `x5t#S256` thumbprint in the header): `aud` the token
    endpoint `<authority><tenant>/oauth2/v2.0/token`, `iss` and `sub` the
    client ID, `jti` the GUID `id` (draw it at random: `str(uuid.uuid4())`),
    `iat` and `nbf` `now` (unix seconds) and `exp` ten minutes later. The
    signed assertion is then a `FederatedToken`'s assertion.

    Raises `EntraRequestError` for a refused tenant, client ID, ID, authority
    (`authority_host`, as `AZURE_AUTHORITY_HOST` names it) or custom cloud.
    """
    args = (tenant, client_id, authority_host, _lower(custom_cloud), now, id)
    result = _invoke("entra", "client-assertion-claims", args)
    # `result<string, entra-request-error>`: the text, or the error's record.
    if isinstance(result, str):
        return result
    raise _entra_request_error(result)


def parse_entra_token_response(status: int, body: bytes, now: int, sent: Sequence[str] = ()) -> EntraToken:
    """Reads the answer to a request of `build_entra_token_request`, sent at
    unix time `now` (take `int(time.time())` before sending), into the Entra
    access token and its expiry: from `expires_on` (absolute) or else
    `expires_in` (relative to `now`), each a number or a string of digits.
    `sent` holds the secrets the request carried (a federated token or client
    secret): no refusal text repeats them, whole or in part.

    Raises `EntraResponseError`: `REFUSED` for a status other than 200, with
    what Entra said in `.refusal`; `MALFORMED` for a 200 that cannot be read.
    """
    args = (status, bytes(body), now, list(sent))
    return _call("entra", "parse-entra-token-response", args, EntraToken, _entra_response_error)


def _variables(variables: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Environment variables as the component's `list<tuple<string, string>>`:
    a mapping's items, or (name, value) pairs. The error never shows a value."""
    if isinstance(variables, (str, bytes)):
        raise TypeError("variables are a mapping of names to values, or (name, value) pairs")
    pairs = []
    for pair in variables.items() if isinstance(variables, Mapping) else variables:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise TypeError("each variable is a name and a value, both str")
        pairs.append((pair[0], pair[1]))
    return pairs


def identity_from_environment(variables: Mapping[str, str] | Iterable[tuple[str, str]]) -> EnvironmentIdentity:
    """The identity the environment `variables` (`os.environ`, any mapping, or
    (name, value) pairs, of which the last of a name counts) describe, in
    `DefaultAzureCredential`'s order: a client secret (`AZURE_TENANT_ID`,
    `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), else a client certificate
    (`AZURE_CLIENT_CERTIFICATE_PATH`), else workload identity
    (`AZURE_FEDERATED_TOKEN_FILE`), else a managed identity from the endpoint
    the platform names: `IDENTITY_ENDPOINT` with `IDENTITY_HEADER` (App
    Service), `IDENTITY_ENDPOINT` with `IMDS_ENDPOINT` (Azure Arc),
    `MSI_ENDPOINT` (Cloud Shell), else the instance metadata service;
    user-assigned when `AZURE_CLIENT_ID` is set. `AZURE_AUTHORITY_HOST` names
    the Entra cloud; an empty value counts as unset. The component chooses;
    this reads no variable and no file itself.

    Returns `Ready` (its `identity` for `login`), `CertificateFile` or
    `FederatedTokenFile`. Raises `IdentityEnvironmentError`: `INCOMPLETE` for
    a half-set credential (refused, never skipped), `UNSUPPORTED` for what
    cannot be done here; the message names variables, never values.
    """
    result = _invoke("entra", "identity-from-environment", (_variables(variables),))
    # `result<environment-identity, environment-error>`: a variant or a record.
    if not isinstance(result, Variant):
        raise _lift(IdentityEnvironmentError, result)
    return _lift_case(EnvironmentIdentity, result)
