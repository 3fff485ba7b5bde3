"""Users, login flows, the per-run token cache, and tokens made wrong on purpose.

Example:
    >>> from interlock.auth import Authenticator, AuthConfig, BearerToken
    >>> sorted(__all__)[:3]
    ['AuthConfig', 'Authenticator', 'BasicAuth']
"""

from typing import TYPE_CHECKING

from interlock._core.plugins import lazy_names
from interlock.auth.config import (
    AuthConfig,
    BasicFlow,
    JwtFlow,
    LoginFlow,
    OAuth2Flow,
    SigningConfig,
    UserConfig,
)

# The configuration is light; logins and tokens load PyJWT and cryptography on first use.
__getattr__, __dir__ = lazy_names(__name__, {
    "Authenticator": "interlock.auth.authenticator",
    "Sender": "interlock.auth.authenticator",
    "BasicAuth": "interlock.auth.tokens",
    "BearerToken": "interlock.auth.tokens",
    "Credentials": "interlock.auth.tokens",
    "claims_of": "interlock.auth.tokens",
})

if TYPE_CHECKING:
    from interlock.auth.authenticator import Authenticator, Sender
    from interlock.auth.tokens import BasicAuth, BearerToken, Credentials, claims_of

__all__ = [
    "AuthConfig",
    "Authenticator",
    "BasicAuth",
    "BasicFlow",
    "BearerToken",
    "Credentials",
    "JwtFlow",
    "LoginFlow",
    "OAuth2Flow",
    "Sender",
    "SigningConfig",
    "UserConfig",
    "claims_of",
]
