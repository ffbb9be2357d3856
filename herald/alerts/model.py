"""Alert rules and silences as JSON: defaults, checks, and the reason for every refusal.

A rule is stored and answered as plain JSON (the ASTRA shape plus herald's fields), so the
REST API, the CLI, MCP and the dashboard all see the same thing. :func:`parse_rule` is the
one gate: it fills defaults and refuses a bad rule with :class:`ValidationError` naming the
field and the rule it broke, before anything is stored.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from herald.alerts.base import CONDITIONS, RULE_TYPES
from herald.errors import HeraldError, ValidationError

#: The longest duration a rule may name: the rolling baseline (and the log) keep 7 days.
RETENTION = 7 * 86_400
ENGAGEMENT_METRICS = ("total", "likes", "retweets", "replies", "quotes", "bookmarks", "views")
GROUP_LABELS = ("streamId", "platform")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
RULE_FIELDS = frozenset(
    {
        "id",
        "name",
        "description",
        "type",
        "condition",
        "threshold",
        "channel",
        "enabled",
        "window",
        "for",
        "keepFiringFor",
        "minSamples",
        "resolveThreshold",
        "scope",
        "groupBy",
        "priority",
        "repeatInterval",
        "baseline",
        "metric",
        "labels",
        "createdAt",
        "updatedAt",
    }
)
SCOPE_FIELDS = ("streams", "platforms", "keywords")


class RuleExists(HeraldError):
    """A rule with the given id is already stored."""

    code = "rule_exists"
    status = 409


def refuse(field: str, reason: str) -> ValidationError:
    return ValidationError(f"{field}: {reason}")


def seconds(value: Any, field: str, *, low: float = 0.0, high: float = RETENTION) -> float:
    """Seconds from a number or ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, within bounds."""
    if isinstance(value, bool) or value is None:
        raise refuse(field, "must be a duration in seconds or a string such as 30s or 5m")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise refuse(field, f"must be a duration such as 30s or 5m, not {value[:40]!r}")
        out = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise refuse(field, "must be a duration in seconds or a string such as 30s or 5m")
    if not math.isfinite(out) or out < 0:
        raise refuse(field, "must not be negative")
    if out < low:
        raise refuse(field, f"must be at least {low:g} s")
    if out > high:
        raise refuse(field, f"must be at most {high:g} s (the 7 days herald keeps)")
    return out


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise refuse(field, "must be a finite number")
    return float(value)


def _strings(value: Any, field: str, limit: int = 1000) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise refuse(field, "must be a list of non-empty strings")
    if len(value) > limit:
        raise refuse(field, f"must hold at most {limit} entries")
    return sorted({v.strip() for v in value})


def _scope(raw: Any) -> dict[str, list[str]]:
    if raw is None:
        return {name: [] for name in SCOPE_FIELDS}
    if not isinstance(raw, Mapping):
        raise refuse("scope", "must be an object {streams?, platforms?, keywords?}")
    unknown = sorted(set(raw) - set(SCOPE_FIELDS))
    if unknown:
        raise refuse(f"scope.{unknown[0]}", "unknown field; known: streams, platforms, keywords")
    out = {}
    for name in SCOPE_FIELDS:
        value = raw.get(name)
        out[name] = [] if value is None else _strings(value, f"scope.{name}")
    out["keywords"] = sorted({k.lower() for k in out["keywords"]})
    return out


def _labels(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in raw.items()
    ):
        raise refuse("labels", "must be an object of string names to string values")
    if len(raw) > 20:
        raise refuse("labels", "must hold at most 20 labels")
    return dict(sorted(raw.items()))


def _baseline(raw: Any, condition: str) -> dict[str, float] | None:
    if raw is None:
        return None
    if condition not in ("above", "below"):
        raise refuse("baseline", "a relative rule needs condition above or below")
    if not isinstance(raw, Mapping):
        raise refuse("baseline", "must be an object {k, minWindows?}")
    unknown = sorted(set(raw) - {"k", "minWindows"})
    if unknown:
        raise refuse(f"baseline.{unknown[0]}", "unknown field; known: k, minWindows")
    k = _number(raw.get("k"), "baseline.k")
    if k <= 0:
        raise refuse("baseline.k", "must be above 0 (how many standard deviations)")
    windows = raw.get("minWindows", 12)
    if isinstance(windows, bool) or not isinstance(windows, int) or not 2 <= windows <= 10_000:
        raise refuse("baseline.minWindows", "must be an integer from 2 to 10000")
    return {"k": k, "minWindows": windows}


def _identity(body: Mapping[str, Any], rule_id: str | None) -> str:
    rid = rule_id if rule_id is not None else body.get("id")
    if rid is None:
        rid = uuid.uuid4().hex[:12]
    if not isinstance(rid, str) or not _ID.match(rid):
        raise refuse("id", "must be 1-64 letters, digits, '_', '.', '-' (a letter or digit first)")
    return rid


def _kind(body: Mapping[str, Any]) -> tuple[str, str, float | str]:
    """Type, condition and threshold, checked against each other."""
    rtype = body.get("type")
    if rtype not in RULE_TYPES:
        raise refuse("type", f"must be one of {', '.join(RULE_TYPES)}")
    condition = body.get("condition")
    if condition not in CONDITIONS:
        raise refuse("condition", f"must be one of {', '.join(CONDITIONS)}")
    if (condition == "contains") != (rtype == "keyword"):
        raise refuse(
            "condition",
            "contains is the condition of keyword rules, and keyword rules use contains",
        )
    if rtype == "keyword":
        raw = body.get("threshold")
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
            raise refuse("threshold", "a keyword rule's threshold is the text to find (1-200)")
        return str(rtype), str(condition), raw.strip().lower()
    threshold = _number(body.get("threshold"), "threshold")
    if rtype == "sentiment" and not -1.0 <= threshold <= 1.0:
        raise refuse("threshold", "a sentiment threshold is a compound score from -1 to 1")
    return str(rtype), str(condition), threshold


def _timing(body: Mapping[str, Any], rtype: str) -> dict[str, Any]:
    window = seconds(body.get("window", 60), "window", low=1.0, high=86_400)
    hold = seconds(body.get("for", 0), "for")
    if rtype == "keyword" and hold:
        raise refuse("for", "keyword rules fire on each matching item; for must be 0")
    keep = seconds(body.get("keepFiringFor", window if rtype == "keyword" else 0), "keepFiringFor")
    default_min = {"sentiment": 1, "engagement": 1, "volume": 0, "keyword": 1}[rtype]
    min_samples = body.get("minSamples", default_min)
    if isinstance(min_samples, bool) or not isinstance(min_samples, int):
        raise refuse("minSamples", "must be an integer")
    if not 0 <= min_samples <= 1_000_000:
        raise refuse("minSamples", "must be from 0 to 1000000")
    repeat = seconds(body.get("repeatInterval", 0), "repeatInterval")
    return {
        "window": window,
        "for": hold,
        "keepFiringFor": keep,
        "minSamples": min_samples,
        "repeatInterval": repeat,
    }


def _resolve_threshold(body: Mapping[str, Any], condition: str, threshold: float | str) -> Any:
    resolve = body.get("resolveThreshold")
    if resolve is None:
        return None
    if isinstance(threshold, str) or condition == "equals":
        raise refuse("resolveThreshold", "only above and below rules have a resolve threshold")
    resolve = _number(resolve, "resolveThreshold")
    if condition == "above" and resolve > threshold:
        raise refuse("resolveThreshold", "must not be above the threshold of an above rule")
    if condition == "below" and resolve < threshold:
        raise refuse("resolveThreshold", "must not be below the threshold of a below rule")
    return resolve


def _routing(body: Mapping[str, Any], rtype: str) -> dict[str, Any]:
    """Channel, priority, grouping, engagement metric."""
    channel = body.get("channel", "alerts")
    if not isinstance(channel, str) or not _ID.match(channel):
        raise refuse("channel", "must be 1-64 letters, digits, '_', '.', '-'")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise refuse("enabled", "must be true or false")
    group_by = body.get("groupBy")
    group = [] if group_by is None else _strings(group_by, "groupBy")
    for name in group:
        if name not in GROUP_LABELS:
            raise refuse("groupBy", f"{name!r} is not a label; known: {', '.join(GROUP_LABELS)}")
    if rtype == "keyword" and group:
        raise refuse("groupBy", "keyword rules are grouped by item already")
    priority = body.get("priority", 2)
    if isinstance(priority, bool) or priority not in (0, 1, 2, 3):
        raise refuse("priority", "must be 0 (low), 1, 2 or 3 (critical)")
    metric = body.get("metric")
    if metric is not None and rtype != "engagement":
        raise refuse("metric", "only engagement rules pick a metric")
    if rtype == "engagement":
        metric = "total" if metric is None else metric
        if metric not in ENGAGEMENT_METRICS:
            raise refuse("metric", f"must be one of {', '.join(ENGAGEMENT_METRICS)}")
    return {
        "channel": channel,
        "enabled": enabled,
        "groupBy": group,
        "priority": priority,
        "metric": metric,
    }


def _text(body: Mapping[str, Any], name: str, default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > 500:
        raise refuse(name, "must be a string of at most 500 characters")
    return value or default


def parse_rule(
    body: Mapping[str, Any], *, now: str, rule_id: str | None = None, created: str | None = None
) -> dict[str, Any]:
    """The stored form of a rule body; raises :class:`ValidationError` naming the field.

    ``createdAt`` and ``updatedAt`` are herald's: given ones are ignored (an answered rule
    can be sent back as it is)."""
    if not isinstance(body, Mapping):
        raise refuse("body", "a rule must be a JSON object")
    unknown = sorted(set(body) - RULE_FIELDS)
    if unknown:
        raise refuse(unknown[0], "unknown field")
    rid = _identity(body, rule_id)
    rtype, condition, threshold = _kind(body)
    timing = _timing(body, rtype)
    routing = _routing(body, rtype)
    baseline = _baseline(body.get("baseline"), condition)
    if baseline is not None and rtype == "keyword":
        raise refuse("baseline", "keyword rules have no baseline")
    return {
        "id": rid,
        "name": _text(body, "name", rid),
        "description": _text(body, "description", ""),
        "type": rtype,
        "condition": condition,
        "threshold": threshold,
        "channel": routing["channel"],
        "enabled": routing["enabled"],
        **timing,
        "resolveThreshold": _resolve_threshold(body, condition, threshold),
        "scope": _scope(body.get("scope")),
        "groupBy": routing["groupBy"],
        "priority": routing["priority"],
        "baseline": baseline,
        "metric": routing["metric"],
        "labels": _labels(body.get("labels")),
        "createdAt": created or now,
        "updatedAt": now,
    }


def _matcher(i: int, m: Any) -> dict[str, Any]:
    where = f"matchers[{i}]"
    if not isinstance(m, Mapping) or set(m) - {"name", "value", "isRegex"}:
        raise refuse(where, "must be an object {name, value, isRegex?}")
    name, value, is_regex = m.get("name"), m.get("value"), m.get("isRegex", False)
    if not isinstance(name, str) or not name:
        raise refuse(f"{where}.name", "must be a label name such as ruleId or channel")
    if not isinstance(value, str) or len(value) > 500:
        raise refuse(f"{where}.value", "must be a string of at most 500 characters")
    if not isinstance(is_regex, bool):
        raise refuse(f"{where}.isRegex", "must be true or false")
    if is_regex:
        try:
            re.compile(value)
        except re.error as exc:
            raise refuse(f"{where}.value", f"is not a valid regular expression: {exc}") from None
    return {"name": name, "value": value, "isRegex": is_regex}


def _span(body: Mapping[str, Any], now: float) -> tuple[float, float]:
    starts = epoch(body.get("startsAt")) if body.get("startsAt") is not None else now
    if starts is None:
        raise refuse("startsAt", "must be an ISO 8601 time or epoch seconds")
    if body.get("endsAt") is None:
        raise refuse("endsAt", "a silence needs an end time (ISO 8601 or epoch seconds)")
    ends = epoch(body.get("endsAt"))
    if ends is None:
        raise refuse("endsAt", "must be an ISO 8601 time or epoch seconds")
    if ends <= starts:
        raise refuse("endsAt", "must be after startsAt")
    if ends <= now:
        raise refuse("endsAt", "must be in the future")
    return starts, ends


def parse_silence(body: Mapping[str, Any], *, now: float) -> dict[str, Any]:
    """A silence ``{matchers: [{name, value, isRegex}], startsAt?, endsAt, comment}``."""
    if not isinstance(body, Mapping):
        raise refuse("body", "a silence must be a JSON object")
    unknown = sorted(set(body) - {"id", "matchers", "startsAt", "endsAt", "comment", "createdBy"})
    if unknown:
        raise refuse(unknown[0], "unknown field")
    raw = body.get("matchers")
    if not isinstance(raw, list) or not raw or len(raw) > 20:
        raise refuse("matchers", "must be a list of 1-20 matchers {name, value, isRegex?}")
    matchers = [_matcher(i, m) for i, m in enumerate(raw)]
    starts, ends = _span(body, now)
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 1000:
        raise refuse("comment", "must be a string of at most 1000 characters")
    sid = body.get("id") or uuid.uuid4().hex[:12]
    if not isinstance(sid, str) or not _ID.match(sid):
        raise refuse("id", "must be 1-64 letters, digits, '_', '.', '-'")
    out: dict[str, Any] = {
        "id": sid,
        "matchers": matchers,
        "startsAt": starts,
        "endsAt": ends,
        "comment": comment,
    }
    created_by = body.get("createdBy")
    if created_by is not None:
        if not isinstance(created_by, str) or len(created_by) > 200:
            raise refuse("createdBy", "must be a string of at most 200 characters")
        out["createdBy"] = created_by
    return out


_EPOCH_RANGE = (-62_135_596_800.0, 253_402_300_799.0)  # 0001-01-01 to 9999-12-31


def epoch(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO 8601 time (``Z`` allowed); None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Only what a datetime can show again (years 1 to 9999): a silence is answered as ISO.
        return float(value) if _EPOCH_RANGE[0] <= value <= _EPOCH_RANGE[1] else None
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        at = parsed.timestamp()
        return at if _EPOCH_RANGE[0] <= at <= _EPOCH_RANGE[1] else None
    return None


def iso(at: float) -> str:
    """An epoch time as ISO 8601 UTC with milliseconds, the way events carry times."""
    text = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def silenced(silences: Sequence[Mapping[str, Any]], labels: Mapping[str, str], at: float) -> bool:
    """Whether a silence active at ``at`` matches every one of its matchers on ``labels``."""
    for silence in silences:
        if not float(silence["startsAt"]) <= at < float(silence["endsAt"]):
            continue
        if all(_matches(m, labels) for m in silence["matchers"]):
            return True
    return False


def _matches(matcher: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    value = labels.get(str(matcher["name"]), "")
    if matcher.get("isRegex"):
        return re.fullmatch(str(matcher["value"]), value) is not None
    return value == str(matcher["value"])
