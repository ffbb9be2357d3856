"""The recorded Mastodon cassettes (vcrpy YAML) that fakedon builds its answers from.

``--fixtures DIR`` points at a folder of cassettes (or at a folder holding ``mastodon/``).
They are read where they lie, never copied. From them fakedon takes: every account and
status object the recorded server sent (the seed of its world, with their exact fields),
a status and an account to shape new ones like, the mention notifications, the two
instance documents, and the response headers a real instance sends with a JSON answer.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

Json = dict[str, Any]
RECORDED_HOST = "localhost:3000"
# Headers computed per answer: never replayed as recorded.
_DYNAMIC = {"content-length", "link", "etag", "x-request-id", "x-runtime", "server-timing"}
_RATE = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _first(value: Any) -> str:
    return str(value[0]) if isinstance(value, list) and value else str(value)


def load_cassette(path: Path) -> list[Exchange]:
    doc = yaml.safe_load(path.read_text("utf-8"))
    exchanges = []
    for interaction in doc.get("interactions", []):
        request, response = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        body = response.get("body", {}).get("string", "")
        exchanges.append(
            Exchange(
                method=request["method"],
                path=url.path,
                query=url.query,
                status=int(response["status"]["code"]),
                headers={k.lower(): _first(v) for k, v in response.get("headers", {}).items()},
                body=body if isinstance(body, str) else body.decode("utf-8"),
            )
        )
    return exchanges


@dataclass
class Recordings:
    exchanges: dict[str, list[Exchange]]
    accounts: dict[str, Json] = field(default_factory=dict)  # id -> account
    statuses: dict[str, Json] = field(default_factory=dict)  # id -> status
    notifications: list[Json] = field(default_factory=list)
    instance_v2: Json = field(default_factory=dict)
    instance_v1: Json = field(default_factory=dict)
    status_template: Json = field(default_factory=dict)
    account_template: Json = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    not_found: str = '{"error":"Record not found"}'

    @classmethod
    def load(cls, folder: Path) -> Recordings:
        if (folder / "mastodon").is_dir():
            folder = folder / "mastodon"
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise FileNotFoundError(f"no Mastodon cassettes (*.yaml) in {folder}")
        found = cls(exchanges={f.stem: load_cassette(f) for f in files})
        for exchanges in found.exchanges.values():
            for exchange in exchanges:
                found._take(exchange)
        if not found.status_template or not found.account_template or not found.headers:
            raise FileNotFoundError(f"{folder}: the cassettes hold no status/account answers")
        return found

    def _take(self, ex: Exchange) -> None:
        if ex.method != "GET" or not ex.headers.get("content-type", "").startswith(
            "application/json"
        ):
            return
        if ex.status == 404 and ex.body:
            self.not_found = ex.body
        if ex.status != 200:
            return
        if not self.headers and all(h in ex.headers for h in _RATE):
            self.headers = {k: v for k, v in ex.headers.items() if k not in _DYNAMIC}
        body = ex.json()
        if ex.path.rstrip("/") == "/api/v2/instance":
            self.instance_v2 = body
        elif ex.path.rstrip("/") == "/api/v1/instance":
            self.instance_v1 = body
        elif ex.path == "/api/v1/notifications" and isinstance(body, list):
            known = {n["id"] for n in self.notifications}
            self.notifications += [n for n in body if n.get("id") not in known]
        elif ex.path.startswith("/api/v1/accounts/lookup") and isinstance(body, dict):
            self.account_template = self.account_template or _public_account(body)
        elif ex.path.startswith("/api/v1/statuses/") and isinstance(body, dict):
            self.status_template = self.status_template or copy.deepcopy(body)
        for status in _statuses_in(body):
            self.statuses.setdefault(status["id"], status)
        for account in _accounts_in(body):
            self.accounts.setdefault(account["id"], _public_account(account))

    def known_ids(self) -> list[int]:
        return [int(i) for i in [*self.statuses, *self.accounts] if i.isdigit()]


def _public_account(account: Json) -> Json:
    """An account as others see it: ``verify_credentials`` adds ``source`` and ``role``."""
    return {k: copy.deepcopy(v) for k, v in account.items() if k not in ("source", "role")}


def _statuses_in(body: Any) -> list[Json]:
    items = body if isinstance(body, list) else [body]
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "content" in item and "account" in item:
            found.append(copy.deepcopy(item))
        elif isinstance(item.get("status"), dict):
            found.append(copy.deepcopy(item["status"]))
    return found


def _accounts_in(body: Any) -> list[Json]:
    items = body if isinstance(body, list) else [body]
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "acct" in item and "username" in item:
            found.append(item)
        for key in ("account",):
            if isinstance(item.get(key), dict):
                found.append(item[key])
        status = item.get("status")
        if isinstance(status, dict) and isinstance(status.get("account"), dict):
            found.append(status["account"])
    return found
