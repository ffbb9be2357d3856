"""Direct messages: X's legacy inbox endpoints and their control API.

SYNTHETIC SHAPES. No recording of X's DM responses exists (they are private), so these
answers are built from the fields open-source clients read: ``inbox_initial_state`` /
``user_events`` with ``entries[].message{id, time, conversation_id, message_data{id, time,
sender_id, recipient_id, text}}``, ``users``, ``conversations{type, participants}`` and
``cursor`` (twikit ``twikit/client/client.py``, ``twikit/message.py``;
offline-twitter-engine ``pkg/scraper/api_types_dms.go``; the-convocation twitter-scraper
``src/direct-messages.ts``, whose ``message_data.encrypted`` marks an end-to-end
encrypted X Chat message). Paging of ``user_updates`` (``status: HAS_MORE``, at most
:data:`PAGE` entries per answer) is the stand-in's own.

A session reads the inbox of the user its ``auth_token`` is bound to
(``POST /_fakex/sessions``), else of the user ``fakex_session`` (what
``account/settings.json`` names for it).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from herald.testing.fakex.dmstate import Conversation, FakeDM, decode_cursor, encode_cursor
from herald.testing.fakex.faults import GARBAGE
from herald.testing.fakex.graphql import fault_response
from herald.testing.fakex.service import FakeX, fakex_of
from herald.testing.fakex.session import session_error, x_error
from herald.testing.fakex.state import SESSION_USER, FakeUser, snowflake_time

router = APIRouter()
control = APIRouter(prefix="/_fakex")
Json = dict[str, Any]
PAGE = 20
"""Entries per ``user_updates`` answer; more waiting says ``status: HAS_MORE``."""
INITIAL = "DMInboxInitialState"
UPDATES = "DMUserUpdates"
USERNAME = r"^[A-Za-z0-9_]{1,50}$"


def session_user(fake: FakeX, request: Request) -> FakeUser:
    """The user whose inbox this session reads: the one it writes as (``world.sessions``)."""
    return fake.world.session_user(request.cookies.get("auth_token", ""))


def _user_json(user: FakeUser) -> Json:
    return {"id_str": user.id, "screen_name": user.username, "name": user.name}


def _entry(message: FakeDM, conversation: Conversation) -> Json:
    ms = str(int(snowflake_time(message.id).timestamp() * 1000))
    others = [p for p in conversation.participants if p != message.sender_id]
    data: Json = {"id": message.id, "time": ms, "sender_id": message.sender_id}
    if conversation.kind == "ONE_TO_ONE" and others:
        data["recipient_id"] = others[0]
    data["text"] = message.text
    if message.encrypted:
        data["encrypted"] = True
    return {
        "message": {
            "id": message.id,
            "time": ms,
            "affects_sort": True,
            "request_id": secrets.token_hex(8),
            "conversation_id": message.conversation_id,
            "message_data": data,
        }
    }


def _body(fake: FakeX, messages: list[FakeDM], cursor: str) -> Json:
    """Entries newest first, with the users and conversations they name."""
    convs = {m.conversation_id: fake.dms.conversations[m.conversation_id] for m in messages}
    people = {p for c in convs.values() for p in c.participants}
    last = max((int(m.id) for m in messages), default=0)
    return {
        "cursor": cursor,
        "last_seen_event_id": str(last),
        "trusted_last_seen_event_id": str(last),
        "untrusted_last_seen_event_id": "0",
        "entries": [_entry(m, convs[m.conversation_id]) for m in reversed(messages)],
        "users": {p: _user_json(fake.world.users[p]) for p in sorted(people)},
        "conversations": {
            c.id: {
                "conversation_id": c.id,
                "type": c.kind,
                "sort_event_id": max(
                    (m.id for m in messages if m.conversation_id == c.id), key=int
                ),
                "participants": [{"user_id": p} for p in c.participants],
                "trusted": True,
                "status": "AT_END",
            }
            for c in convs.values()
        },
    }


async def _guard(request: Request, operation: str) -> tuple[FakeX, Response | None]:
    fake = fakex_of(request)
    fake.requests[operation] += 1
    refused = session_error(request)
    if refused is not None:
        return fake, refused
    budget, allowed = fake.limits.spend(request.cookies["auth_token"], operation)
    if not allowed:
        return fake, x_error(429, 88, "Rate limit exceeded.", headers=budget.headers())
    fault = fake.faults.take(operation)
    if fault is None or fault.mode == "short":
        return fake, None
    if fault.mode == "garbage":
        return fake, Response(GARBAGE, 200, media_type="application/json")
    if fault.mode == "empty":
        return fake, JSONResponse({}, headers=budget.headers())
    return fake, await fault_response(fault, operation, request, fake, budget)


@router.get("/i/api/1.1/dm/inbox_initial_state.json")
async def inbox_initial_state(request: Request) -> Response:
    fake, refused = await _guard(request, INITIAL)
    if refused is not None:
        return refused
    user = session_user(fake, request)
    newest = fake.dms.inbox(user.id)[-PAGE:]
    body = _body(fake, newest, encode_cursor(int(fake.world.ids.now())))
    oldest = newest[0].id if newest else "0"
    body["inbox_timelines"] = {
        name: {"status": "AT_END", "min_entry_id": oldest}
        for name in ("trusted", "untrusted", "untrusted_low_quality")
    }
    return JSONResponse({"inbox_initial_state": body})


@router.get("/i/api/1.1/dm/user_updates.json")
async def user_updates(request: Request) -> Response:
    fake, refused = await _guard(request, UPDATES)
    if refused is not None:
        return refused
    position = decode_cursor(request.query_params.get("cursor", ""))
    if position is None:
        return x_error(400, 214, "BadRequest: cursor is missing or not one of this inbox's.")
    user = session_user(fake, request)
    waiting = fake.dms.inbox(user.id, after=position)
    page = waiting[:PAGE]
    after = int(page[-1].id) if page else position
    body = _body(fake, page, encode_cursor(after))
    if len(waiting) > PAGE:
        body["status"] = "HAS_MORE"
    if not page:  # X answers a quiet inbox with the positions and the cursor alone
        body = {k: body[k] for k in body if k not in ("entries", "users", "conversations")}
    return JSONResponse({"user_events": body})


# --- control API ------------------------------------------------------------------------
class NewDM(BaseModel):
    sender: str = Field(alias="from", pattern=USERNAME)
    text: str = Field(min_length=1, max_length=10_000)
    conversation_id: str | None = Field(default=None, alias="conversationId", max_length=100)


class NewEncrypted(BaseModel):
    sender: str = Field(alias="from", pattern=USERNAME)


def _known(fake: FakeX, username: str) -> FakeUser:
    if username.lower() == SESSION_USER:  # the inbox of every session not bound to a user
        return fake.world.ensure_user(SESSION_USER)
    user = fake.world.find(username)
    if user is None:
        raise HTTPException(404, f"no user {username!r}")
    return user


@control.post("/users/{username}/dms", status_code=201)
async def send_dm(username: str, body: NewDM, request: Request) -> Json:
    """A message from ``from`` to the user's inbox (a new sender is created)."""
    fake = fakex_of(request)
    recipient = _known(fake, username)
    sender = fake.world.ensure_user(body.sender)
    conversation = fake.dms.conversation(sender, recipient, body.conversation_id)
    if conversation.encrypted:
        raise HTTPException(400, "the conversation is end-to-end encrypted")
    message = FakeDM(fake.world.ids.now(), conversation.id, sender.id, body.text)
    fake.dms.messages.append(message)
    return {"id": message.id, "conversationId": conversation.id}


@control.post("/users/{username}/dms/encrypted", status_code=201)
async def send_encrypted(username: str, body: NewEncrypted, request: Request) -> Json:
    """An end-to-end encrypted conversation from ``from``, with one ciphertext message."""
    fake = fakex_of(request)
    recipient = _known(fake, username)
    sender = fake.world.ensure_user(body.sender)
    cid = f"e2ee:{sender.id}:{recipient.id}"
    conversation = fake.dms.conversations.setdefault(
        cid, Conversation(cid, [sender.id, recipient.id], encrypted=True)
    )
    ciphertext = base64.b64encode(secrets.token_bytes(48)).decode()
    message = FakeDM(fake.world.ids.now(), conversation.id, sender.id, ciphertext, True)
    fake.dms.messages.append(message)
    return {"id": message.id, "conversationId": conversation.id}
