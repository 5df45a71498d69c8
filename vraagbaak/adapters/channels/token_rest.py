"""REST channel for trusted back ends only: every POST needs the bearer token from the environment."""
from __future__ import annotations

import hmac
from typing import Any, Dict

from sanic.exceptions import InvalidUsage
from sanic.request import Request

from vraagbaak.adapters.channels import header_bytes
from vraagbaak.adapters.channels.rest import SafeRestInput
from vraagbaak.core.settings import MIN_SECRET_LENGTH, REST_TOKEN_ENV, ConfigError, Settings


class RestTokenRejected(InvalidUsage):
    """A REST request without the right token."""

    status_code = 401


def _bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class TokenRestInput(SafeRestInput):
    """REST channel for trusted back ends only: every POST needs `Authorization: Bearer <token>`.

    Why: the REST channel lets the caller choose the sender id. Without a token, anyone who knows or guesses
    someone's sender id can write into that conversation and change what the bot answers them next.
    """

    def __init__(self, token: str) -> None:
        if len(token) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{REST_TOKEN_ENV} ontbreekt of is te kort; het REST-kanaal start niet.")
        self._token = token

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> TokenRestInput:
        """Read the token from the environment variable named in credentials (never from the file)."""
        name = (credentials or {}).get("token_env", REST_TOKEN_ENV)
        return cls(Settings.secret(str(name)))

    def token_ok(self, request: Request) -> bool:
        """Constant-time comparison with the configured token."""
        return hmac.compare_digest(header_bytes(_bearer_token(request)), self._token.encode())

    def check_access(self, request: Request) -> None:
        """Refuses a request without the right token, before its body is read."""
        if not self.token_ok(request):
            raise RestTokenRejected("token ontbreekt of klopt niet")
