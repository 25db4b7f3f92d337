"""POST a JSON payload to a webhook (Slack incoming webhooks and any HTTP receiver) with urllib."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from dashboard.delivery.retry import DeliveryError

USER_AGENT = "offline-online-dashboard-alerts/1"


def check_url(url: str) -> None:
    """Only http(s): urllib would also open file:// and ftp:// addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a webhook must be an http:// or https:// URL with a host "
                         f"(got one starting {parts.scheme or '(no scheme)'}://)")


def post(url: str, payload: dict, timeout: float) -> None:
    """One attempt; DeliveryError names the cause (the URL is never in it: it carries the token)."""
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise DeliveryError(f"the receiver answered HTTP {exc.code} {exc.reason}", transient) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(_reason(exc.reason, timeout)) from None
    except (TimeoutError, socket.timeout):
        raise DeliveryError(f"no answer within {timeout:g} s (timed out)") from None
    except (ConnectionError, OSError) as exc:
        raise DeliveryError(_reason(exc, timeout)) from None


def _reason(reason, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (nothing listens at that host and port)"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(reason, socket.gaierror):
        return f"the host name does not resolve ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return f"network error: {reason.strerror}"
    return f"network error: {type(reason).__name__}"
