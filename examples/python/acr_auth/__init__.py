"""Azure Container Registry authentication for Entra identities, from Python.

A typed wrapper over the `pure` acr-auth WebAssembly component, run with
wasmtime-py: choose the token scope (`resolve_scope`), build the token
exchange (`build_exchange_request`), read the registry's answers
(`parse_refresh_token`, `parse_access_token`, `parse_challenge`), all pure
and sans-IO. `login` runs the whole flow with Python's standard library as
the transport.

Every function raises a subclass of `AcrAuthError` for a refused input or a
refusing registry; each has a `kind` to branch on and a `message` for people.
"""

from ._component import (
    build_exchange_request,
    build_token_request,
    parse_access_token,
    parse_challenge,
    parse_cloud_environment,
    parse_refresh_token,
    resolve_scope,
)
from ._login import MAX_RESPONSE_BODY, login
from ._types import (
    AccessToken,
    AcrAuthError,
    AcrError,
    Audience,
    Challenge,
    ChallengeError,
    ChallengeErrorKind,
    Cloud,
    CloudEnvironment,
    CloudEnvironmentError,
    CloudEnvironmentErrorKind,
    Credential,
    Header,
    InputErrorKind,
    LoginError,
    LoginErrorKind,
    LoginResult,
    MalformedKind,
    Request,
    RequestError,
    RequestErrorKind,
    ResolvedScope,
    ResponseError,
    ResponseErrorKind,
    ScopeError,
    ScopeErrorKind,
    Stage,
)

__all__ = [
    "MAX_RESPONSE_BODY",
    "AccessToken",
    "AcrAuthError",
    "AcrError",
    "Audience",
    "Challenge",
    "ChallengeError",
    "ChallengeErrorKind",
    "Cloud",
    "CloudEnvironment",
    "CloudEnvironmentError",
    "CloudEnvironmentErrorKind",
    "Credential",
    "Header",
    "InputErrorKind",
    "LoginError",
    "LoginErrorKind",
    "LoginResult",
    "MalformedKind",
    "Request",
    "RequestError",
    "RequestErrorKind",
    "ResolvedScope",
    "ResponseError",
    "ResponseErrorKind",
    "ScopeError",
    "ScopeErrorKind",
    "Stage",
    "build_exchange_request",
    "build_token_request",
    "login",
    "parse_access_token",
    "parse_challenge",
    "parse_cloud_environment",
    "parse_refresh_token",
    "resolve_scope",
]
