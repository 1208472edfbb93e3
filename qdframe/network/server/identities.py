"""Installation identities the server issues: signed, stateless tokens.

A token is ``v1.<install id>.<signature>`` where the signature is an
HMAC-SHA256 of the id under the server's secret; any process that holds the
secret (every process sharing one database reads it from there) can check a
token without a lookup, and nobody without the secret can make one.

Registration is two steps. ``GET /api/network/register`` hands out a signed
challenge (expiry, random part, difficulty); ``POST /api/network/register``
with the challenge and a proof-of-work nonce returns the token. The install
id is derived from the challenge, so replaying a solved challenge gives the
same identity again, never a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from qdframe.network.proof import satisfies

__all__ = ["Challenge", "IdentityIssuer", "RegistrationError"]

_TOKEN = re.compile(r"^v1\.([0-9a-f]{32})\.([0-9a-f]{64})$")
_CHALLENGE = re.compile(r"^c1\.([0-9]{1,12})\.([0-9a-f]{32})\.([0-9]{1,2})\.([0-9a-f]{64})$")


class RegistrationError(Exception):
    """A registration attempt was refused; the message says why."""


@dataclass(frozen=True)
class Challenge:
    """A registration puzzle."""

    challenge: str
    difficulty_bits: int
    expires_at: int


class IdentityIssuer:
    """Signs and checks identities and registration challenges.

    :param secret: the server's signing key (at least 32 bytes).
    :param difficulty_bits: proof of work asked of each registration (0: none).
    :param challenge_ttl_s: how long a challenge may be answered.
    """

    def __init__(
        self, secret: bytes, *, difficulty_bits: int = 0, challenge_ttl_s: float = 600.0
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the identity secret must be at least 32 bytes")
        self._secret = secret
        self.difficulty_bits = difficulty_bits
        self.challenge_ttl_s = challenge_ttl_s

    def _mac(self, purpose: str, message: str) -> str:
        data = f"qdframe-{purpose}-v1\x00{message}".encode()
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------ challenges
    def challenge(self, now: float | None = None) -> Challenge:
        """A fresh challenge at the current difficulty."""
        expires = int((time.time() if now is None else now) + self.challenge_ttl_s)
        body = f"c1.{expires}.{secrets.token_hex(16)}.{self.difficulty_bits}"
        return Challenge(f"{body}.{self._mac('challenge', body)}", self.difficulty_bits, expires)

    def register(self, challenge: str, nonce: str, now: float | None = None) -> str:
        """The install id for a solved challenge.

        :raises RegistrationError: the challenge is forged, expired, easier than
            the current difficulty, or the nonce does not solve it.
        """
        found = _CHALLENGE.match(challenge)
        if found is None:
            raise RegistrationError("malformed challenge; get one from GET /api/network/register")
        expires, _, bits_text, mac = found.groups()
        body = challenge.rsplit(".", 1)[0]
        if not hmac.compare_digest(mac, self._mac("challenge", body)):
            raise RegistrationError("the challenge was not issued by this server")
        if int(expires) < (time.time() if now is None else now):
            raise RegistrationError("the challenge has expired; get a new one")
        bits = int(bits_text)
        if bits < self.difficulty_bits:
            raise RegistrationError(
                f"the challenge asks for {bits} bits of work; this server now needs "
                f"{self.difficulty_bits}; get a new one"
            )
        if not satisfies(challenge, nonce, bits):
            raise RegistrationError(f"the nonce does not solve the {bits}-bit proof of work")
        return self._mac("install-id", challenge)[:32]

    # ------------------------------------------------------------ tokens
    def token(self, install_id: str) -> str:
        """The bearer token of ``install_id``."""
        return f"v1.{install_id}.{self._mac('identity', install_id)}"

    def verify(self, token: str) -> str | None:
        """The install id of a genuine token, ``None`` for anything else."""
        found = _TOKEN.match(token)
        if found is None:
            return None
        install_id, mac = found.groups()
        if not hmac.compare_digest(mac, self._mac("identity", install_id)):
            return None
        return install_id

    @staticmethod
    def bearer(header: str | None) -> str | None:
        """The token of an ``Authorization: Bearer ...`` header value."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()
