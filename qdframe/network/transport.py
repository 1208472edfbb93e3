"""HTTP calls to one sharing server, with the standard library only.

The client must work on a plain ``pip install qdframe`` (no ``server`` extra),
so it speaks HTTP through :mod:`urllib`. Every failure is classified: the
server is unavailable (try the next one), it asked us to slow down, or it
rejected the request (trying elsewhere will not help).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qdframe._version import __version__

__all__ = ["RateLimited", "Rejected", "Reply", "ServerUnavailable", "TransportError", "call"]

_USER_AGENT = f"qdframe/{__version__}"
_MAX_REPLY_BYTES = 16 * 1024 * 1024


class TransportError(Exception):
    """A call to a server did not give a usable answer."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.message = message


class ServerUnavailable(TransportError):
    """No answer, a timeout, a server error or an unreadable reply."""


class RateLimited(TransportError):
    """429: try again after ``retry_after_s``."""

    def __init__(self, url: str, message: str, retry_after_s: float) -> None:
        super().__init__(url, message)
        self.retry_after_s = retry_after_s


class Rejected(TransportError):
    """4xx: the request itself is wrong; ``problem`` is the server's explanation."""

    def __init__(self, url: str, status: int, problem: Mapping[str, Any]) -> None:
        detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
        super().__init__(url, str(detail))
        self.status = status
        self.problem = dict(problem)


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]
    headers: Mapping[str, str]


def _join(base: str, path: str, query: Mapping[str, str | None] | None) -> str:
    url = base.rstrip("/") + path
    params = {k: v for k, v in (query or {}).items() if v is not None}
    if params:
        url += "?" + urllib.parse.urlencode(params)
    return url


def _decode(url: str, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServerUnavailable(url, f"reply is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ServerUnavailable(url, "reply is not a JSON object")
    return data


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0


def call(
    method: str,
    base_url: str,
    path: str,
    *,
    timeout_s: float,
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, str | None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send one request and return the decoded JSON reply.

    :raises ServerUnavailable: no usable answer (connection, timeout, 5xx, junk).
    :raises RateLimited: the server answered 429.
    :raises Rejected: the server answered another 4xx.
    """
    url = _join(base_url, path, query)
    if not url.startswith(("http://", "https://")):
        raise ServerUnavailable(url, "server address must start with http:// or https://")
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", _USER_AGENT)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            raw = response.read(_MAX_REPLY_BYTES)
            return Reply(response.status, _decode(url, raw), dict(response.headers.items()))
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            raw = exc.read(_MAX_REPLY_BYTES)
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            exc.close()
        if status >= 500:
            raise ServerUnavailable(url, f"server error HTTP {status}") from None
        try:
            problem = json.loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        if status == 429:
            raise RateLimited(
                url,
                str(problem.get("detail", "rate limited")),
                _retry_after(exc.headers.get("Retry-After")),
            ) from None
        raise Rejected(url, status, problem) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServerUnavailable(url, f"unreachable ({reason})") from None
    except (http.client.HTTPException, OSError) as exc:
        raise ServerUnavailable(url, f"connection failed ({type(exc).__name__}: {exc})") from None
