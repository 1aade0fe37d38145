"""Drivers of `LoginFlow` over Python's standard library: `login` blocks,
`login_async` runs on an asyncio event loop, and `Transport` moves the bytes;
`read_identity_from_environment` reads the identity a login needs.

The flow decides everything a login does (discovery, redirect refusal,
retries and their waits, redaction, error mapping); a driver only does what
a step says: send one request exactly as given, sleep until a time, read one
file, and feed back what happened. It keeps two rules of its own, the
host's, whatever the transport: plain HTTP goes only to the instance
metadata service and to the loopback endpoint the managed identity names,
and the one file read is an Azure Arc key file in the agent's directory.
"""

import asyncio
import errno
import http.client
import ipaddress
import os
import ssl
import time
import urllib.parse
from collections.abc import Iterable, Mapping

from ._component import identity_from_environment
from ._flow import LoginFlow
from ._types import (
    CertificateFile,
    Credentials,
    Done,
    EnvironmentErrorKind,
    Event,
    Failed,
    FederatedToken,
    FederatedTokenFile,
    FileFailed,
    FileRead,
    FileToRead,
    Header,
    Identity,
    IdentityEnvironmentError,
    LoginOptions,
    LoginResult,
    ManagedIdentity,
    Outgoing,
    ReadFile,
    Ready,
    Responded,
    Response,
    Send,
    Start,
    TransportError,
    TransportErrorKind,
    TransportFailed,
    Wait,
    Woke,
)


class Transport:
    """A login's I/O with the standard library: `http.client` over `ssl`, the
    system clock, `time.sleep` and the file system. Subclass it to change a
    part (the tests replace them all with a script).

    TLS trusts `ssl.create_default_context()`, which reads the system's CAs
    or the bundle `SSL_CERT_FILE` names, plus `cafile` when given; or
    exactly `ssl_context` when given.
    """

    def __init__(self, *, cafile: str | os.PathLike[str] | None = None, ssl_context: ssl.SSLContext | None = None):
        if ssl_context is None:
            ssl_context = ssl.create_default_context()
            if cafile is not None:
                ssl_context.load_verify_locations(cafile)
        elif cafile is not None:
            raise ValueError("give cafile or ssl_context, not both")
        self.ssl_context = ssl_context

    def send(self, outgoing: Outgoing) -> Response:
        """Sends `outgoing.request` exactly as given, over HTTPS (or plain HTTP
        where the URL says so: `login` lets through only the metadata service
        and the managed identity's loopback endpoint),
        following no redirect, with `content-length` for a body. Raises
        `TransportError`: `CONNECT` if no connection (TCP and TLS within the
        connect timeout) was made, `TLS`, `TIMEOUT` (connecting, waiting for
        the first byte, or between two reads of the body), `TOO_LARGE` for a
        body over `max_response_len` (the rest unread), `PROTOCOL` for anything
        else."""
        request = outgoing.request
        url = urllib.parse.urlsplit(request.url)
        host, timeout = url.hostname or "", outgoing.connect_timeout_ms / 1000
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(host, url.port, timeout=timeout, context=self.ssl_context)
        elif url.scheme == "http":
            connection = http.client.HTTPConnection(host, url.port, timeout=timeout)
        else:
            raise TransportError(TransportErrorKind.PROTOCOL, f"cannot send to a {url.scheme}: URL")
        try:
            try:
                connection.connect()
            except TimeoutError:
                raise TransportError(TransportErrorKind.TIMEOUT, f"connecting to {host} timed out") from None
            except ssl.SSLError as e:
                raise TransportError(TransportErrorKind.TLS, f"TLS with {host} failed: {e}") from None
            except OSError as e:
                raise TransportError(TransportErrorKind.CONNECT, f"cannot connect to {host}: {e}") from None
            # The response takes the socket over; keep it to change its timeout.
            sock = connection.sock
            sock.settimeout(outgoing.first_byte_timeout_ms / 1000)
            try:
                target = url.path + (f"?{url.query}" if url.query else "")
                connection.putrequest(request.method, target, skip_accept_encoding=True)
                for header in request.headers:
                    connection.putheader(header.name, header.value)
                if request.body:
                    connection.putheader("content-length", str(len(request.body)))
                connection.endheaders(request.body or None)
                answer = connection.getresponse()
                sock.settimeout(outgoing.between_bytes_timeout_ms / 1000)
                limit = outgoing.max_response_len
                too_large = TransportError(TransportErrorKind.TOO_LARGE, f"the response body exceeds {limit} bytes")
                if answer.length is not None and answer.length > limit:
                    raise too_large
                # With a content-length, `read()` raises if the body ends short of it.
                body = answer.read() if answer.length is not None else answer.read(limit + 1)
                if len(body) > limit:
                    raise too_large
            except TimeoutError:
                raise TransportError(TransportErrorKind.TIMEOUT, f"{host} did not answer in time") from None
            except (OSError, http.client.HTTPException) as e:
                message = f"the exchange with {host} broke: {type(e).__name__}: {e}"
                raise TransportError(TransportErrorKind.PROTOCOL, message) from None
        finally:
            connection.close()
        return Response(answer.status, [Header(name.lower(), value) for name, value in answer.getheaders()], body)

    def now_ms(self) -> int:
        """The time now, in unix milliseconds."""
        return time.time_ns() // 1_000_000

    def sleep_until(self, until_ms: int) -> None:
        """Returns at unix millisecond `until_ms`, or soon after."""
        time.sleep(max(0, until_ms - self.now_ms()) / 1000)

    async def sleep_until_async(self, until_ms: int) -> None:
        """Completes at unix millisecond `until_ms`, or soon after."""
        await asyncio.sleep(max(0, until_ms - self.now_ms()) / 1000)

    def read_file(self, path: str, max_len: int) -> str:
        """The text of the file at `path` (the Azure Arc agent's key). Raises
        `OSError` if it cannot be read, is larger than `max_len` bytes or is
        not UTF-8."""
        with open(path, "rb") as file:
            data = file.read(max_len + 1)
        if len(data) > max_len:
            raise OSError(errno.EFBIG, f"the file is larger than {max_len} bytes")
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise OSError(errno.EILSEQ, "the file is not UTF-8 text") from None


#: Where the Azure Arc agent keeps the key files its endpoint's challenge
#: names, on Linux: the flow names them at this path.
ARC_KEY_DIRECTORY = "/var/opt/azcmagent/tokens"

#: The instance metadata service (host, port), which every login may reach
#: over plain HTTP.
_METADATA_ORIGIN = ("169.254.169.254", 80)


def _http_origin(url: str) -> tuple[str, int] | None:
    """The (host, port) of an `http://` URL, an IP address in its short
    form; `None` for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        return None
    host = parts.hostname or ""
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return host, parts.port or 80
    except ValueError:
        # An invalid port, which no allowed origin has.
        return host, -1


def _is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Driver:
    """What a login does for a `Send` or `ReadFile` step, over `transport`:
    plain HTTP only to the metadata service and to the loopback endpoint
    (host and port) a managed identity's source names; files only from the
    Azure Arc agent's key directory, found at `arc_key_directory`."""

    def __init__(
        self, credentials: Credentials, transport: Transport, arc_key_directory: str | os.PathLike[str] | None
    ) -> None:
        self.transport = transport
        self.arc_key_directory = ARC_KEY_DIRECTORY if arc_key_directory is None else os.fspath(arc_key_directory)
        self.plain_http = {_METADATA_ORIGIN}
        if isinstance(credentials, ManagedIdentity):
            endpoint = getattr(credentials.source, "endpoint", "")
            origin = _http_origin(endpoint)
            if origin is not None and _is_loopback(origin[0]):
                self.plain_http.add(origin)

    def send(self, outgoing: Outgoing) -> Event:
        """What sending `outgoing` gave, as the flow's event: a plain-HTTP
        request to anywhere else fails unsent, as `CONNECT`."""
        origin = _http_origin(outgoing.request.url)
        if origin is not None and origin not in self.plain_http:
            message = (
                f"refused to send plain HTTP to {origin[0]}:{origin[1]}: only the metadata service and "
                "the managed identity's loopback endpoint are reached without TLS"
            )
            return TransportFailed(TransportError(TransportErrorKind.CONNECT, message))
        try:
            return Responded(self.transport.send(outgoing))
        except TransportError as e:
            return TransportFailed(e)

    def read(self, file: FileToRead) -> Event:
        """What reading `file` gave, as the flow's event: only a `.key` file
        directly in the Arc agent's key directory is read, at most
        `file.max_len` bytes; a failure's reason is without the path, which
        the flow names itself."""
        directory, _, name = file.path.rpartition("/")
        if directory != ARC_KEY_DIRECTORY or not name.endswith(".key") or "\\" in name or "\0" in name:
            return FileFailed(f"the host reads only the Azure Arc agent's key files, in {ARC_KEY_DIRECTORY}")
        try:
            return FileRead(self.transport.read_file(os.path.join(self.arc_key_directory, name), file.max_len))
        except OSError as e:
            return FileFailed(e.strerror or str(e))


def login(
    reference: str,
    credentials: Credentials,
    options: LoginOptions | None = None,
    *,
    transport: Transport | None = None,
    arc_key_directory: str | os.PathLike[str] | None = None,
) -> LoginResult:
    """Logs in to the registry `reference` names with `credentials` (an Entra
    token as a `str`, or an `Identity`) and `options`: a `LoginFlow` driven to
    its end over `transport` (a `Transport()` when none).

    Requests go over HTTPS, or over plain HTTP only to the instance metadata
    service (`http://169.254.169.254`) and to the loopback endpoint
    (`localhost`, `127.0.0.0/8`, `[::1]`; that host and port) a managed
    identity's source names, which App Service, Azure Arc and Cloud Shell
    serve without TLS; any other plain-HTTP request fails unsent. The one file
    read is the Azure Arc agent's key, a `.key` file directly in
    `/var/opt/azcmagent/tokens`, which `arc_key_directory` (when given) says
    where to find on this machine.

    Returns the `LoginResult`; raises `LoginError`.
    """
    transport = transport or Transport()
    driver = _Driver(credentials, transport, arc_key_directory)
    with LoginFlow(reference, credentials, options) as flow:
        event: Event = Start()
        while True:
            match flow.step(transport.now_ms(), event):
                case Send(outgoing):
                    event = driver.send(outgoing)
                case Wait(until_ms):
                    transport.sleep_until(until_ms)
                    event = Woke()
                case ReadFile(file):
                    event = driver.read(file)
                case Done(result):
                    return result
                case Failed(error):
                    raise error


async def login_async(
    reference: str,
    credentials: Credentials,
    options: LoginOptions | None = None,
    *,
    transport: Transport | None = None,
    arc_key_directory: str | os.PathLike[str] | None = None,
) -> LoginResult:
    """`login` on an asyncio event loop: the same flow, each request and file
    read in a worker thread (`asyncio.to_thread`) and each wait an
    `asyncio.sleep`, so the loop runs other tasks meanwhile."""
    transport = transport or Transport()
    driver = _Driver(credentials, transport, arc_key_directory)
    with LoginFlow(reference, credentials, options) as flow:
        event: Event = Start()
        while True:
            match flow.step(transport.now_ms(), event):
                case Send(outgoing):
                    event = await asyncio.to_thread(driver.send, outgoing)
                case Wait(until_ms):
                    await transport.sleep_until_async(until_ms)
                    event = Woke()
                case ReadFile(file):
                    event = await asyncio.to_thread(driver.read, file)
                case Done(result):
                    return result
                case Failed(error):
                    raise error


#: The most bytes of a federated token file that are read: twice the longest
#: token the component takes (32 KiB), so that the component, not this read,
#: refuses a token that is too long.
MAX_TOKEN_FILE_LEN = 64 * 1024


def read_identity_from_environment(
    variables: Mapping[str, str] | Iterable[tuple[str, str]] | None = None, *, transport: Transport | None = None
) -> Identity:
    """The identity the environment `variables` (`os.environ` when `None`)
    describe, ready for `login` or `LoginFlow`: `identity_from_environment`,
    with a workload identity's token file read (by `transport.read_file`, at
    most 64 KiB, trailing line breaks dropped) into a `FederatedToken`. Call
    it for each login: the platform rotates the token.

    Raises `IdentityEnvironmentError` as `identity_from_environment` does,
    and `UNSUPPORTED` for a client certificate, with which the caller signs a
    client assertion itself; `OSError` if the token file cannot be read.
    """
    match identity_from_environment(os.environ if variables is None else variables):
        case Ready(identity):
            return identity
        case FederatedTokenFile(tenant, client_id, path, authority_host):
            token = (transport or Transport()).read_file(path, MAX_TOKEN_FILE_LEN)
            return FederatedToken(tenant, client_id, token.rstrip("\r\n"), authority_host)
        case CertificateFile():
            message = (
                "AZURE_CLIENT_CERTIFICATE_PATH names a client certificate, which is not read here: "
                "sign a client assertion with it and log in with a FederatedToken"
            )
            raise IdentityEnvironmentError(EnvironmentErrorKind.UNSUPPORTED, message)
    raise AssertionError("no other environment identity")
