"""Credentials (a bearer token, basic auth) and JWT minting with PyJWT.

Example:
    >>> BearerToken("abc.def.ghi").authorization
    'Bearer abc.def.ghi'
    >>> BasicAuth("alice", "pw").authorization
    'Basic YWxpY2U6cHc='
    >>> BearerToken("abc.def.ghi")   # the token never shows in a repr
    BearerToken(user=None)
"""

from __future__ import annotations

import base64
import secrets as random
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from interlock._core.errors import InterlockError


@dataclass(frozen=True)
class BearerToken:
    """``Authorization: Bearer <token>``; ``user`` is whose token it is, when known."""

    token: str = field(repr=False)
    user: str | None = None

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


@dataclass(frozen=True)
class BasicAuth:
    """``Authorization: Basic base64(username:password)``."""

    username: str
    password: str = field(repr=False)

    @property
    def authorization(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


Credentials = BearerToken | BasicAuth


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read without checking its signature; None if it is no JWT.

    Example:
        >>> claims_of(jwt.encode({"sub": "tom"}, "k" * 32, algorithm="HS256"))
        {'sub': 'tom'}
        >>> claims_of("opaque-token") is None
        True
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def header_of(token: str) -> dict[str, Any]:
    """The JOSE header of a JWT (``alg``, ``kid``), or {} if it is no JWT."""
    try:
        return dict(jwt.get_unverified_header(token))
    except jwt.PyJWTError:
        return {}


def sign(claims: dict[str, Any], key: Any, algorithm: str, key_id: str | None = None) -> str:
    """A JWT with these claims, signed with ``key``."""
    headers = {"kid": key_id} if key_id else None
    try:
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers)
    except (jwt.PyJWTError, ValueError, TypeError) as err:
        raise InterlockError(
            f"Cannot sign a {algorithm} token: {err}",
            hint="Check auth.signing: an HS* algorithm takes a secret, RS*/PS* an RSA "
            "private key, ES* an EC private key (PEM).",
        ) from None


def random_key(algorithm: str) -> Any:
    """A fresh key of the kind ``algorithm`` signs with: the "wrong key" no service trusts."""
    if algorithm.startswith("HS"):
        return random.token_urlsafe(48)
    if algorithm.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
        return ec.generate_private_key(curve.get(algorithm, ec.SECP256R1()))
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise InterlockError(
        f'Cannot make a wrong key for algorithm "{algorithm}"',
        hint="Supported: HS*, RS*, PS*, ES*, EdDSA.",
    )
