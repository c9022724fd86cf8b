"""API-key entries with scopes, re-read configuration, and signed tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobmatch.security.api_keys import Caller, ConfiguredKeys, parse_entries
from jobmatch.security.tokens import make_token, token_valid

A, B, C = ("a" * 64, "b" * 64, "c" * 64)


def test_entries_carry_their_scope_and_a_bad_entry_locks_out_nobody_else() -> None:
    keys = parse_entries(f"{A}:platform, {B.upper()}:tenant:42 ,{C}, nothex:platform, {A}:tenant:x")
    assert keys == {
        A: Caller("platform", None, f"config:{A[:8]}"),
        B: Caller("tenant", 42, f"config:{B[:8]}"),
        C: Caller("platform", None, f"config:{C[:8]}"),  # bare hash: the format before scopes
    }


def test_configured_keys_follow_the_parameter_when_it_changes() -> None:
    value = {"spec": f"{A}:platform,{B}:tenant:7"}
    keys = ConfiguredKeys(lambda: value["spec"])
    assert keys.lookup(B) == Caller("tenant", 7, f"config:{B[:8]}")
    value["spec"] = f"{A}:platform"  # B revoked in SSM
    assert keys.lookup(B) is None
    assert keys.lookup(A) is not None


def test_tokens_are_signed_and_expire() -> None:
    now = datetime.now(UTC)
    token = make_token(b"key", now + timedelta(minutes=5))
    assert token_valid(b"key", token, now)
    assert not token_valid(b"other", token, now)
    assert not token_valid(b"key", token, now + timedelta(minutes=6))
    nonce, expires, signature = token.split(".")
    assert not token_valid(b"key", f"{nonce}.{int(expires) + 3600}.{signature}", now)
    assert not token_valid(b"key", "garbage", now)
    assert make_token(b"key", now) != make_token(b"key", now)


@pytest.mark.parametrize("spec", ["", " , ,"])
def test_no_entries_no_keys(spec: str) -> None:
    assert parse_entries(spec) == {}
