"""Member identifiers in the report: a keyed hash by default, raw ids only on opt-in.

The key is the environment variable CLAIMS_AUDIT_MEMBER_KEY when set, else a random key
kept in a file beside the audit database (`<db stem>.member-key`, mode 0600, created on
first use). The same database therefore gives the same pseudonyms run after run, so a
reader can follow a member across reports without seeing the id; without the key the
pseudonym cannot be reversed by hashing candidate ids.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

KEY_ENV = "CLAIMS_AUDIT_MEMBER_KEY"
PREFIX = "m-"
DIGEST_CHARS = 12  # 48 bits: collisions stay negligible at payer scale (millions of members)


def key_path(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.member-key")


def member_key(db_path: Path | None) -> bytes:
    """The HMAC key: from the environment, else from (or newly into) the key file."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8")
    if db_path is None:
        raise ValueError(
            f"no member-id key: set {KEY_ENV} or give the database path (manifest 'db')"
        )
    path = key_path(Path(db_path))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        text = path.read_text(encoding="ascii").strip()
        if len(text) < 32:
            raise ValueError(
                f"member-id key file {path} is too short (64 hex characters expected)"
            ) from None
        return text.encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def hasher(key: bytes) -> Callable[[str | None], str]:
    """A function turning a member id into its pseudonym (`m-` and 12 hex digits)."""
    cache: dict[str, str] = {}

    def pseudonym(member_id: str | None) -> str:
        if member_id is None:
            return ""
        found = cache.get(member_id)
        if found is None:
            digest = hmac.new(key, member_id.encode("utf-8"), hashlib.sha256).hexdigest()
            found = cache[member_id] = PREFIX + digest[:DIGEST_CHARS]
        return found

    return pseudonym
