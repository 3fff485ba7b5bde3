"""Users, login flows, the per-run token cache, and tokens made wrong on purpose.

Example:
    >>> from interlock.auth import Authenticator, AuthConfig, BearerToken
    >>> sorted(__all__)[:3]
    ['AuthConfig', 'Authenticator', 'BasicAuth']
"""

from interlock.auth.authenticator import Authenticator, Sender
from interlock.auth.config import (
    AuthConfig,
    BasicFlow,
    JwtFlow,
    LoginFlow,
    OAuth2Flow,
    SigningConfig,
    UserConfig,
)
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
