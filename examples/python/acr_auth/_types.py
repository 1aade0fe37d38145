"""The values and errors of the `acr:auth@0.1.0` WIT package as Python types.

Records are dataclasses whose fields are the WIT fields in snake_case and in
WIT order; enums are `enum.Enum`s whose values are the WIT case names
(kebab-case); error records are exceptions. A WIT variant whose cases carry
different things is a union of one class per case (`Identity`,
`ManagedIdentitySource`, `Event`, `Step`, ...), each class naming its case in
a `kind` class attribute of the variant's `...Kind` enum, so that `match` and
`kind` both work. The tests compare all of this with the component's own type
exports, so a WIT change cannot slip past.

Every field that holds a secret (a token, a client secret, a federated
assertion, App Service's identity header, Azure Arc's key, a request or
response body, a header value) is left out of `repr()`, so logging a value
does not leak one.
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


class ReferenceErrorKind(enum.Enum):
    """Why a registry reference (or the custom cloud given with it) was refused."""

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
    INVALID_CLOUD = "invalid-cloud"


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
    """Why a `WWW-Authenticate` challenge (or the custom cloud given with it)
    was refused."""

    TOO_LONG = "too-long"
    SYNTAX = "syntax"
    NO_BEARER = "no-bearer"
    MISSING_PARAMETER = "missing-parameter"
    DUPLICATE_PARAMETER = "duplicate-parameter"
    INSECURE_REALM = "insecure-realm"
    REALM_HOST = "realm-host"
    INVALID_CLOUD = "invalid-cloud"


class EntraRequestErrorKind(enum.Enum):
    """Why an Entra token request could not be built: caller misuse, never a
    server answer."""

    INVALID_SCOPE = "invalid-scope"
    UNKNOWN_AUTHORITY = "unknown-authority"
    INVALID_TENANT = "invalid-tenant"
    INVALID_CLIENT_ID = "invalid-client-id"
    INVALID_MANAGED_IDENTITY_ID = "invalid-managed-identity-id"
    USER_ASSIGNED_UNSUPPORTED = "user-assigned-unsupported"
    INVALID_CREDENTIAL = "invalid-credential"
    INVALID_CLOUD = "invalid-cloud"
    INVALID_ASSERTION_ID = "invalid-assertion-id"


class EntraResponseErrorKind(enum.Enum):
    """How an Entra answer failed: the cases of the WIT variant
    `entra-response-error`."""

    REFUSED = "refused"
    MALFORMED = "malformed"


class TransportErrorKind(enum.Enum):
    """Why a request got no response."""

    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    TOO_LARGE = "too-large"
    PROTOCOL = "protocol"


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
    MISUSE = "misuse"
    CHALLENGE = "challenge"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    TRANSPORT = "transport"
    REDIRECT = "redirect"
    REFUSED = "refused"
    TOO_LARGE = "too-large"
    MALFORMED = "malformed"
    KEY_FILE = "key-file"


# Identities.


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


class ManagedIdentitySourceKind(enum.Enum):
    """Where a managed identity's tokens come from: the cases of the WIT
    variant `managed-identity-source`."""

    IMDS = "imds"
    APP_SERVICE = "app-service"
    AZURE_ARC = "azure-arc"
    CLOUD_SHELL = "cloud-shell"


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
class ClientId:
    """A user-assigned managed identity named by its client ID (a GUID)."""

    kind: ClassVar[ManagedIdentityIdKind] = ManagedIdentityIdKind.CLIENT_ID

    value: str


@dataclass(frozen=True)
class ObjectId:
    """A user-assigned managed identity named by its object (principal) ID (a GUID)."""

    kind: ClassVar[ManagedIdentityIdKind] = ManagedIdentityIdKind.OBJECT_ID

    value: str


@dataclass(frozen=True)
class ResourceId:
    """A user-assigned managed identity named by its Azure resource ID
    (`/subscriptions/.../userAssignedIdentities/<name>`)."""

    kind: ClassVar[ManagedIdentityIdKind] = ManagedIdentityIdKind.RESOURCE_ID

    value: str


#: Names one of several user-assigned managed identities: the WIT variant
#: `managed-identity-id`.
ManagedIdentityId = ClientId | ObjectId | ResourceId


@dataclass(frozen=True)
class Imds:
    """The instance metadata service at 169.254.169.254 (VMs, AKS nodes)."""

    kind: ClassVar[ManagedIdentitySourceKind] = ManagedIdentitySourceKind.IMDS


@dataclass(frozen=True)
class AppService:
    """App Service, Functions and Container Apps: `IDENTITY_ENDPOINT` and
    `IDENTITY_HEADER`. The header is sent as `X-IDENTITY-HEADER` to `endpoint`
    only: a secret, kept out of `repr()`."""

    kind: ClassVar[ManagedIdentitySourceKind] = ManagedIdentitySourceKind.APP_SERVICE

    endpoint: str
    header: str = field(repr=False)


@dataclass(frozen=True)
class AzureArc:
    """An Azure Arc server: `IDENTITY_ENDPOINT` (with `IMDS_ENDPOINT` set). Its
    401 names a key file, which the login reads when the flow asks.
    System-assigned only."""

    kind: ClassVar[ManagedIdentitySourceKind] = ManagedIdentitySourceKind.AZURE_ARC

    endpoint: str


@dataclass(frozen=True)
class CloudShell:
    """Cloud Shell: `MSI_ENDPOINT`. System-assigned only."""

    kind: ClassVar[ManagedIdentitySourceKind] = ManagedIdentitySourceKind.CLOUD_SHELL

    endpoint: str


#: Where a managed identity's tokens come from, as the Azure SDKs choose it
#: from the environment: the WIT variant `managed-identity-source`. Each
#: endpoint is used exactly as given: `http://` only to a loopback address.
ManagedIdentitySource = Imds | AppService | AzureArc | CloudShell


@dataclass(frozen=True)
class ManagedIdentity:
    """A managed identity: the system-assigned one unless `id` names a
    user-assigned one, from the platform's `source` (the instance metadata
    service unless given)."""

    kind: ClassVar[IdentityKind] = IdentityKind.MANAGED_IDENTITY

    id: ManagedIdentityId | None = None
    source: ManagedIdentitySource = Imds()


#: Who the host is to Entra: the WIT variant `identity`.
Identity = FederatedToken | ClientSecret | ManagedIdentity

#: Who logs in: an Entra access token the host already has (a `str`, for the
#: scope `resolve_scope` returns), or the host's own `Identity`.
Credentials = str | Identity


# The identity the environment describes.


class EnvironmentIdentityKind(enum.Enum):
    """What the environment describes: the cases of the WIT variant
    `environment-identity`."""

    READY = "ready"
    CLIENT_CERTIFICATE = "client-certificate"
    WORKLOAD_IDENTITY = "workload-identity"


class EnvironmentErrorKind(enum.Enum):
    """Why the environment names no usable identity."""

    INCOMPLETE = "incomplete"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Ready:
    """An identity usable as it is: a client secret or a managed identity."""

    kind: ClassVar[EnvironmentIdentityKind] = EnvironmentIdentityKind.READY

    identity: Identity


@dataclass(frozen=True)
class CertificateFile:
    """A service principal whose certificate and unencrypted private key are in
    the PEM file `AZURE_CLIENT_CERTIFICATE_PATH` names, to sign a client
    assertion with; `send_chain` when `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`
    is `true` or `1` (the assertion's header carries the chain)."""

    kind: ClassVar[EnvironmentIdentityKind] = EnvironmentIdentityKind.CLIENT_CERTIFICATE

    tenant: str
    client_id: str
    path: str
    send_chain: bool = False
    authority_host: str | None = None


@dataclass(frozen=True)
class FederatedTokenFile:
    """An app whose federated token is in the file `AZURE_FEDERATED_TOKEN_FILE`
    names (workload identity): read it for each login, since the platform
    rotates it, and log in with it as a `FederatedToken`'s assertion
    (`read_identity_from_environment` does)."""

    kind: ClassVar[EnvironmentIdentityKind] = EnvironmentIdentityKind.WORKLOAD_IDENTITY

    tenant: str
    client_id: str
    path: str
    authority_host: str | None = None


#: The identity the environment describes: the WIT variant
#: `environment-identity`.
EnvironmentIdentity = Ready | CertificateFile | FederatedTokenFile


# Plain records.


@dataclass(frozen=True)
class CloudEnvironment:
    """A custom (air-gapped, sovereign or Azure Stack) cloud, as read from its
    environment file by `parse_cloud_environment`, or built by hand: every
    function that takes one checks it as `parse_cloud_environment` checks a
    file."""

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
    """One HTTP header, in the order it must be sent; the name is lower-case.
    The value may be a secret (`authorization`, `x-identity-header`), so it
    is kept out of `repr()`."""

    name: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class Request:
    """An HTTP request to send exactly as given. `body` may carry a token, so
    it is kept out of `repr()`; never log it."""

    method: str
    url: str
    headers: list[Header]
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class Response:
    """A response as plain data: its status, its headers (names in any case)
    and at most the body length the request allowed. The body may echo a
    token, so it is kept out of `repr()`."""

    status: int
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
    until `expires_at` (unix seconds); the JWT's `aud` (one or more) and
    `tenant`; `abac` when the registry grants access per repository and so
    refuses wildcard repository scopes."""

    username: str
    password: str = field(repr=False)
    expires_at: int
    issued_at: int | None
    audience: list[str]
    tenant: str | None
    abac: bool


@dataclass(frozen=True)
class AccessToken:
    """A repository-scoped access token from `/oauth2/token`, sent as
    `Authorization: Bearer <token>` (a secret, kept out of `repr()`)."""

    token: str = field(repr=False)
    expires_at: int
    issued_at: int | None
    audience: list[str]


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


# The login.


@dataclass(frozen=True)
class RetryPolicy:
    """When the flow tries a refused request again. Registries and Entra are
    retried on 429 and 503, honouring `Retry-After`, up to `max_retries`
    times; a metadata service on 404, 408, 410, 429 and 5xx with exponential
    backoff from `first_delay_ms`, up to `metadata_max_retries` times, and 410
    for at least `gone_window_ms`. A wait beyond `max_delay_ms` is not waited
    for: the refusal stands."""

    max_retries: int = 3
    metadata_max_retries: int = 5
    first_delay_ms: int = 1000
    max_delay_ms: int = 60_000
    gone_window_ms: int = 70_000


@dataclass(frozen=True)
class LoginOptions:
    """What a login needs besides the reference and the credentials: the
    `tenant` sent with the exchange (an identity's own tenant otherwise), the
    `repository_scopes` to get an access token for (none skips
    `/oauth2/token`), whether to `discover` the registry's Bearer challenge at
    `/v2/` first, a `custom_cloud`, the timeouts of every request in
    milliseconds (10 s to connect, 30 s to the first byte and between body
    chunks when `None`) and the `retry` policy (`RetryPolicy()` when `None`)."""

    tenant: str | None = None
    repository_scopes: list[str] = field(default_factory=list)
    discover: bool = False
    custom_cloud: CloudEnvironment | None = None
    connect_timeout_ms: int | None = None
    first_byte_timeout_ms: int | None = None
    between_bytes_timeout_ms: int | None = None
    retry: RetryPolicy | None = None


@dataclass(frozen=True)
class LoginResult:
    """What a login yields: the login server, the refresh-token credential and,
    when scopes were asked for, an access token."""

    login_server: str
    credential: Credential
    access_token: AccessToken | None


@dataclass(frozen=True)
class FileToRead:
    """A file the flow needs: the Azure Arc agent's key, a `.key` file directly
    in the agent's token directory, of at most `max_len` bytes."""

    path: str
    max_len: int


@dataclass(frozen=True)
class Outgoing:
    """A request to send exactly as given, following no redirect, with its
    timeouts in milliseconds and the most response body bytes to read (a
    longer body is a `TOO_LARGE` transport error, the rest unread)."""

    request: Request
    connect_timeout_ms: int
    first_byte_timeout_ms: int
    between_bytes_timeout_ms: int
    max_response_len: int


# Errors.


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
class RegistryReferenceError(AcrAuthError):
    """A refused registry reference, or a refused custom cloud given with it
    (`INVALID_CLOUD`); the message says what was expected. (The WIT record
    `reference-error`, named so as not to shadow Python's `ReferenceError`.)"""

    kind: ReferenceErrorKind
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
    `ReferenceErrorKind` for the reference (or its custom cloud), an
    `InputErrorKind` for a token, tenant or scope.
    """

    kind: RequestErrorKind
    reason: ReferenceErrorKind | InputErrorKind
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
    realm_error: RegistryReferenceError | None
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
class IdentityEnvironmentError(AcrAuthError):
    """Environment variables that name no usable identity: `INCOMPLETE` (a
    variable is set without another it needs, such as a client secret without
    `AZURE_TENANT_ID`) or `UNSUPPORTED` (a certificate password, a user's name
    and password, Service Fabric, Azure Machine Learning; and, from
    `read_identity_from_environment`, a client certificate). The message
    names variables, never their values. (The WIT record `environment-error`,
    named so as not to shadow Python's `EnvironmentError`.)"""

    kind: EnvironmentErrorKind
    message: str


@dataclass(eq=False)
class TransportError(AcrAuthError):
    """A request that got no response: what a transport raises, and what the
    flow is told. The message never holds a token."""

    kind: TransportErrorKind
    message: str


@dataclass(eq=False)
class LoginError(AcrAuthError):
    """Why a login failed: the kind, the stage, the whole story in `message`
    (with the correlation ID), the HTTP `status` when a response arrived, the
    ACR `errors` of its body and the `correlation_id` support asks for.

    No field holds a secret the login handled, whole or in part: the flow
    blanks them (`[redacted]`) in what servers said before cutting it.
    """

    kind: LoginErrorKind
    stage: Stage
    message: str
    status: int | None
    errors: list[AcrError]
    correlation_id: str | None


# The steps of a login flow and the events fed back.


class StepKind(enum.Enum):
    """What a login flow asks for next: the cases of the WIT variant `step`."""

    SEND = "send"
    WAIT = "wait"
    READ_FILE = "read-file"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Send:
    """Send this request; then step with `Responded` or `TransportFailed`."""

    kind: ClassVar[StepKind] = StepKind.SEND

    outgoing: Outgoing


@dataclass(frozen=True)
class Wait:
    """Step with `Woke()` at this unix millisecond or later."""

    kind: ClassVar[StepKind] = StepKind.WAIT

    until_ms: int


@dataclass(frozen=True)
class ReadFile:
    """Read this file; then step with `FileRead` or `FileFailed`."""

    kind: ClassVar[StepKind] = StepKind.READ_FILE

    file: FileToRead


@dataclass(frozen=True)
class Done:
    """Logged in."""

    kind: ClassVar[StepKind] = StepKind.DONE

    result: LoginResult


@dataclass(frozen=True)
class Failed:
    """The login failed; every further step says so again."""

    kind: ClassVar[StepKind] = StepKind.FAILED

    error: LoginError


#: What a login flow asks for next: the WIT variant `step`.
Step = Send | Wait | ReadFile | Done | Failed


class EventKind(enum.Enum):
    """What happened since a flow's last step: the cases of the WIT variant
    `event`."""

    START = "start"
    RESPONSE = "response"
    TRANSPORT_FAILED = "transport-failed"
    WOKE = "woke"
    FILE_READ = "file-read"
    FILE_FAILED = "file-failed"


@dataclass(frozen=True)
class Start:
    """Nothing yet: the first step."""

    kind: ClassVar[EventKind] = EventKind.START


@dataclass(frozen=True)
class Responded:
    """The response to the request of the last `Send`."""

    kind: ClassVar[EventKind] = EventKind.RESPONSE

    response: Response


@dataclass(frozen=True)
class TransportFailed:
    """The request of the last `Send` got no response."""

    kind: ClassVar[EventKind] = EventKind.TRANSPORT_FAILED

    error: TransportError


@dataclass(frozen=True)
class Woke:
    """The time of the last `Wait` has come."""

    kind: ClassVar[EventKind] = EventKind.WOKE


@dataclass(frozen=True)
class FileRead:
    """The contents of the file the last `ReadFile` named: a secret, kept out
    of `repr()`."""

    kind: ClassVar[EventKind] = EventKind.FILE_READ

    contents: str = field(repr=False)


@dataclass(frozen=True)
class FileFailed:
    """The file the last `ReadFile` named could not be read, and why."""

    kind: ClassVar[EventKind] = EventKind.FILE_FAILED

    reason: str


#: What happened since a flow's last step: the WIT variant `event`.
Event = Start | Responded | TransportFailed | Woke | FileRead | FileFailed
