"""The whole login, with Python as the transport: the sans-IO route.

The `client` component's own `login` needs a host that implements
`wasi:http`. wasmtime-py 50 has one built in, but it trusts only the Mozilla
roots compiled into Wasmtime and lets Python neither add a CA nor replace the
sender, so it cannot reach a registry behind a private CA (see the README).
Here the pure component still decides every request and reads every
response, and Python only moves the bytes, with the standard library: the
same flow and the same guarantees as the component's `login`.
"""

import http.client
import ssl
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._component import (
    build_exchange_request,
    build_token_request,
    parse_access_token,
    parse_challenge,
    parse_refresh_token,
    resolve_scope,
)
from ._types import (
    AcrError,
    ChallengeError,
    CloudEnvironment,
    Header,
    LoginError,
    LoginErrorKind,
    LoginResult,
    MalformedKind,
    Request,
    RequestError,
    ResponseError,
    ResponseErrorKind,
    ScopeError,
    Stage,
)

#: The most of a response body that is read; a larger one is refused.
MAX_RESPONSE_BODY = 64 * 1024

#: The response header that support asks for.
_CORRELATION_HEADER = "x-ms-correlation-request-id"

T = TypeVar("T")


@dataclass(frozen=True)
class _Response:
    """What the flow needs of a response."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str, limit: int) -> str | None:
        """A header's visible ASCII characters, at most `limit` of them: safe to
        put into a message."""
        value = self.headers.get(name)
        return None if value is None else "".join(c for c in value if "!" <= c <= "~")[:limit]


class _Flow:
    """One login's transport settings and the secrets kept out of its errors."""

    def __init__(self, ssl_context: ssl.SSLContext, connect_timeout: float, read_timeout: float, secret: str) -> None:
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.secrets = [secret]

    def error(
        self,
        kind: LoginErrorKind,
        stage: Stage,
        message: str,
        response: _Response | None = None,
        errors: Sequence[AcrError] = (),
    ) -> LoginError:
        """A login error with what `response` said, every secret replaced by
        `[redacted]` in every text a server or transport produced."""

        def scrub(text: str) -> str:
            for secret in self.secrets:
                text = text.replace(secret, "[redacted]")
            return text

        correlation_id = response.header(_CORRELATION_HEADER, 128) if response else None
        return LoginError(
            kind=kind,
            stage=stage,
            message=scrub(message),
            status=response.status if response else None,
            errors=[AcrError(scrub(e.code), scrub(e.message)) for e in errors],
            correlation_id=scrub(correlation_id) if correlation_id else None,
        )

    def send(self, request: Request, stage: Stage) -> _Response:
        """Sends `request` exactly as given over HTTPS, following no redirect and
        reading at most `MAX_RESPONSE_BODY` bytes of the answer.

        `connect_timeout` bounds the TCP connection and TLS handshake;
        `read_timeout` bounds every wait for response bytes, so both the first
        byte and the gaps between chunks.
        """
        url = urllib.parse.urlsplit(request.url)
        if url.scheme != "https" or url.hostname is None:
            raise self.error(LoginErrorKind.TRANSPORT, stage, f"refusing to send to a non-https URL {request.url}")
        connection = http.client.HTTPSConnection(
            url.hostname, url.port or 443, timeout=self.connect_timeout, context=self.ssl_context
        )
        try:
            try:
                connection.connect()
            except ssl.SSLError as e:
                raise self.error(LoginErrorKind.TLS, stage, f"TLS with {url.hostname} failed: {e}") from None
            except TimeoutError:
                raise self.error(LoginErrorKind.TIMEOUT, stage, f"connecting to {url.hostname} timed out") from None
            except OSError as e:
                raise self.error(LoginErrorKind.CONNECT, stage, f"cannot connect to {url.hostname}: {e}") from None
            assert connection.sock is not None, "connect() opened a socket"
            connection.sock.settimeout(self.read_timeout)
            try:
                connection.putrequest(
                    request.method, url.path + (f"?{url.query}" if url.query else ""), skip_accept_encoding=True
                )
                for header in request.headers:
                    connection.putheader(header.name, header.value)
                connection.putheader("content-length", str(len(request.body)))
                connection.endheaders(request.body)
                answer = connection.getresponse()
                declared = answer.headers.get("content-length", "")
                oversized = declared.isdigit() and int(declared) > MAX_RESPONSE_BODY
                body = b"" if oversized else answer.read(MAX_RESPONSE_BODY + 1)
            except TimeoutError:
                raise self.error(LoginErrorKind.TIMEOUT, stage, f"{url.hostname} did not answer in time") from None
            except (OSError, http.client.HTTPException) as e:
                raise self.error(
                    LoginErrorKind.TRANSPORT, stage, f"the exchange with {url.hostname} broke: {e!r}"
                ) from None
        finally:
            connection.close()
        response = _Response(answer.status, answer.headers, body)
        if oversized or len(body) > MAX_RESPONSE_BODY:
            message = f"HTTP {response.status}: the response body exceeds {MAX_RESPONSE_BODY} bytes"
            raise self.error(LoginErrorKind.TOO_LARGE, stage, message, response)
        if 300 <= response.status < 400:
            target = response.header("location", 256) or "nowhere"
            message = f"the registry redirected to {target}; redirects are never followed with a token"
            raise self.error(LoginErrorKind.REDIRECT, stage, message, response)
        return response

    def call(self, request: Request, stage: Stage, parse: Callable[[int, bytes], T]) -> T:
        """Sends `request` and reads the answer with the component's `parse`;
        an answer that yields no token becomes a login error."""
        response = self.send(request, stage)
        try:
            return parse(response.status, response.body)
        except ResponseError as e:
            if e.kind is ResponseErrorKind.REFUSED:
                kind = LoginErrorKind.REFUSED
            elif e.reason is MalformedKind.TOO_LARGE:
                kind = LoginErrorKind.TOO_LARGE
            else:
                kind = LoginErrorKind.MALFORMED
            raise self.error(kind, stage, e.message, response, e.errors) from None

    def discover(self, login_server: str, custom_cloud: CloudEnvironment | None) -> None:
        """`GET /v2/` must answer 401 with a Bearer challenge whose realm and
        service name this login server; otherwise no token is sent."""
        request = Request("GET", f"https://{login_server}/v2/", [Header("accept", "application/json")], b"")
        response = self.send(request, Stage.DISCOVERY)
        if response.status != 401:
            message = f"expected 401 with a Bearer challenge, got HTTP {response.status}"
            raise self.error(LoginErrorKind.CHALLENGE, Stage.DISCOVERY, message, response)
        try:
            challenge = parse_challenge(response.headers.get("www-authenticate", ""), custom_cloud)
        except ChallengeError as e:
            raise self.error(LoginErrorKind.CHALLENGE, Stage.DISCOVERY, e.message, response) from None
        if challenge.login_server != login_server or challenge.service.lower() != login_server:
            message = (
                f"the challenge names realm {challenge.login_server} and service {challenge.service!r},"
                f" not {login_server}: no token is sent elsewhere"
            )
            raise self.error(LoginErrorKind.CHALLENGE, Stage.DISCOVERY, message, response)


def login(
    reference: str,
    entra_token: str,
    *,
    tenant: str | None = None,
    scopes: Sequence[str] = (),
    discover: bool = False,
    custom_cloud: CloudEnvironment | None = None,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
) -> LoginResult:
    """Logs in to the registry `reference` names with an Entra access token for
    the scope `resolve_scope` returns, with Python's standard library as the
    transport.

    Sends `GET /v2/` first when `discover` (its challenge must name the same
    login server), then `POST /oauth2/exchange` and, when `scopes` are given,
    `POST /oauth2/token`. Every request is built, and every response read, by
    the component. Tokens go only to the login server, over HTTPS, in request
    bodies; a redirect is an error, never followed; response bodies are read
    to at most 64 KiB. `ssl_context` defaults to the system's trust store
    (`ssl.create_default_context()`, which honours `SSL_CERT_FILE`).

    Raises `LoginError`, whose `stage` says which step failed; bad arguments
    fail before any request is sent.
    """
    flow = _Flow(ssl_context or ssl.create_default_context(), connect_timeout, read_timeout, entra_token)
    try:
        login_server = resolve_scope(reference, custom_cloud).login_server
        exchange = build_exchange_request(reference, entra_token, tenant, custom_cloud)
        if scopes:
            # Checks the scopes now, before the Entra token leaves; the
            # request itself is thrown away.
            build_token_request(login_server, entra_token, list(scopes), custom_cloud)
    except (ScopeError, RequestError) as e:
        raise flow.error(LoginErrorKind.INVALID_INPUT, Stage.INPUT, e.message) from None
    if discover:
        flow.discover(login_server, custom_cloud)
    credential = flow.call(exchange, Stage.EXCHANGE, parse_refresh_token)
    if not scopes:
        return LoginResult(login_server, credential, None)
    flow.secrets.append(credential.password)
    try:
        request = build_token_request(login_server, credential.password, list(scopes), custom_cloud)
    except RequestError as e:
        # Only the registry's refresh token can be refused here.
        raise flow.error(LoginErrorKind.MALFORMED, Stage.EXCHANGE, e.message) from None
    return LoginResult(login_server, credential, flow.call(request, Stage.TOKEN, parse_access_token))
