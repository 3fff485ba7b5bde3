"""Sentences of STEPS.md "Auth": who the requests of the scenario are sent as.

Logins happen once per user per stack (cached by ``World.auth``); tokens, passwords and keys
are registered as secrets before anything could show them.
"""

from __future__ import annotations

from typing import Any

from interlock._core.values import render_json
from interlock.behave.binding import q, sentence
from interlock.behave.tables import rows_of


@sentence(r"I am logged in as " + q("user"))
def logged_in(world: Any, user: str) -> None:
    """Given I am logged in as "dispatcher" (switches the actor for the next requests)."""
    world.http.credentials = world.auth.credentials_for(world.render(user), world.where)


@sentence(r"I am not logged in")
def not_logged_in(world: Any) -> None:
    """Given I am not logged in."""
    world.http.credentials = None


@sentence(r"I use an expired token for " + q("user"))
def expired_token(world: Any, user: str) -> None:
    """Given I use an expired token for "dispatcher"."""
    world.http.credentials = world.auth.expired_token(world.render(user), world.where)


@sentence(r"I use a token for " + q("user") + r" signed with the wrong key")
def wrong_key_token(world: Any, user: str) -> None:
    """Given I use a token for "dispatcher" signed with the wrong key."""
    auth = world.auth
    world.http.credentials = auth.token_signed_with_wrong_key(world.render(user), world.where)


@sentence(r"I use a token for " + q("user") + r" with claims:")
def token_with_claims(world: Any, user: str) -> None:
    """Given I use a token for "dispatcher" with claims: (claim | value, values JSON)."""
    claims = {world.render(row["claim"]): render_json(row["value"], world.scope, world.where)
              for row in rows_of(world, "claim", "value")}
    world.http.credentials = world.auth.token_with_claims(
        world.render(user), claims, where=world.where)


@sentence(r"I use the bearer token " + q("token"))
def bearer_token(world: Any, token: str) -> None:
    """Given I use the bearer token "{legacy_token}"."""
    world.http.credentials = world.auth.bearer(world.render(token))


@sentence(r"I use basic auth as " + q("user") + r" with password " + q("password"))
def basic_auth(world: Any, user: str, password: str) -> None:
    """Given I use basic auth as "alice" with password "{env.ALICE_PASSWORD}"."""
    world.http.credentials = world.auth.basic(world.render(user), world.render(password))
