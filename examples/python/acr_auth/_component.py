"""The pure functions, each a call into the `pure` component.

Each component is compiled once per process, on first use. Every call gets a
fresh `Store` and instance, limited to 16 MiB of linear memory, as the Rust
CLI does: one bad input can never leave state (or a token) behind for the
next call, a trap poisons nothing, and calls from several threads never share
a store. That costs about 0.05 ms of a call's 0.14 ms (see `example.py`).

The `client` component imports `wasi:http` for its `login`, which this
package does not call (see `_login.py`). Its imports are linked to functions
that trap: the `entra` functions never call them, and nothing called here can
reach the network, a clock or any other part of the host.

How wasmtime-py maps WIT values, which the conversions below rely on:
records are `wasmtime.component.Record` objects with the WIT (kebab-case)
field names as attributes; enums are their case names as `str`; options are
the value or `None`; `list<u8>` is `bytes`, other lists are `list`s. A
`result` or `variant` is a `Variant(tag, payload)` when two of its cases
would map to the same Python class (two records), and the bare payload
otherwise: so `result<record, record>` gives `Variant("ok" | "err", record)`,
while `result<record, variant>` gives the record, or the error variant's own
`Variant`.
"""

import dataclasses
import enum
import functools
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from wasmtime import Engine, Store
from wasmtime.component import Component, ExportIndex, Linker, Record, Variant

from ._types import (
    AccessToken,
    AcrAuthError,
    AcrError,
    Challenge,
    ChallengeError,
    ClientSecret,
    CloudEnvironment,
    CloudEnvironmentError,
    Credential,
    EntraRefusal,
    EntraRequestError,
    EntraResponseError,
    EntraResponseErrorKind,
    EntraToken,
    FederatedToken,
    Identity,
    InputErrorKind,
    MalformedKind,
    ManagedIdentity,
    Request,
    RequestError,
    RequestErrorKind,
    ResolvedScope,
    ResponseError,
    ResponseErrorKind,
    ScopeError,
    ScopeErrorKind,
)

#: Where `cargo xtask build` writes the components, unless
#: `ACR_AUTH_COMPONENTS_DIR` names another directory.
COMPONENTS_DIR = Path(
    os.environ.get("ACR_AUTH_COMPONENTS_DIR")
    or Path(__file__).resolve().parents[3] / "target" / "components"
)

#: The `pure` component file, unless `ACR_AUTH_COMPONENT` names another.
DEFAULT_COMPONENT = COMPONENTS_DIR / "acr_auth.wasm"

#: The `client` component file, unless `ACR_AUTH_CLIENT_COMPONENT` names another.
DEFAULT_CLIENT_COMPONENT = COMPONENTS_DIR / "acr_auth_client.wasm"

#: Each world's component: the variable that may name its file, and the
#: default file.
_COMPONENTS = {
    "pure": ("ACR_AUTH_COMPONENT", DEFAULT_COMPONENT),
    "client": ("ACR_AUTH_CLIENT_COMPONENT", DEFAULT_CLIENT_COMPONENT),
}

#: The linear memory one call may use: far more than the documented input
#: caps need, far less than a runaway could take.
MEMORY_LIMIT = 16 * 1024 * 1024

#: The WIT package's interfaces are exported as `acr:auth/<name>@<version>`.
_PACKAGE = "acr:auth/{}@0.1.0"

T = TypeVar("T")


class _Runtime:
    """A compiled component, its linker and the export indices looked up so
    far. The linker defines each import of the component as a function that
    traps when called: `pure` has none, and `client` has only those of the
    `login` this package never calls."""

    def __init__(self, path: Path) -> None:
        self.engine = Engine()
        self.component = Component.from_file(self.engine, path)
        self.linker = Linker(self.engine)
        self.linker.define_unknown_imports_as_traps(self.component)
        self._exports: dict[tuple[str, str], ExportIndex] = {}

    def export(self, interface: str, function: str) -> ExportIndex:
        """The index of `function` in `interface`, found once."""
        key = (interface, function)
        if key not in self._exports:
            instance = self.component.get_export_index(_PACKAGE.format(interface))
            index = self.component.get_export_index(function, instance)
            if index is None:
                raise LookupError(f"the component exports no {interface}.{function}")
            self._exports[key] = index
        return self._exports[key]


@functools.cache
def _runtime(world: str) -> _Runtime:
    """The process's one compiled component of `world` (`pure` or `client`)."""
    variable, default = _COMPONENTS[world]
    return _Runtime(Path(os.environ.get(variable, default)))


def _call(interface: str, function: str, args: tuple[Any, ...], ok: type[T], error: Callable[[Any], AcrAuthError]) -> T:
    """Calls `interface.function` in a fresh store; returns its `ok` value as
    the dataclass `ok`, or raises its error converted by `error`.

    A trap or a mistyped argument raises wasmtime's own exception: a bug, not
    an answer.
    """
    runtime = _runtime("pure")
    store = Store(runtime.engine)
    store.set_limits(memory_size=MEMORY_LIMIT)
    instance = runtime.linker.instantiate(store, runtime.component)
    func = instance.get_func(store, runtime.export(interface, function))
    assert func is not None, f"{interface}.{function} is a function"
    result = func(store, *args)
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


def _record(value: Any) -> Record:
    """A dataclass as a component record: each field under its WIT
    (kebab-case) name."""
    record = Record()
    for f in dataclasses.fields(value):
        setattr(record, f.name.replace("_", "-"), getattr(value, f.name))
    return record


def _lower(env: CloudEnvironment | None) -> Record | None:
    """A custom cloud as the component's `option<cloud-environment>`."""
    return None if env is None else _record(env)


def _lower_identity(identity: Identity) -> Variant:
    """An identity as the component's `identity` variant, whose case is the
    identity's `kind`: the record of a federated token or client secret, or a
    managed identity's `option<managed-identity-id>`."""
    if isinstance(identity, (FederatedToken, ClientSecret)):
        return Variant(identity.kind.value, _record(identity))
    if isinstance(identity, ManagedIdentity):
        named = identity.id
        return Variant(identity.kind.value, None if named is None else Variant(named[0].value, named[1]))
    raise TypeError(f"an identity is a FederatedToken, ClientSecret or ManagedIdentity, not {type(identity).__name__}")


# The error records, converted like any other record.
_scope_error = functools.partial(_lift, ScopeError)
_cloud_environment_error = functools.partial(_lift, CloudEnvironmentError)
_challenge_error = functools.partial(_lift, ChallengeError)
_entra_request_error = functools.partial(_lift, EntraRequestError)


def _request_error(error: Variant) -> RequestError:
    """The WIT variant `request-error`: `reference(scope-error)` or
    `input(input-error)`."""
    payload: Any = error.payload
    reason = ScopeErrorKind if error.tag == "reference" else InputErrorKind
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
    Raises `ScopeError` for anything that is not an ACR login server.
    """
    return _call("scope", "resolve-scope", (reference, _lower(custom_cloud)), ResolvedScope, _scope_error)


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
    refused reference, token or tenant.
    """
    args = (reference, entra_token, tenant, _lower(custom_cloud))
    return _call("exchange", "build-exchange-request", args, Request, _request_error)


def build_token_request(
    reference: str,
    refresh_token: str,
    scopes: list[str],
    custom_cloud: CloudEnvironment | None = None,
) -> Request:
    """Builds `POST https://<login-server>/oauth2/token`, which trades an ACR
    refresh token for an access token limited to `scopes`
    (`repository:<name>:<actions>` or `registry:catalog:*`, 1 to 32); send
    it, then pass the response to `parse_access_token`.

    Raises `RequestError` for a refused reference, token or scope.
    """
    args = (reference, refresh_token, list(scopes), _lower(custom_cloud))
    return _call("exchange", "build-token-request", args, Request, _request_error)


def parse_refresh_token(status: int, body: bytes) -> Credential:
    """Reads an `/oauth2/exchange` response into a credential and its expiry.

    The JWT signature is not verified (only the registry can); the claims
    only say when to refresh. Raises `ResponseError`: `REFUSED` for a status
    other than 200, `MALFORMED` for a 200 that breaks the protocol.
    """
    return _call("token", "parse-refresh-token", (status, bytes(body)), Credential, _response_error)


def parse_access_token(status: int, body: bytes) -> AccessToken:
    """Reads an `/oauth2/token` response into an access token and its expiry,
    as `parse_refresh_token` reads an exchange response."""
    return _call("token", "parse-access-token", (status, bytes(body)), AccessToken, _response_error)


def parse_challenge(www_authenticate: str, custom_cloud: CloudEnvironment | None = None) -> Challenge:
    """Parses a `WWW-Authenticate` header (RFC 7235) and returns its Bearer
    challenge, whose realm must be an ACR login server over HTTPS.

    Raises `ChallengeError` otherwise.
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
    `active_directory_endpoint`. A `ManagedIdentity` is `GET
    http://169.254.169.254/metadata/identity/oauth2/token?...` with the header
    `metadata: true`: plain HTTP to the link-local metadata service, the one
    request that is not HTTPS. The body holds the credential: never log it.

    Raises `EntraRequestError` for a refused scope, authority, tenant, client
    ID, managed identity ID or credential, and `TypeError` for anything that
    is not an identity.
    """
    args = (_lower_identity(identity), scope, _lower(custom_cloud))
    return _call("entra", "build-entra-token-request", args, Request, _entra_request_error)


def parse_entra_token_response(status: int, body: bytes, now: int) -> EntraToken:
    """Reads the answer to a request of `build_entra_token_request`, sent at
    unix time `now` (take `int(time.time())` before sending), into the Entra
    access token and its expiry: from `expires_on` (absolute) or else
    `expires_in` (relative to `now`), each a number or a string of digits.

    Raises `EntraResponseError`: `REFUSED` for a status other than 200, with
    what Entra said in `.refusal`; `MALFORMED` for a 200 that cannot be read.
    """
    return _call("entra", "parse-entra-token-response", (status, bytes(body), now), EntraToken, _entra_response_error)
