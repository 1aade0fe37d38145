"""The values and errors of the `acr:auth@0.1.0` WIT package as Python types.

Records are dataclasses whose fields are the WIT fields in snake_case and in
WIT order; enums are `enum.Enum`s whose values are the WIT case names
(kebab-case); error records are exceptions. The tests compare these names
with the component's own type exports, so a WIT change cannot slip past.

Fields that hold a token (`Credential.password`, `AccessToken.token`,
`Request.body`) are left out of `repr()`, so logging a value does not leak it.
"""

import enum
from dataclasses import dataclass, field


class Cloud(enum.Enum):
    """The Azure cloud a login server belongs to, known from its DNS suffix."""

    PUBLIC = "public"
    CHINA = "china"
    US_GOVERNMENT = "us-government"
    CUSTOM = "custom"


class Audience(enum.Enum):
    """Which audience the Entra token is requested for: ACR, or the ARM fallback
    that registries disabling `authentication-as-arm` refuse."""

    ACR = "acr"
    ARM = "arm"


class ScopeErrorKind(enum.Enum):
    """Why a registry reference was refused."""

    EMPTY = "empty"
    TOO_LONG = "too-long"
    NOT_ASCII = "not-ascii"
    UNSUPPORTED_SCHEME = "unsupported-scheme"
    USER_INFO = "user-info"
    PORT = "port"
    IP_ADDRESS = "ip-address"
    LOCALHOST = "localhost"
    INVALID_HOST = "invalid-host"
    RETIRED_CLOUD = "retired-cloud"
    NOT_LOGIN_SERVER = "not-login-server"
    UNRECOGNISED_HOST = "unrecognised-host"


class CloudEnvironmentErrorKind(enum.Enum):
    """Why a custom cloud's environment file was refused."""

    TOO_LARGE = "too-large"
    NOT_JSON = "not-json"
    MISSING_FIELD = "missing-field"
    INVALID_FIELD = "invalid-field"


class InputErrorKind(enum.Enum):
    """Why a token, tenant or scope argument of a request builder was refused."""

    EMPTY_TOKEN = "empty-token"
    TOKEN_TOO_LONG = "token-too-long"
    TOKEN_INVALID_CHARACTER = "token-invalid-character"
    INVALID_TENANT = "invalid-tenant"
    SCOPE_COUNT = "scope-count"
    INVALID_SCOPE = "invalid-scope"


class RequestErrorKind(enum.Enum):
    """Which argument of a request builder was refused: the cases of the WIT
    variant `request-error`."""

    REFERENCE = "reference"
    INPUT = "input"


class MalformedKind(enum.Enum):
    """Why a 200 response broke the protocol."""

    TOO_LARGE = "too-large"
    NOT_JSON = "not-json"
    MISSING_TOKEN = "missing-token"
    TOKEN_NOT_STRING = "token-not-string"
    NOT_A_JWT = "not-a-jwt"
    BAD_BASE64 = "bad-base64"
    CLAIMS_NOT_JSON = "claims-not-json"
    MISSING_EXPIRY = "missing-expiry"
    INVALID_EXPIRY = "invalid-expiry"
    INVALID_CLAIM = "invalid-claim"


class ResponseErrorKind(enum.Enum):
    """How a registry response failed: the cases of the WIT variant
    `response-error`."""

    REFUSED = "refused"
    MALFORMED = "malformed"


class ChallengeErrorKind(enum.Enum):
    """Why a `WWW-Authenticate` challenge was refused."""

    TOO_LONG = "too-long"
    SYNTAX = "syntax"
    NO_BEARER = "no-bearer"
    MISSING_PARAMETER = "missing-parameter"
    DUPLICATE_PARAMETER = "duplicate-parameter"
    INSECURE_REALM = "insecure-realm"
    REALM_HOST = "realm-host"


class Stage(enum.Enum):
    """The step of a login that failed."""

    INPUT = "input"
    ENTRA = "entra"
    DISCOVERY = "discovery"
    EXCHANGE = "exchange"
    TOKEN = "token"


class LoginErrorKind(enum.Enum):
    """What kind of failure ended a login."""

    INVALID_INPUT = "invalid-input"
    CHALLENGE = "challenge"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    TRANSPORT = "transport"
    REDIRECT = "redirect"
    REFUSED = "refused"
    TOO_LARGE = "too-large"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class CloudEnvironment:
    """A custom (air-gapped, sovereign or Azure Stack) cloud, as read from its
    environment file by `parse_cloud_environment`; pass it to the other
    functions so that its registry suffix is recognised."""

    name: str | None
    container_registry_dns_suffix: str
    resource_manager_endpoint: str
    active_directory_endpoint: str
    acr_audience: str | None


@dataclass(frozen=True)
class ResolvedScope:
    """What a reference resolves to: the login server and the Entra scope and
    authority to request a token from."""

    login_server: str
    cloud: Cloud
    scope: str
    audience: Audience
    authority_host: str


@dataclass(frozen=True)
class Header:
    """One HTTP header, in the order it must be sent; the name is lower-case."""

    name: str
    value: str


@dataclass(frozen=True)
class Request:
    """An HTTP request to send exactly as given. `body` carries a token, so it
    is kept out of `repr()`; never log it."""

    method: str
    url: str
    headers: list[Header]
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class AcrError:
    """One entry of an ACR error body: a code such as `UNAUTHORIZED` and the
    registry's message (truncated to 512 bytes, control characters replaced)."""

    code: str
    message: str


@dataclass(frozen=True)
class Credential:
    """The `docker login` credential from `/oauth2/exchange`: the fixed user
    name and the ACR refresh token (a secret, kept out of `repr()`), valid
    until `expires_at` (unix seconds)."""

    username: str
    password: str = field(repr=False)
    expires_at: int
    issued_at: int | None
    login_server: str | None
    tenant: str | None


@dataclass(frozen=True)
class AccessToken:
    """A repository-scoped access token from `/oauth2/token`, sent as
    `Authorization: Bearer <token>` (a secret, kept out of `repr()`)."""

    token: str = field(repr=False)
    expires_at: int
    issued_at: int | None
    login_server: str | None


@dataclass(frozen=True)
class Challenge:
    """The Bearer challenge of a registry's `/v2/` answer, whose realm is an ACR
    login server."""

    realm: str
    service: str
    scopes: list[str]
    login_server: str
    exchange_url: str


@dataclass(frozen=True)
class LoginResult:
    """What a login yields: the login server, the refresh-token credential and,
    when scopes were asked for, an access token."""

    login_server: str
    credential: Credential
    access_token: AccessToken | None


class AcrAuthError(Exception):
    """The base of every error here: `kind` to branch on, `message` for people.

    No message ever contains a token, user-info from a reference, or the value
    of a JWT claim.
    """

    kind: enum.Enum
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(eq=False)
class ScopeError(AcrAuthError):
    """A refused registry reference; the message says what was expected."""

    kind: ScopeErrorKind
    message: str


@dataclass(eq=False)
class CloudEnvironmentError(AcrAuthError):
    """A refused environment file; `field` names the JSON field at fault."""

    kind: CloudEnvironmentErrorKind
    field: str | None
    message: str


@dataclass(eq=False)
class RequestError(AcrAuthError):
    """A request that could not be built: caller misuse, never a server answer.

    `kind` says which argument was refused; `reason` says why: a
    `ScopeErrorKind` for the reference, an `InputErrorKind` for a token,
    tenant or scope.
    """

    kind: RequestErrorKind
    reason: ScopeErrorKind | InputErrorKind
    message: str


@dataclass(eq=False)
class ResponseError(AcrAuthError):
    """A registry response that yielded no token.

    `REFUSED` (any status but 200) carries the `status` and the ACR `errors`
    of the body; `MALFORMED` (a 200 that breaks the protocol) carries the
    `reason`.
    """

    kind: ResponseErrorKind
    reason: MalformedKind | None
    message: str
    status: int | None
    errors: list[AcrError]


@dataclass(eq=False)
class ChallengeError(AcrAuthError):
    """A refused challenge; for `REALM_HOST`, `realm_error` says why the realm's
    host is not an ACR login server."""

    kind: ChallengeErrorKind
    realm_error: ScopeError | None
    message: str


@dataclass(eq=False)
class LoginError(AcrAuthError):
    """Why a login failed: the kind, the stage, and what the registry said.

    Any token a server or transport echoed is replaced with `[redacted]`.
    """

    kind: LoginErrorKind
    stage: Stage
    message: str
    status: int | None
    errors: list[AcrError]
    correlation_id: str | None

    def __str__(self) -> str:
        correlation = f" (correlation id {self.correlation_id})" if self.correlation_id else ""
        return f"{self.stage.value}: {self.message}{correlation}"
