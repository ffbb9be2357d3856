"""Bodies for Slack and Discord incoming webhooks, made from an event.

``standard`` sends the event JSON exactly as every other transport does. ``slack`` sends
``{text, blocks}`` (Slack's incoming-webhook message: ``text`` is the notification
fallback, ``blocks`` a section in mrkdwn and a context line); ``discord`` sends
``{content, embeds}`` (Discord's execute-webhook body, an embed with a title, a link, a
description and fields). Both read an event the way a person would want it: the post's
text, author and link; a firing or resolved alert with its value; a stream error.
Text is cut to the platforms' limits (Slack section text 3000, Discord description 4096).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

SLACK_TEXT = 3000
DISCORD_CONTENT = 2000
DISCORD_DESCRIPTION = 4096
_ITEM_FIELDS = ("tweet", "post", "mention", "entry", "dm", "follower", "unfollower", "message")
_COLOURS = {"alert:firing": 0xD93F0B, "alert:resolved": 0x2DA44E, "stream:error": 0xCF222E}
_DEFAULT_COLOUR = 0x0969DA


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(event: Mapping[str, Any]) -> dict[str, str]:
    """``{title, text, url, author}`` of an event (empty strings where it has none)."""
    etype = str(event.get("type", "event"))
    target = str(event.get("target") or event.get("username") or event.get("streamId") or "")
    out = {"title": etype, "text": "", "url": "", "author": ""}
    for name in _ITEM_FIELDS:
        item = event.get(name)
        if isinstance(item, Mapping):
            author = item.get("author") or item.get("sender") or item.get("username") or ""
            out["author"] = str(author)
            out["text"] = str(item.get("text") or item.get("title") or item.get("summary") or "")
            out["url"] = str(item.get("url") or item.get("link") or "")
            if name in ("follower", "unfollower"):
                verb = "new follower" if name == "follower" else "lost follower"
                out["text"] = f"{verb} of {target}: @{item.get('username', '?')}"
            out["title"] = f"{etype} · {target}" if target else etype
            return out
    alert = event.get("alert")
    if isinstance(alert, Mapping):
        state = "FIRING" if etype == "alert:firing" else "resolved"
        out["title"] = f"Alert {state}: {alert.get('ruleId', '?')}"
        out["text"] = (
            f"value {alert.get('value')} vs threshold {alert.get('threshold')}"
            f" over {alert.get('window')}s"
        )
        return out
    if "error" in event:
        out["title"] = f"Stream error · {target}" if target else "Stream error"
        out["text"] = str(event.get("error"))
        return out
    if "followersCount" in event:
        delta = event.get("delta")
        change = f" ({delta:+})" if isinstance(delta, int) else ""
        out["text"] = f"{target} has {event['followersCount']} followers{change}"
        return out
    if etype == "webhook:health" or "state" in event:
        out["text"] = f"{event.get('previous')} → {event.get('state')}: {event.get('reason', '')}"
        return out
    out["title"] = f"{etype} · {target}" if target else etype
    return out


def slack(event: Mapping[str, Any]) -> dict[str, Any]:
    s = summary(event)
    lines = [f"*{s['title']}*"]
    if s["author"]:
        lines.append(f"by *{s['author']}*")
    if s["text"]:
        lines.append(s["text"])
    if s["url"]:
        lines.append(f"<{s['url']}>")
    body = _cut("\n".join(lines), SLACK_TEXT)
    fallback = _cut(" — ".join(p for p in (s["title"], s["text"]) if p), SLACK_TEXT)
    context = f"herald · {event.get('eventId', '')}"
    return {
        "text": fallback,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(context, 300)}]},
        ],
    }


def discord(event: Mapping[str, Any]) -> dict[str, Any]:
    s = summary(event)
    embed: dict[str, Any] = {
        "title": _cut(s["title"], 256),
        "description": _cut(s["text"] or s["title"], DISCORD_DESCRIPTION),
        "color": _COLOURS.get(str(event.get("type")), _DEFAULT_COLOUR),
        "footer": {"text": _cut(f"herald · {event.get('eventId', '')}", 2048)},
    }
    if s["url"]:
        embed["url"] = s["url"]
    if s["author"]:
        embed["author"] = {"name": _cut(s["author"], 256)}
    if isinstance(event.get("detectedAt"), str):
        embed["timestamp"] = event["detectedAt"]
    content = _cut(" — ".join(p for p in (s["title"], s["text"]) if p), DISCORD_CONTENT)
    return {"content": content, "embeds": [embed]}


def render(fmt: str, data: bytes, event: Mapping[str, Any] | None = None) -> bytes:
    """The request body for an event in ``fmt``; ``standard`` is ``data`` itself."""
    if fmt == "standard":
        return data
    parsed = dict(event) if event is not None else orjson.loads(data)
    return orjson.dumps(slack(parsed) if fmt == "slack" else discord(parsed))
