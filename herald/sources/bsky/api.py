"""The Bluesky XRPC methods herald reads at ``HERALD_BSKY_API_URL``: handle resolution
(``com.atproto.identity.resolveHandle``) and profiles (``app.bsky.actor.getProfiles``).

Handles are cached in the store (every worker shares them) and in memory; an ``identity``
frame for a DID drops what is cached about it. Profiles (an author's handle and display
name for an event) are cached in memory, bounded; when the API fails, events name the
author by DID rather than wait, and the API is left alone for a while.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from herald.errors import FetchTimeout, SourceError, UpstreamError, UserNotFound
from herald.store.bsky import BskyStore

PROFILES_PER_CALL = 25
PROFILE_CACHE = 10_000
RETRY_AFTER = 30.0
"""Seconds the API is left alone after a failed profile or resolution call."""


@dataclass(frozen=True, slots=True)
class Profile:
    did: str
    handle: str
    name: str = ""
    followers: int | None = None


class BskyApi:
    def __init__(
        self,
        base_url: str,
        store: BskyStore,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._store = store
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"user-agent": "herald"},
        )
        self._handles: dict[str, str] = {}
        self._profiles: OrderedDict[str, Profile] = OrderedDict()
        self._quiet_until = 0.0

    async def _get(self, method: str, params: Any) -> dict[str, Any]:
        try:
            response = await self._client.get(f"/xrpc/{method}", params=params)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{method}: no answer from {self.base_url}") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{method}: {type(exc).__name__} reaching {self.base_url}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 400 and isinstance(body, dict):
            raise UserNotFound(f"{method}: {body.get('message') or body.get('error')}")
        if response.status_code != 200 or not isinstance(body, dict):
            raise UpstreamError(f"{method}: HTTP {response.status_code} from {self.base_url}")
        return body

    async def resolve(self, handle: str) -> str:
        """The DID of ``handle``: cached, else asked. Raises UserNotFound when no account
        has it, another SourceError when the API cannot answer."""
        did = self._handles.get(handle) or await self._store.handle_did(handle)
        if did is None:
            body = await self._get("com.atproto.identity.resolveHandle", {"handle": handle})
            found = body.get("did")
            if not isinstance(found, str) or not found.startswith("did:"):
                raise UpstreamError("resolveHandle: the answer names no DID")
            did = found
            await self._store.save_handle(handle, did)
        self._handles[handle] = did
        return did

    def cached_did(self, handle: str) -> str | None:
        return self._handles.get(handle)

    async def forget(self, did: str, handle: str | None = None) -> list[str]:
        """An ``identity`` frame for ``did``: drop its cached handles and profile; returns
        the handles that pointed at it. ``handle``: the new one, when the frame names it."""
        stale = [h for h, d in self._handles.items() if d == did]
        for h in stale:
            del self._handles[h]
        profile = self._profiles.pop(did, None)
        if profile is not None and profile.handle not in stale:
            stale.append(profile.handle)
        if stale:
            await self._store.forget_handles(stale)
        if handle is not None and profile is not None:
            self._remember(Profile(did, handle, profile.name, profile.followers))
        return stale

    def known(self, did: str) -> bool:
        return did in self._profiles or did in self._handles.values()

    async def profiles(self, dids: Iterable[str]) -> dict[str, Profile]:
        """The profiles of ``dids`` that can be had: cached, else asked in batches of 25.
        A failing API yields what is cached (callers fall back to the DID)."""
        found: dict[str, Profile] = {}
        missing: list[str] = []
        for did in dict.fromkeys(dids):
            profile = self._profiles.get(did)
            if profile is not None:
                self._profiles.move_to_end(did)
                found[did] = profile
            else:
                missing.append(did)
        if missing and time.monotonic() >= self._quiet_until:
            for start in range(0, len(missing), PROFILES_PER_CALL):
                try:
                    fetched = await self._fetch(missing[start : start + PROFILES_PER_CALL])
                except SourceError:
                    self._quiet_until = time.monotonic() + RETRY_AFTER
                    break
                found.update(fetched)
        return found

    async def profile(self, actor: str) -> Profile:
        """One profile, fresh (its follower count): raises SourceError when it cannot."""
        body = await self._get("app.bsky.actor.getProfile", {"actor": actor})
        profile = _profile(body)
        if profile is None:
            raise UpstreamError("getProfile: the answer is not a profile")
        self._remember(profile)
        return profile

    async def _fetch(self, dids: Sequence[str]) -> dict[str, Profile]:
        body = await self._get("app.bsky.actor.getProfiles", [("actors", d) for d in dids])
        out: dict[str, Profile] = {}
        for raw in body.get("profiles") or ():
            profile = _profile(raw)
            if profile is not None:
                self._remember(profile)
                out[profile.did] = profile
        return out

    def _remember(self, profile: Profile) -> None:
        self._profiles[profile.did] = profile
        self._profiles.move_to_end(profile.did)
        while len(self._profiles) > PROFILE_CACHE:
            self._profiles.popitem(last=False)

    async def aclose(self) -> None:
        await self._client.aclose()


def _profile(raw: Any) -> Profile | None:
    if not isinstance(raw, dict):
        return None
    did, handle = raw.get("did"), raw.get("handle")
    if not isinstance(did, str) or not isinstance(handle, str):
        return None
    name = raw.get("displayName")
    count = raw.get("followersCount")
    return Profile(
        did,
        handle,
        name if isinstance(name, str) else "",
        count if isinstance(count, int) else None,
    )
