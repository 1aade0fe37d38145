"""The values and errors of the `acr:auth@0.1.0` WIT package as Python types.

Records are dataclasses whose fields are the WIT fields in snake_case and in
WIT order; enums are `enum.Enum`s whose values are the WIT case names
(kebab-case); error records are exceptions. The tests compare these names
with the component's own type exports, so a WIT change cannot slip past.

Fields that hold a token or credential (`Credential.password`,
`AccessToken.token`, `Request.body`, `FederatedToken.assertion`,
`ClientSecret.secret`, `EntraToken.access_token`) are left out of `repr()`, so
logging a value does not leak it.
"""

import enum
from dataclasses import dataclass, field
from typing import ClassVar


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
    REPEATED_FIELD = "repeated-field"
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


class IdentityKind(enum.Enum):
    """How the host signs in to Entra: the cases of the WIT variant `identity`."""

    FEDERATED_TOKEN = "federated-token"
    CLIENT_SECRET = "client-secret"
    MANAGED_IDENTITY = "managed-identity"


class ManagedIdentityIdKind(enum.Enum):
    """Which ID names a user-assigned managed identity: the cases of the WIT
    variant `managed-identity-id`."""

    CLIENT_ID = "client-id"
    OBJECT_ID = "object-id"
    RESOURCE_ID = "resource-id"


class EntraRequestErrorKind(enum.Enum):
    """Why an Entra token request could not be built: caller misuse, never a
    server answer."""

    INVALID_SCOPE = "invalid-scope"
    UNKNOWN_AUTHORITY = "unknown-authority"
    INVALID_TENANT = "invalid-tenant"
    INVALID_CLIENT_ID = "invalid-client-id"
    INVALID_MANAGED_IDENTITY_ID = "invalid-managed-identity-id"
    INVALID_CREDENTIAL = "invalid-credential"


class EntraResponseErrorKind(enum.Enum):
    """How an Entra answer failed: the cases of the WIT variant
    `entra-response-error`."""

    REFUSED = "refused"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class FederatedToken:
    """An app registration signing in with a federated token: workload identity
    federation, e.g. a Kubernetes service-account token (the file
    `AZURE_FEDERATED_TOKEN_FILE` names). The token is a secret, kept out of
    `repr()`; `authority_host` (`AZURE_AUTHORITY_HOST`) defaults to
    `https://login.microsoftonline.com/`."""

    kind: ClassVar[IdentityKind] = IdentityKind.FEDERATED_TOKEN

    tenant: str
    client_id: str
    assertion: str = field(repr=False)
    authority_host: str | None = None


@dataclass(frozen=True)
class ClientSecret:
    """An app registration (service principal) signing in with a client secret
    (`AZURE_CLIENT_SECRET`), a secret kept out of `repr()`; `authority_host`
    defaults to `https://login.microsoftonline.com/`."""

    kind: ClassVar[IdentityKind] = IdentityKind.CLIENT_SECRET

    tenant: str
    client_id: str
    secret: str = field(repr=False)
    authority_host: str | None = None


@dataclass(frozen=True)
class ManagedIdentity:
    """A managed identity, through the instance metadata service: the
    system-assigned one when no ID is given, else the user-assigned one that
    its client ID, object (principal) ID or Azure resource ID names. Giving
    more than one ID raises `ValueError`."""

    kind: ClassVar[IdentityKind] = IdentityKind.MANAGED_IDENTITY

    client_id: str | None = None
    object_id: str | None = None
    resource_id: str | None = None

    def __post_init__(self) -> None:
        if sum(value is not None for value in (self.client_id, self.object_id, self.resource_id)) > 1:
            raise ValueError("a managed identity is named by at most one of client_id, object_id and resource_id")

    @property
    def id(self) -> tuple[ManagedIdentityIdKind, str] | None:
        """The ID that names a user-assigned identity, with its kind; `None`
        for the system-assigned one."""
        for kind in ManagedIdentityIdKind:
            value = getattr(self, kind.value.replace("-", "_"))
            if value is not None:
                return kind, value
        return None


#: Who the host is to Entra: the WIT variant `identity`, whose case each
#: class names in its `kind`.
Identity = FederatedToken | ClientSecret | ManagedIdentity


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
class EntraToken:
    """An Entra access token (a secret, kept out of `repr()`) for
    `build_exchange_request` or `login`, valid until `expires_at` (unix
    seconds)."""

    access_token: str = field(repr=False)
    expires_at: int


@dataclass(frozen=True)
class EntraRefusal:
    """What Entra (or the metadata service) said when it refused: the HTTP
    `status`, the OAuth `error` (e.g. `invalid_client`), the
    `error_description` (which starts with the AADSTS code), the AADSTS `code`
    (e.g. 7000215 for a wrong client secret), the `trace_id` and
    `correlation_id` that Microsoft support asks for, and a `message` for
    people. Each text is bounded, with control characters replaced, and empty
    when absent."""

    status: int
    error: str
    description: str
    code: int | None
    trace_id: str
    correlation_id: str
    message: str


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
class EntraRequestError(AcrAuthError):
    """An Entra token request that could not be built: caller misuse, never a
    server answer. The message never contains the credential."""

    kind: EntraRequestErrorKind
    message: str


@dataclass(eq=False)
class EntraResponseError(AcrAuthError):
    """An Entra answer that yielded no token.

    `REFUSED` (any status but 200) carries what Entra said in `refusal`;
    `MALFORMED` (a 200 that cannot be read) carries the `reason`.
    """

    kind: EntraResponseErrorKind
    reason: MalformedKind | None
    message: str
    refusal: EntraRefusal | None


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
