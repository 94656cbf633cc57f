"""Bearer tokens for the HTTP API (``spine serve``), stored hashed in ``api_tokens``.

A token is 32 random bytes, URL-safe base64, prefixed ``spine_`` so it is recognisable in a
leaked config file. Only its sha256 is stored: tokens are high-entropy, so a plain hash is
enough (no salt or slow KDF is needed to resist guessing), and a lookup is one indexed
equality on the hash. The plaintext is shown once, by :meth:`ApiTokens.create`.

A token has a role (:class:`TokenRole`: ``viewer`` reads, ``operator`` also runs, cancels,
resumes and replays, ``admin`` also writes group definitions) and a name for people.
Revoking keeps the row (``revoked_at``) so ``spine token list`` still shows who had access.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from spine.store.errors import StoreError
from spine.store.schema import api_tokens
from spine.runner.results import iso

if TYPE_CHECKING:
    from spine.store.store import RunStore

#: What every token starts with.
TOKEN_PREFIX = "spine_"


class TokenRole(enum.Enum):
    """What a token may do (each role may do everything the ones before it may)."""

    VIEWER = "viewer"  #: read groups, runs, dead letters, reports, events
    OPERATOR = "operator"  #: also start, cancel and resume runs, replay dead letters
    ADMIN = "admin"  #: also create, change and delete group definitions


class TokenNotFoundError(StoreError):
    """No token has that id (exit 2)."""

    exit_code = 2

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        super().__init__(f"no API token {token_id!r}; `spine token list` shows the tokens")


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One token, without its secret."""

    id: str
    name: str
    role: TokenRole
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role.value, "created_at": iso(self.created_at),
                "revoked_at": iso(self.revoked_at), "active": self.active}


def hash_token(token: str) -> str:
    """sha256 (hex) of a token's text."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token(row: Any) -> ApiToken:
    return ApiToken(row["id"], row["name"], TokenRole(row["role"]), row["created_at"], row["revoked_at"])


class ApiTokens:
    """The API tokens of one store."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def create(self, role: TokenRole, name: str = "") -> tuple[ApiToken, str]:
        """A new token: its record and its plaintext (shown once, never stored)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(8)
        record = ApiToken(token_id, name or f"{role.value}-{token_id[:6]}", role, dt.datetime.now(dt.UTC))

        def tx(conn: sa.Connection) -> None:
            conn.execute(api_tokens.insert().values(id=record.id, name=record.name, role=role.value, hash=hash_token(secret),
                                                    created_at=record.created_at, revoked_at=None))

        self.store.write(tx)
        return record, secret

    def lookup(self, secret: str) -> ApiToken | None:
        """The active token whose plaintext is ``secret`` (``None``: no such token, or revoked)."""
        digest = hash_token(secret)

        def q(conn: sa.Connection) -> ApiToken | None:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.hash == digest, api_tokens.c.revoked_at.is_(None))).mappings().first()
            return _token(row) if row is not None else None

        return self.store.read(q, bound=5.0)

    def list(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens, oldest first."""

        def q(conn: sa.Connection) -> list[ApiToken]:
            query = sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)
            if not include_revoked:
                query = query.where(api_tokens.c.revoked_at.is_(None))
            return [_token(r) for r in conn.execute(query).mappings()]

        return self.store.read(q)

    def any_active(self) -> bool:
        """Whether any token is configured (the server then may bind beyond loopback)."""

        def q(conn: sa.Connection) -> bool:
            return conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.revoked_at.is_(None)).limit(1)).first() is not None

        return self.store.read(q)

    def revoke(self, token_id: str) -> ApiToken:
        """Revoke a token (at once: the next request with it is refused)."""

        def tx(conn: sa.Connection) -> ApiToken:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
            if row is None:
                raise TokenNotFoundError(token_id)
            if row["revoked_at"] is None:
                conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=dt.datetime.now(dt.UTC)))
                row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().one()
            return _token(row)

        return self.store.write(tx)


__all__ = ["TOKEN_PREFIX", "ApiToken", "ApiTokens", "TokenNotFoundError", "TokenRole", "hash_token"]
