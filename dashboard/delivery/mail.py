"""Send one email through SMTP (smtplib): plain text with an HTML alternative."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from dashboard.delivery.retry import DeliveryError


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "dashboard@localhost"


def message(server: SmtpServer, recipient: str, subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = server.sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=server.sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(server: SmtpServer, msg: EmailMessage, timeout: float) -> None:
    """One attempt; DeliveryError with the cause (the password is never in it)."""
    try:
        cls = smtplib.SMTP_SSL if server.security == "ssl" else smtplib.SMTP
        with cls(server.host, server.port, timeout=timeout) as smtp:
            if server.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if server.user:
                smtp.login(server.user, server.password)
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(str(code) for code, _ in exc.recipients.values())
        raise DeliveryError(f"the SMTP server refused the recipient (code {codes})", transient=False) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused (code {exc.smtp_code})", transient=False) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(f"the SMTP server answered {exc.smtp_code} {text.strip()[:200]}",
                            transient=exc.smtp_code < 500) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"SMTP error: {type(exc).__name__}") from None
    except ConnectionRefusedError:
        raise DeliveryError("connection refused (no SMTP server at that host and port)") from None
    except (TimeoutError, socket.timeout):
        raise DeliveryError(f"no answer within {timeout:g} s (timed out)") from None
    except OSError as exc:
        raise DeliveryError(f"network error: {exc.strerror or type(exc).__name__}") from None
