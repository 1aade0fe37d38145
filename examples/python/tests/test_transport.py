"""The standard-library `Transport` against loopback servers written here,
byte by byte: what it sends, what it reads, and how each failure maps to a
transport error kind. Every server serves one connection and gives up
within seconds."""

import errno
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import acr_auth

#: How long a server waits for its client, at most.
SERVER_PATIENCE = 5.0


class OneConnection:
    """A loopback TCP server that accepts one connection, records the request
    (its head and the body its `content-length` announces; or, unless `http`,
    the first bytes that come) and answers with `reply`."""

    def __init__(self, reply: Callable[[socket.socket], None], http: bool = True) -> None:
        self.http = http
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(SERVER_PATIENCE)
        self.port = self.listener.getsockname()[1]
        self.reply = reply
        self.received = b""
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except TimeoutError:
            return
        if self.stopping:
            connection.close()
            return
        self.connections += 1
        with connection:
            connection.settimeout(SERVER_PATIENCE)
            head = connection.recv(4096)
            while self.http and b"\r\n\r\n" not in head:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                head += chunk
            head, _, body = head.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += connection.recv(4096)
            self.received = head + b"\r\n\r\n" + body
            self.reply(connection)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        """Waits for the server to finish; one that still waits for its
        connection gets one that it drops."""
        if self.connections == 0:
            self.stopping = True
            socket.create_connection(("127.0.0.1", self.port)).close()
        self.thread.join(SERVER_PATIENCE)
        self.listener.close()


@pytest.fixture
def server() -> Iterator[Callable[..., OneConnection]]:
    """Starts loopback servers, closed after the test."""
    started: list[OneConnection] = []

    def start(reply: Callable[[socket.socket], None], http: bool = True) -> OneConnection:
        started.append(OneConnection(reply, http))
        return started[-1]

    yield start
    for one in started:
        one.close()


def answer(raw: bytes, then: Callable[[], object] = lambda: None) -> Callable[[socket.socket], None]:
    """A reply that sends `raw`, then does `then` (say, waits) before closing."""

    def reply(connection: socket.socket) -> None:
        connection.sendall(raw)
        then()

    return reply


def outgoing(
    url: str,
    method: str = "GET",
    headers: list[acr_auth.Header] | None = None,
    body: bytes = b"",
    timeout_ms: int = 2000,
    max_response_len: int = 65536,
) -> acr_auth.Outgoing:
    """An outgoing request with the same timeout for every phase."""
    request = acr_auth.Request(method, url, headers or [], body)
    return acr_auth.Outgoing(request, timeout_ms, timeout_ms, timeout_ms, max_response_len)


def send_error(transport: acr_auth.Transport, request: acr_auth.Outgoing) -> acr_auth.TransportError:
    """The transport error sending `request` raises."""
    with pytest.raises(acr_auth.TransportError) as caught:
        transport.send(request)
    return caught.value


def test_a_request_goes_out_exactly_as_given_and_the_answer_comes_back(server) -> None:
    one = server(
        answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Ms-Correlation-Request-Id: c0ffee\r\n"
            b'Content-Length: 17\r\n\r\n{"refresh_token"}'
        )
    )
    headers = [
        acr_auth.Header("content-type", "application/x-www-form-urlencoded"),
        acr_auth.Header("accept", "application/json"),
    ]
    body = b"grant_type=access_token&service=myregistry.azurecr.io&access_token=eyJ0eXAi.e30.c2ln"
    response = acr_auth.Transport().send(outgoing(one.url("/oauth2/exchange?a=1"), "POST", headers, body))
    one.close()
    assert one.received == (
        b"POST /oauth2/exchange?a=1 HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{one.port}\r\n".encode()
        + b"content-type: application/x-www-form-urlencoded\r\naccept: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert response == acr_auth.Response(
        200,
        [
            acr_auth.Header("content-type", "application/json"),
            acr_auth.Header("x-ms-correlation-request-id", "c0ffee"),
            acr_auth.Header("content-length", "17"),
        ],
        b'{"refresh_token"}',
    )


def test_a_request_without_a_body_has_no_content_length(server) -> None:
    one = server(answer(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"))
    response = acr_auth.Transport().send(
        outgoing(one.url("/v2/"), headers=[acr_auth.Header("accept", "application/json")])
    )
    one.close()
    assert (
        one.received == f"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{one.port}\r\naccept: application/json\r\n\r\n".encode()
    )
    assert response.status == 401


def test_a_redirect_comes_back_as_a_response_and_is_not_followed(server) -> None:
    elsewhere = server(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    location = elsewhere.url("/stolen")
    one = server(
        answer(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
    )
    response = acr_auth.Transport().send(outgoing(one.url("/oauth2/exchange"), "POST", body=b"access_token=x"))
    assert (response.status, response.headers[0]) == (307, acr_auth.Header("location", location))
    one.close()
    assert elsewhere.connections == 0


def test_no_connection_is_a_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    error = send_error(acr_auth.Transport(), outgoing(f"http://127.0.0.1:{port}/v2/"))
    assert error.kind is acr_auth.TransportErrorKind.CONNECT, error


def test_no_first_byte_in_time_is_a_timeout(server) -> None:
    finished = threading.Event()
    one = server(lambda connection: finished.wait(SERVER_PATIENCE))
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/"), timeout_ms=200))
    finished.set()
    assert error.kind is acr_auth.TransportErrorKind.TIMEOUT, error


def test_a_body_that_stops_coming_is_a_timeout(server) -> None:
    finished = threading.Event()
    one = server(
        answer(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"refresh', lambda: finished.wait(SERVER_PATIENCE))
    )
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/"), timeout_ms=200))
    finished.set()
    assert error.kind is acr_auth.TransportErrorKind.TIMEOUT, error


def test_a_declared_length_over_the_cap_is_too_large_and_not_read(server) -> None:
    # The body never comes: reading it would time out instead.
    finished = threading.Event()
    one = server(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n", lambda: finished.wait(SERVER_PATIENCE)))
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/"), timeout_ms=2000))
    finished.set()
    assert error.kind is acr_auth.TransportErrorKind.TOO_LARGE, error


def chunked(body: bytes) -> bytes:
    """A chunked HTTP/1.1 response carrying `body` in 1000-byte chunks."""
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    encoded = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded + b"0\r\n\r\n"


def test_a_chunked_body_over_the_cap_is_too_large(server) -> None:
    one = server(answer(chunked(b"x" * 65537)))
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/")))
    assert error.kind is acr_auth.TransportErrorKind.TOO_LARGE, error


def test_a_body_of_exactly_the_cap_is_read(server) -> None:
    one = server(answer(chunked(b"x" * 65536)))
    assert acr_auth.Transport().send(outgoing(one.url("/v2/"))).body == b"x" * 65536


def test_a_body_cut_short_is_a_protocol_error(server) -> None:
    one = server(answer(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"refresh'))
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/")))
    assert error.kind is acr_auth.TransportErrorKind.PROTOCOL, error


def test_an_answer_that_is_not_http_is_a_protocol_error(server) -> None:
    one = server(answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/")))
    assert error.kind is acr_auth.TransportErrorKind.PROTOCOL, error


def test_a_failed_handshake_is_a_tls_error(server) -> None:
    # A plain HTTP server: its answer to the ClientHello is no TLS record.
    one = server(answer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), http=False)
    error = send_error(acr_auth.Transport(), outgoing(one.url("/v2/", "https")))
    assert error.kind is acr_auth.TransportErrorKind.TLS, error


def test_a_url_that_is_neither_https_nor_http_is_not_sent() -> None:
    error = send_error(acr_auth.Transport(), outgoing("ftp://127.0.0.1/v2/"))
    assert error.kind is acr_auth.TransportErrorKind.PROTOCOL, error


def test_cafile_and_ssl_context_are_one_or_the_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        acr_auth.Transport(cafile=tmp_path / "ca.pem", ssl_context=acr_auth.Transport().ssl_context)


def test_a_key_file_is_read_up_to_its_cap(tmp_path: Path) -> None:
    transport, key = acr_auth.Transport(), tmp_path / "machine.key"
    key.write_text("a" * 4096)
    assert transport.read_file(str(key), 4096) == "a" * 4096
    key.write_text("a" * 4097)
    with pytest.raises(OSError) as caught:
        transport.read_file(str(key), 4096)
    assert caught.value.errno == errno.EFBIG
    key.write_bytes(b"\xff\xfe")
    with pytest.raises(OSError) as caught:
        transport.read_file(str(key), 4096)
    assert caught.value.errno == errno.EILSEQ
    with pytest.raises(FileNotFoundError):
        transport.read_file(str(tmp_path / "missing.key"), 4096)
