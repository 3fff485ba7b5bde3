"""Who may log in: built-in users, or a JSON file named by ``AUTH_USERS_FILE``.

The file is a list of ``{"username", "password", "role"}``::

    [{"username": "alice", "password": "s3cret", "role": "customer"}]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

ROLES = ("customer", "dispatcher", "technician", "admin")
BUILT_IN = {"alice": "customer", "bob": "customer", "dora": "dispatcher", "tom": "technician",
            "tina": "technician", "ada": "admin"}


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_digest: bytes
    salt: bytes

    @classmethod
    def create(cls, username: str, password: str, role: str) -> User:
        salt = os.urandom(16)
        return cls(username, role, _digest(password, salt), salt)

    def has_password(self, password: str) -> bool:
        return hmac.compare_digest(self.password_digest, _digest(password, self.salt))


def _digest(password: str, salt: bytes) -> bytes:
    # Kept in memory as salted digests so a memory dump or a log slip never shows a password.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)


def load_users(users_file: str | None, default_password: str) -> dict[str, User]:
    """The users by name; raises ValueError naming the bad entry of ``users_file``."""
    if not users_file:
        return {name: User.create(name, default_password, role) for name, role in BUILT_IN.items()}
    try:
        entries = json.loads(Path(users_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"AUTH_USERS_FILE {users_file!r} is not readable JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError(f"AUTH_USERS_FILE {users_file!r} must hold a JSON list of users")
    users: dict[str, User] = {}
    for index, entry in enumerate(entries):
        where = f"AUTH_USERS_FILE {users_file!r}, entry [{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object with username, password, role")
        name, password, role = entry.get("username"), entry.get("password"), entry.get("role")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: 'username' must be a non-empty string")
        if not isinstance(password, str) or not password:
            raise ValueError(f"{where}: 'password' must be a non-empty string")
        if role not in ROLES:
            raise ValueError(f"{where}: 'role' must be one of {', '.join(ROLES)}, not {role!r}")
        users[name] = User.create(name, password, role)
    return users
