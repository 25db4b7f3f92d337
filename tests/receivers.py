"""Local receivers for delivery tests, on 127.0.0.1 in a thread: an HTTP webhook and an SMTP sink.

The SMTP sink speaks the little of RFC 5321 smtplib uses without authentication (EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT): Python 3.12 drops `smtpd`, and one small class beats a dependency.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _InThread:
    """A socketserver served from a daemon thread while the `with` block runs."""

    def _serve(self, server) -> None:
        self.server = server
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver(_InThread):
    """Records every POST (path, JSON body); answers `status` (settable), after `delay` seconds."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay, self.requests = status, delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(body)})
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


class SmtpSink(_InThread):
    """Accepts every message; `messages` holds (mail from, [rcpt to], email.message.EmailMessage).
    `reply_to_data` replaces the 250 after DATA (e.g. b'451 try later') to simulate a failure."""

    def __init__(self, reply_to_data: bytes = b"250 OK"):
        self.messages, self.reply_to_data = [], reply_to_data
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.send(b"220 sink ready")
                mail_from, rcpt = None, []
                while line := self.rfile.readline():
                    verb = line.strip().split(b" ", 1)[0].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.send(b"250 sink")
                    elif verb == b"MAIL":
                        mail_from, rcpt = line.strip()[10:].decode(), []
                        self.send(b"250 OK")
                    elif verb == b"RCPT":
                        rcpt.append(line.strip()[8:].decode())
                        self.send(b"250 OK")
                    elif verb == b"DATA":
                        self.send(b"354 end with <CRLF>.<CRLF>")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        if sink.reply_to_data.startswith(b"250"):
                            sink.messages.append((mail_from, rcpt, message_from_bytes(data, policy=policy.default)))
                        self.send(sink.reply_to_data)
                    elif verb in (b"RSET", b"NOOP"):
                        self.send(b"250 OK")
                    elif verb == b"QUIT":
                        self.send(b"221 bye")
                        return
                    else:
                        self.send(b"502 not implemented")

            def send(self, reply: bytes):
                self.wfile.write(reply + b"\r\n")

        self._serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
