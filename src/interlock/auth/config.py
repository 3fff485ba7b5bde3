"""The ``auth:`` section of the suite configuration: the signing key and the users.

Values are kept as written (templates such as ``"{env.JWT_SECRET}"``); they are rendered with
the suite's ``Scope`` when a user logs in, so a missing variable is reported then, naming the
user.

Example:
    >>> config = AuthConfig.from_dict({
    ...     "signing": {"algorithm": "HS256", "secret": "{env.JWT_SECRET}"},
    ...     "users": {
    ...         "customer": {"login": {"service": "auth", "path": "/auth/login",
    ...                                "json": {"username": "alice", "password": "pw"}}},
    ...         "technician": {"jwt": {"claims": {"sub": "tom"}, "ttl": 600}},
    ...     },
    ... }, "interlock.yaml: auth")
    >>> sorted(config.users), config.users["customer"].flow.token
    (['customer', 'technician'], '$.access_token')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from interlock._core.config import field_where
from interlock._core.errors import InterlockError, did_you_mean
from interlock._core.stackfile import block

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
KEY_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
GRANTS = ("client_credentials", "password")
DEFAULT_TOKEN_PATH = "$.access_token"


@dataclass(frozen=True)
class SigningConfig:
    """The key that locally minted tokens are signed with: the one the services trust.

    HMAC algorithms take ``secret``; the others ``private_key_file`` (relative to the suite
    folder) or ``private_key`` (PEM text, e.g. ``"{env.JWT_PRIVATE_KEY}"``).

    Example:
        >>> SigningConfig.from_dict({"algorithm": "RS256", "private_key_file": "keys/p.pem"},
        ...                         "interlock.yaml:3").private_key_file
        'keys/p.pem'
    """

    algorithm: str
    secret: str | None = None
    private_key_file: str | None = None
    private_key: str | None = None
    key_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "auth.signing") -> Self:
        fields = _fields(data, where, name, "auth.signing")
        algorithm = fields["algorithm"]
        if algorithm not in HMAC_ALGORITHMS + KEY_ALGORITHMS:
            raise InterlockError(
                f'{name}.algorithm: unknown algorithm "{algorithm}"',
                where=where,
                hint=did_you_mean(str(algorithm), list(HMAC_ALGORITHMS + KEY_ALGORITHMS)),
            )
        keys = [k for k in ("secret", "private_key_file", "private_key") if k in fields]
        wanted = (
            ("secret",) if algorithm in HMAC_ALGORITHMS else ("private_key_file", "private_key")
        )
        if len(keys) != 1 or keys[0] not in wanted:
            raise InterlockError(
                f"{name}: {algorithm} needs exactly one of {' or '.join(wanted)}"
                + (f", got {', '.join(keys)}" if keys else ""),
                where=where,
                hint='e.g. signing: {algorithm: HS256, secret: "{env.JWT_SECRET}"} or '
                "{algorithm: RS256, private_key_file: keys/private.pem}",
            )
        return cls(**fields)


@dataclass(frozen=True)
class LoginFlow:
    """Log in by posting JSON or a form to an endpoint of a service and reading the token.

    Example:
        >>> LoginFlow.from_dict({"service": "auth", "path": "/login", "form": {"u": "x"}},
        ...                     "interlock.yaml:3").token
        '$.access_token'
    """

    service: str
    path: str
    json: Any = None
    form: Mapping[str, Any] | None = None
    token: str = DEFAULT_TOKEN_PATH

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "login") -> Self:
        fields = _fields(data, where, name, "auth.users.<user>.login")
        if ("json" in fields) == ("form" in fields):
            raise InterlockError(
                f"{name}: give the login body as json or as form (one of them)",
                where=where,
                hint='e.g. json: {username: alice, password: "{secrets.alice}"}',
            )
        if "form" in fields and not isinstance(fields["form"], Mapping):
            raise _wrong_type(where, f"{name}.form", "a mapping of field names to values")
        return cls(**fields)


@dataclass(frozen=True)
class OAuth2Flow:
    """An OAuth2 token request: the client_credentials or the password grant.

    ``client_auth`` is ``body`` (client_id and client_secret as form fields) or ``basic``
    (HTTP basic auth, RFC 6749 section 2.3.1). ``token_url`` is a full URL
    (``"{auth.url}/oauth/token"``), or a path with ``service``.

    Example:
        >>> OAuth2Flow.from_dict({"grant": "client_credentials", "client_id": "robot",
        ...                       "client_secret": "s", "token_url": "{auth.url}/token"},
        ...                      "interlock.yaml:3").client_auth
        'body'
    """

    grant: str
    token_url: str
    client_id: str
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    service: str | None = None
    client_auth: str = "body"
    token: str = DEFAULT_TOKEN_PATH

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "oauth2") -> Self:
        fields = _fields(data, where, name, "auth.users.<user>.oauth2")
        if fields["grant"] not in GRANTS:
            raise InterlockError(
                f'{name}.grant: unknown grant "{fields["grant"]}"',
                where=where,
                hint=did_you_mean(str(fields["grant"]), list(GRANTS)),
            )
        if fields["grant"] == "password" and not {"username", "password"} <= fields.keys():
            raise InterlockError(
                f"{name}: the password grant needs username and password", where=where
            )
        if fields.get("client_auth", "body") not in ("body", "basic"):
            raise InterlockError(
                f'{name}.client_auth: "{fields["client_auth"]}" is neither body nor basic',
                where=where,
            )
        return cls(**fields)


@dataclass(frozen=True)
class JwtFlow:
    """A token minted locally with ``auth.signing``: these claims, valid for ``ttl`` seconds.

    Example:
        >>> JwtFlow.from_dict({"claims": {"sub": "tom"}}, "interlock.yaml:3").ttl
        3600
    """

    claims: Mapping[str, Any]
    ttl: int = 3600

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "jwt") -> Self:
        fields = _fields(data, where, name, "auth.users.<user>.jwt")
        if not isinstance(fields["claims"], Mapping):
            raise _wrong_type(where, f"{name}.claims", "a mapping of claim names to values")
        ttl = fields.get("ttl", 3600)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            raise _wrong_type(where, f"{name}.ttl", "a whole number of seconds above 0")
        return cls(claims=dict(fields["claims"]), ttl=ttl)


@dataclass(frozen=True)
class BasicFlow:
    """HTTP basic auth with this username and password.

    Example:
        >>> BasicFlow.from_dict({"username": "alice", "password": "{env.ALICE_PASSWORD}"},
        ...                     "interlock.yaml:3").username
        'alice'
    """

    username: str
    password: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str, *, name: str = "basic") -> Self:
        return cls(**_fields(data, where, name, "auth.users.<user>.basic"))


Flow = LoginFlow | OAuth2Flow | JwtFlow | BasicFlow
_FLOWS: dict[str, Any] = {
    "login": LoginFlow,
    "oauth2": OAuth2Flow,
    "jwt": JwtFlow,
    "basic": BasicFlow,
}


@dataclass(frozen=True)
class UserConfig:
    """One user (an actor of the scenarios) and how they get their credentials.

    Example:
        >>> UserConfig.from_dict("alice", {"basic": {"username": "a", "password": "p"}},
        ...                      "interlock.yaml:3").flow
        BasicFlow(username='a', password='p')
    """

    name: str
    flow: Flow

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], where: str) -> Self:
        field_name = f"auth.users.{name}"
        if not isinstance(data, Mapping):
            raise _wrong_type(where, field_name, "a mapping with one of login, oauth2, jwt, basic")
        kinds = [k for k in data if k in _FLOWS]
        unknown = [k for k in data if k not in _FLOWS]
        if unknown or len(kinds) != 1:
            said = (
                f"unknown key {unknown[0]!r}"
                if unknown
                else (f"has {' and '.join(kinds)}" if kinds else "says no way to log in")
            )
            raise InterlockError(
                f"{field_name}: {said}",
                where=where,
                hint="A user has exactly one of: login, oauth2, jwt, basic"
                + (f"; {did_you_mean(unknown[0], list(_FLOWS))}" if unknown else ""),
            )
        kind = kinds[0]
        flow_data = data[kind]
        if not isinstance(flow_data, Mapping):
            raise _wrong_type(where, f"{field_name}.{kind}", "a mapping")
        flow = _FLOWS[kind].from_dict(flow_data, where, name=f"{field_name}.{kind}")
        return cls(name=name, flow=flow)


@dataclass(frozen=True)
class AuthConfig:
    """The whole ``auth:`` section.

    Example:
        >>> AuthConfig.from_dict({"users": {}}, "auth").signing is None
        True
    """

    users: Mapping[str, UserConfig] = field(default_factory=dict)
    signing: SigningConfig | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Self:
        fields = _fields(data, where, "auth", "auth")
        users = fields.get("users") or {}
        if not isinstance(users, Mapping):
            raise _wrong_type(where, "auth.users", "a mapping of user names to their login")
        signing = fields.get("signing")
        if signing is not None and not isinstance(signing, Mapping):
            raise _wrong_type(where, "auth.signing", "a mapping")
        # Each user's mistakes name the user's own line, when the block remembers lines.
        users_where = _line_of(where, data, "users")
        return cls(
            users={
                str(name): UserConfig.from_dict(
                    str(name), user, _line_of(users_where, users, str(name)))
                for name, user in users.items()
            },
            signing=(SigningConfig.from_dict(signing, _line_of(where, data, "signing"))
                     if signing else None),
        )


def _fields(data: Mapping[str, Any], where: str, name: str, path: str) -> dict[str, Any]:
    """The fields of ``data``, checked against the block at ``path`` of the stack file's
    definition (``auth.users.<user>.login``): no unknown field, every required one."""
    if not isinstance(data, Mapping):
        raise _wrong_type(where, name, "a mapping")
    known, required = block(path).names, block(path).required
    for key in data:
        if key not in known:
            raise InterlockError(
                f'{name}: unknown key "{key}"', where=where, hint=did_you_mean(str(key), known)
            )
    for key in required:
        if data.get(key) in (None, ""):
            raise InterlockError(
                f'{name}: "{key}" is required', where=where, hint=f"Known keys: {', '.join(known)}"
            )
    for key in (
        "service",
        "path",
        "token_url",
        "client_id",
        "username",
        "password",
        "secret",
        "private_key_file",
        "private_key",
        "token",
        "grant",
        "algorithm",
        "key_id",
    ):
        if key in data and not isinstance(data[key], str):
            raise _wrong_type(where, f"{name}.{key}", "text")
    return {key: data[key] for key in known if key in data}


def _line_of(where: str, data: Any, key: str) -> str:
    """``where`` made precise to ``key``'s own line when the block read from the stack file
    remembers it (a plain mapping built in code keeps the ``where`` it was given)."""
    return field_where(where, data, key) if key in getattr(data, "lines", {}) else where


def _wrong_type(where: str, name: str, wanted: str) -> InterlockError:
    return InterlockError(f"{name} must be {wanted}", where=where)
