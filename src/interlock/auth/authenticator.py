"""Who the requests are sent as: logins (once per run per user), and tokens made on purpose
to be wrong (expired, signed with the wrong key, other claims).

Example:
    >>> from interlock._core.values import Scope
    >>> from interlock._core.secrets import Secrets
    >>> from interlock.auth.config import AuthConfig
    >>> config = AuthConfig.from_dict({
    ...     "signing": {"algorithm": "HS256", "secret": "a-signing-secret-of-32-bytes-or-more"},
    ...     "users": {"technician": {"jwt": {"claims": {"sub": "tom", "role": "technician"}}}},
    ... }, "interlock.yaml:1")
    >>> auth = Authenticator(config, session=lambda: None, secrets=Secrets(), scope=Scope())
    >>> token = auth.credentials_for("technician")
    >>> claims_of(token.token)["role"]
    'technician'
    >>> claims_of(auth.token_with_claims("technician", {"role": "admin"}).token)["role"]
    'admin'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from interlock._core.errors import Failure, InterlockError, did_you_mean
from interlock._core.match import select_one
from interlock._core.secrets import Secrets
from interlock._core.values import Scope, render
from interlock.auth.config import (
    HMAC_ALGORITHMS,
    AuthConfig,
    BasicFlow,
    JwtFlow,
    LoginFlow,
    OAuth2Flow,
    UserConfig,
)
from interlock.auth.tokens import (
    BasicAuth,
    BearerToken,
    Credentials,
    claims_of,
    header_of,
    random_key,
    sign,
)

# A cached token this close to its expiry is fetched again, so a long run does not start
# failing half-way with 401s that have nothing to do with the system under test.
REFRESH_MARGIN = 30.0
# How far in the past an "expired" token expired: beyond any clock-skew leeway a service allows.
EXPIRED_AGO = 3600


class LoginResponse(Protocol):
    """What a login needs from an HTTP exchange (``interlock.http.Exchange`` is one)."""

    @property
    def status(self) -> int: ...

    def json(self, where: str = "") -> Any: ...

    def excerpt(self, limit: int = ...) -> str: ...

    def describe(self) -> str: ...


class Sender(Protocol):
    """What a login needs from an HTTP client (``interlock.http.HttpSession`` is one)."""

    credentials: Any

    def send(
        self,
        method: str,
        target: str,
        *,
        service: str | None = None,
        json: Any = ...,
        form: Mapping[str, str] | None = None,
        where: str = "",
        before_report: Callable[[Any], None] | None = None,
    ) -> LoginResponse: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _Login:
    credentials: Credentials
    expires_at: float | None


class Authenticator:
    """The users of a run and their credentials. One per run; safe to share between threads.

    ``session`` makes a fresh HTTP client for a login (logins do not use a scenario's
    headers). ``scope`` renders the templates in the configuration. ``files`` is the folder
    that ``private_key_file`` is relative to.

    Example::

        auth = Authenticator(config.auth, session=suite.new_http_session, secrets=suite.secrets,
                             scope=suite.scope, files=suite.folder)
        session.credentials = auth.credentials_for("dispatcher", where="orders.feature:12")
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        session: Callable[[], Sender | None],
        secrets: Secrets,
        scope: Scope,
        files: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.secrets = secrets
        self.scope = scope
        self.files = files or Path.cwd()
        self._session = session
        self._clock = clock
        self._logins: dict[str, _Login] = {}
        self._user_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._signing_key: Any = None
        self._wrong_keys: dict[str, Any] = {}

    @property
    def users(self) -> list[str]:
        """The configured user names."""
        return sorted(self.config.users)

    # -- the credentials of a user ----------------------------------------------------------

    def credentials_for(self, user: str, where: str = "") -> Credentials:
        """The user's credentials; the first call logs in, later calls in the run reuse it."""
        config = self._user(user, where)
        with self._lock:
            lock = self._user_locks.setdefault(user, threading.Lock())
        with lock:
            cached = self._logins.get(user)
            if cached is None or self._expiring(cached):
                cached = self._login(config, where)
                self._logins[user] = cached
            return cached.credentials

    def bearer(self, token: str) -> BearerToken:
        """Given I use the bearer token "{legacy_token}"."""
        self.secrets.add(token)
        return BearerToken(token)

    def basic(self, username: str, password: str) -> BasicAuth:
        """Given I use basic auth as "alice" with password "{env.ALICE_PASSWORD}"."""
        self.secrets.add(password)
        return BasicAuth(username, password)

    # -- tokens that are wrong on purpose ----------------------------------------------------

    def expired_token(self, user: str, where: str = "") -> BearerToken:
        """The user's token with ``exp`` an hour in the past, signed with the trusted key."""
        claims = self._real_claims(user, "an expired token", where)
        now = int(self._clock())
        claims.update(exp=now - EXPIRED_AGO, iat=now - 2 * EXPIRED_AGO)
        if "nbf" in claims:
            claims["nbf"] = now - 2 * EXPIRED_AGO
        return self._minted(user, claims, where)

    def token_signed_with_wrong_key(self, user: str, where: str = "") -> BearerToken:
        """The user's token, still valid, but signed with a fresh key that no service knows."""
        claims = self._real_claims(
            user, "a token signed with the wrong key", where, need_signing=False
        )
        algorithm = self._algorithm(user, where)
        with self._lock:
            key = self._wrong_keys.get(algorithm)
            if key is None:
                key = self._wrong_keys[algorithm] = random_key(algorithm)
        token = sign(claims, key, algorithm, self._key_id(user))
        self.secrets.add(token)
        return BearerToken(token, user)

    def token_with_claims(
        self, user: str, claims: Mapping[str, Any], where: str = ""
    ) -> BearerToken:
        """The user's token with these claims set over its own, re-signed with the trusted key.

        A claim set to ``None`` is removed (``| exp | null |`` makes a token that never expires).
        """
        merged = self._real_claims(user, "a token with other claims", where)
        for name, value in claims.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return self._minted(user, merged, where)

    # -- logging in -------------------------------------------------------------------------

    def _user(self, user: str, where: str) -> UserConfig:
        try:
            return self.config.users[user]
        except KeyError:
            raise InterlockError(
                f'Unknown user "{user}"',
                where=where,
                hint=did_you_mean(user, list(self.config.users))
                + ". Users are declared under auth.users in the suite configuration.",
            ) from None

    def _expiring(self, login: _Login) -> bool:
        return login.expires_at is not None and login.expires_at - self._clock() < REFRESH_MARGIN

    def _login(self, user: UserConfig, where: str) -> _Login:
        flow = user.flow
        place = f"{where} (auth.users.{user.name})" if where else f"auth.users.{user.name}"
        if isinstance(flow, BasicFlow):
            password = self._render(flow.password, place)
            self.secrets.add(password)
            return _Login(BasicAuth(self._render(flow.username, place), password), None)
        if isinstance(flow, JwtFlow):
            now = int(self._clock())
            claims = {"iat": now, **self._render_value(flow.claims, place), "exp": now + flow.ttl}
            token = self._sign_trusted(claims, user.name, place)
            return _Login(BearerToken(token, user.name), float(claims["exp"]))
        if isinstance(flow, LoginFlow):
            return self._post_login(user.name, flow, place)
        return self._oauth2(user.name, flow, place)

    def _post_login(self, name: str, flow: LoginFlow, place: str) -> _Login:
        body: dict[str, Any] = {}
        if flow.form is not None:
            form = {str(k): _text(self._render_value(v, place)) for k, v in flow.form.items()}
            self._hide_fields(form)
            body["form"] = form
        else:
            document = self._render_value(flow.json, place)
            self._hide_fields(document)
            body["json"] = document
        target = self._render(flow.path, place)
        return self._request_token(name, flow.token, place, target, service=flow.service, **body)

    def _oauth2(self, name: str, flow: OAuth2Flow, place: str) -> _Login:
        client_id = self._render(flow.client_id, place)
        client_secret = self._render(flow.client_secret, place) if flow.client_secret else None
        self.secrets.add(client_secret)
        form = {"grant_type": flow.grant}
        if flow.grant == "password":
            form["username"] = self._render(flow.username or "", place)
            form["password"] = self._render(flow.password or "", place)
            self.secrets.add(form["password"])
        if flow.scope:
            form["scope"] = self._render(flow.scope, place)
        client = None
        if flow.client_auth == "basic":
            client = BasicAuth(client_id, client_secret or "")
        else:
            form["client_id"] = client_id
            if client_secret is not None:
                form["client_secret"] = client_secret
        target = self._render(flow.token_url, place)
        return self._request_token(
            name, flow.token, place, target, service=flow.service, form=form, client=client
        )

    def _request_token(
        self,
        name: str,
        token_path: str,
        place: str,
        target: str,
        *,
        service: str | None,
        client: BasicAuth | None = None,
        **body: Any,
    ) -> _Login:
        found: list[str] = []

        def keep_token(exchange: LoginResponse) -> None:
            # Runs before the exchange is reported, so the report already hides the token.
            if 200 <= exchange.status < 300:
                try:
                    value = select_one(
                        exchange.json(place),
                        token_path,
                        where=place,
                        what="login response",
                        secrets=self.secrets,
                    )
                except (Failure, InterlockError):
                    return
                if isinstance(value, str):
                    self.secrets.add(value)
                    found.append(value)

        session = self._session()
        if session is None:
            raise InterlockError(
                f'User "{name}" logs in over HTTP, and no HTTP client was given',
                where=place,
                hint="Pass session=… to the Authenticator.",
            )
        try:
            session.credentials = client
            exchange = session.send(
                "POST", target, service=service, where=place, before_report=keep_token, **body
            )
        finally:
            session.close()
        if not 200 <= exchange.status < 300:
            raise InterlockError(
                f'Login as "{name}" failed: {exchange.describe()} answered {exchange.status}',
                details="body: " + exchange.excerpt(),
                where=place,
                hint=f"Check the credentials of auth.users.{name} (and the variables they use), "
                + ("and that the service is the right one." if service else "and the URL."),
            )
        if not found:
            try:
                select_one(
                    exchange.json(place),
                    token_path,
                    where=place,
                    what="login response",
                    secrets=self.secrets,
                )
                problem = f"the value at {token_path} is not text"
            except (Failure, InterlockError) as err:
                problem = self.secrets.redact(err.render())
            raise InterlockError(
                f'Login as "{name}" gave no token: {exchange.describe()}',
                details=problem,
                where=place,
                hint=f'Set "token" under auth.users.{name} to the JSONPath of the token '
                f'(now "{token_path}").',
            )
        token = found[0]
        claims = claims_of(token)
        expires = claims.get("exp") if claims else None
        expires_at = float(expires) if isinstance(expires, (int, float)) else None
        return _Login(BearerToken(token, name), expires_at)

    # -- minting ----------------------------------------------------------------------------

    def _real_claims(
        self, user: str, what: str, where: str, *, need_signing: bool = True
    ) -> dict[str, Any]:
        if need_signing and self.config.signing is None:
            raise InterlockError(
                f'Cannot make {what} for "{user}": auth.signing is not configured',
                where=where,
                hint="Configure the key the services trust, e.g. auth: {signing: "
                '{algorithm: HS256, secret: "{env.JWT_SECRET}"}}.',
            )
        credentials = self.credentials_for(user, where)
        if not isinstance(credentials, BearerToken):
            raise InterlockError(
                f'Cannot make {what} for "{user}": they log in with basic auth, not a token',
                where=where,
                hint="Use a user that logs in with a token (login, oauth2, jwt).",
            )
        claims = claims_of(credentials.token)
        if claims is None:
            raise InterlockError(
                f'Cannot make {what} for "{user}": their token is not a JWT',
                where=where,
                hint="Opaque tokens cannot be changed; declare a jwt user for these scenarios.",
            )
        return claims

    def _minted(self, user: str, claims: dict[str, Any], where: str) -> BearerToken:
        return BearerToken(self._sign_trusted(claims, user, where), user)

    def _sign_trusted(self, claims: dict[str, Any], user: str, where: str) -> str:
        signing = self.config.signing
        if signing is None:
            raise InterlockError(
                f'Cannot sign a token for "{user}": auth.signing is not configured',
                where=where,
                hint='Add auth: {signing: {algorithm: HS256, secret: "{env.JWT_SECRET}"}}.',
            )
        token = sign(claims, self._key(where), signing.algorithm, self._key_id(user))
        self.secrets.add(token)
        return token

    def _key(self, where: str) -> Any:
        with self._lock:
            if self._signing_key is None:
                self._signing_key = self._load_key(where)
            return self._signing_key

    def _load_key(self, where: str) -> Any:
        signing = self.config.signing
        assert signing is not None  # callers checked
        place = f"{where} (auth.signing)" if where else "auth.signing"
        if signing.secret is not None:
            key = self._render(signing.secret, place)
        elif signing.private_key is not None:
            key = self._render(signing.private_key, place)
        else:
            path = self.files / self._render(signing.private_key_file or "", place)
            try:
                key = path.read_text()
            except OSError as err:
                raise InterlockError(
                    f"Cannot read the signing key {path}: {err.strerror}",
                    where=place,
                    hint="private_key_file is relative to the suite folder.",
                ) from None
        self.secrets.add(key)
        return key

    def _algorithm(self, user: str, where: str) -> str:
        if self.config.signing is not None:
            return self.config.signing.algorithm
        credentials = self.credentials_for(user, where)
        algorithm = (
            header_of(credentials.token).get("alg")
            if isinstance(credentials, BearerToken)
            else None
        )
        return str(algorithm) if algorithm else HMAC_ALGORITHMS[0]

    def _key_id(self, user: str) -> str | None:
        if self.config.signing is not None and self.config.signing.key_id:
            return self.config.signing.key_id
        cached = self._logins.get(user)
        if cached is not None and isinstance(cached.credentials, BearerToken):
            kid = header_of(cached.credentials.token).get("kid")
            return str(kid) if kid else None
        return None

    # -- templates --------------------------------------------------------------------------

    def _render(self, text: str, where: str) -> str:
        return render(text, self.scope, where)

    def _render_value(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self._render(value, where)
        if isinstance(value, Mapping):
            return {str(k): self._render_value(v, where) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render_value(v, where) for v in value]
        return value

    def _hide_fields(self, document: Any) -> None:
        """Passwords and secrets in a login body are secrets from now on, wherever they show."""
        if isinstance(document, Mapping):
            for key, value in document.items():
                if self.secrets.is_sensitive_field(str(key)) and isinstance(value, str):
                    self.secrets.add(value)
                else:
                    self._hide_fields(value)
        elif isinstance(document, list):
            for item in document:
                self._hide_fields(item)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
