"""HTTP/TLS plumbing: a threading HTTPS server whose handler hands parsed requests to the emulator."""

import http.server
import os
import socket
import ssl
import struct
import sys
import threading
from urllib.parse import parse_qsl, urlsplit

from .messages import Request

QUIET_ERRORS = (ConnectionError, ssl.SSLError, TimeoutError, socket.timeout)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: msal and requests reuse one TLS connection
    disable_nagle_algorithm = True  # else every response waits ~40 ms for the delayed ACK
    server_version = "graph-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections end after this

    def do_GET(self):  # pylint: disable=invalid-name
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self):
        body = self._read_body()
        parts = urlsplit(self.path)
        req = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), self.headers, body,
                      self.server.base_url)
        self._write(self.server.app.handle(req))

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, response):
        if response.transport in ("drop", "reset"):
            self.close_connection = True
            if response.transport == "reset":
                # SO_LINGER 0 turns close() into an abortive close: the client gets a TCP RST.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            return
        if response.transport == "tls_corrupt":
            # A TLS record whose MAC cannot verify, written past the TLS layer: the client's TLS session breaks
            # after the request was sent and processed (an SSLError while reading the answer).
            socket.socket.sendall(self.connection, b"\x17\x03\x03\x00\x20" + os.urandom(32))
            self.close_connection = True
            return
        if response.transport == "tls_plaintext":
            # The answer in plain text, past the TLS layer, after the request was read and processed: the client's
            # TLS layer reads "HTTP/1.1" as a record header (WRONG_VERSION_NUMBER), as from a plaintext server.
            head = f"HTTP/1.1 {response.status} OK\r\nContent-Length: {len(response.body)}\r\nConnection: close\r\n\r\n"
            socket.socket.sendall(self.connection, head.encode("ascii") + response.body)
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.transport == "truncate":
            self.wfile.write(response.body[:len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silent: the emulator keeps its own request log."""


class TLSServer(http.server.ThreadingHTTPServer):
    """Accepts on the main socket and runs the TLS handshake in the per-connection thread."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections
    request_queue_size = 128

    def __init__(self, address, ssl_context, app):
        super().__init__(address, _Handler)
        self.ssl_context = ssl_context
        self.app = app
        self.base_url = None
        self._open = set()
        self._open_lock = threading.Lock()

    def finish_request(self, request, client_address):
        request.settimeout(30)  # bounds the handshake; the handler sets its own timeout afterwards
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with self._open_lock:
                self._open.discard(tls)
            try:
                tls.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            tls.close()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], QUIET_ERRORS):
            return  # clients that time out or faults that drop connections are normal here
        super().handle_error(request, client_address)

    def close_connections(self):
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
