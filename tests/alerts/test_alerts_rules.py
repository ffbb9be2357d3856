"""Rules and silences through the service: defaults, refusals naming the field, CRUD, status.

The service runs over the in-memory twin and over Redis 7; a refused rule stores nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from herald.alerts.base import AlertsService
from herald.alerts.model import RuleExists
from herald.alerts.service import AlertsManager
from herald.errors import NotFound, ValidationError
from herald.store.alerts import RedisAlertStore
from herald.store.keys import Keys
from herald.store.memory import MemoryAlertStore

NOW = 1_800_000_000.0
ASTRA = {
    "id": "sentiment_drop",
    "type": "sentiment",
    "condition": "below",
    "threshold": 0.3,
    "channel": "critical_alerts",
    "enabled": True,
}


@pytest.fixture(params=["memory", "external"])
def service(request: pytest.FixtureRequest, keys: Keys) -> AlertsManager:
    if request.param == "memory":
        return AlertsManager(MemoryAlertStore(), clock=lambda: NOW)
    redis: Redis = request.getfixturevalue("external_redis")
    return AlertsManager(RedisAlertStore(redis, keys), clock=lambda: NOW)


async def test_the_astra_rule_is_taken_as_written_with_defaults(service: AlertsManager) -> None:
    assert isinstance(service, AlertsService)
    made = await service.create_rule({**ASTRA, "createdAt": 5, "status": {"state": "firing"}})
    assert {k: made[k] for k in ASTRA} == ASTRA
    assert made["createdAt"] == made["updatedAt"] == "2027-01-15T08:00:00.000Z", "herald's"
    assert made["window"] == 60 and made["for"] == 0 and made["keepFiringFor"] == 0
    assert made["minSamples"] == 1 and made["priority"] == 2 and made["resolveThreshold"] is None
    assert made["scope"] == {"streams": [], "platforms": [], "keywords": []}
    assert made["status"]["state"] == "normal"
    assert [r["id"] for r in await service.list_rules()] == ["sentiment_drop"]
    assert (await service.get_rule("sentiment_drop"))["channel"] == "critical_alerts"


async def test_durations_as_strings_and_a_generated_id(service: AlertsManager) -> None:
    made = await service.create_rule(
        {"type": "volume", "condition": "above", "threshold": 50, "window": "5m", "for": "1h"}
    )
    assert made["window"] == 300 and made["for"] == 3600
    assert made["id"] and made["channel"] == "alerts"
    again = {**made, "id": made["id"]}
    with pytest.raises(RuleExists) as exc:
        await service.create_rule(again)
    assert exc.value.status == 409 and exc.value.code == "rule_exists"


BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "mood"}, "type:"),
    ({"condition": "over"}, "condition:"),
    ({"condition": "contains"}, "condition: contains"),
    ({"type": "keyword", "condition": "above", "threshold": "x"}, "condition:"),
    ({"type": "keyword", "condition": "contains", "threshold": 3}, "threshold:"),
    ({"threshold": "low"}, "threshold: must be a finite number"),
    ({"threshold": 1.5}, "threshold: a sentiment threshold"),
    ({"window": -5}, "window: must not be negative"),
    ({"window": 0}, "window: must be at least 1"),
    ({"window": "5 weeks"}, "window: must be a duration"),
    ({"for": 8 * 86_400}, "for: must be at most"),
    ({"keepFiringFor": "30d"}, "keepFiringFor: must be at most"),
    ({"minSamples": -1}, "minSamples:"),
    ({"minSamples": 2.5}, "minSamples:"),
    ({"resolveThreshold": 0.1}, "resolveThreshold: must not be below"),
    ({"condition": "equals", "resolveThreshold": 0.3}, "resolveThreshold: only above"),
    ({"scope": {"streams": "s1", "users": ["a"]}}, "scope.users: unknown field"),
    ({"scope": {"streams": [""]}}, "scope.streams:"),
    ({"groupBy": ["author"]}, "groupBy:"),
    ({"priority": 7}, "priority:"),
    ({"metric": "likes"}, "metric: only engagement"),
    ({"type": "engagement", "metric": "hearts"}, "metric: must be one of"),
    ({"baseline": {"k": 0}}, "baseline.k:"),
    ({"condition": "equals", "baseline": {"k": 3}}, "baseline: a relative rule"),
    ({"enabled": "yes"}, "enabled:"),
    ({"channel": "has space"}, "channel:"),
    ({"colour": "red"}, "colour: unknown field"),
    ({"id": "../x"}, "id:"),
]


@pytest.mark.parametrize(("change", "reason"), BAD, ids=[r for _, r in BAD])
async def test_a_bad_rule_is_refused_with_its_field_and_stores_nothing(
    service: AlertsManager, change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        await service.create_rule({**ASTRA, **change})
    assert exc.value.detail.startswith(reason), exc.value.detail
    assert exc.value.status == 400
    assert await service.list_rules() == []


async def test_update_is_partial_validated_whole_and_keeps_created_at(
    service: AlertsManager,
) -> None:
    made = await service.create_rule(ASTRA)
    updated = await service.update_rule("sentiment_drop", {"threshold": -0.2, "for": "2m"})
    assert updated["threshold"] == -0.2 and updated["for"] == 120
    assert updated["channel"] == "critical_alerts" and updated["createdAt"] == made["createdAt"]
    with pytest.raises(ValidationError, match="resolveThreshold"):
        await service.update_rule("sentiment_drop", {"resolveThreshold": -0.5})
    with pytest.raises(ValidationError, match="id"):
        await service.update_rule("sentiment_drop", {"id": "other"})
    assert (await service.get_rule("sentiment_drop"))["threshold"] == -0.2, "refusal kept it"
    with pytest.raises(NotFound):
        await service.update_rule("nope", {"threshold": 1})


async def test_delete_then_unknown(service: AlertsManager) -> None:
    await service.create_rule(ASTRA)
    await service.delete_rule("sentiment_drop")
    with pytest.raises(NotFound):
        await service.get_rule("sentiment_drop")
    with pytest.raises(NotFound):
        await service.delete_rule("sentiment_drop")


async def test_silences_need_matchers_and_a_future_end(service: AlertsManager) -> None:
    made = await service.create_silence(
        {
            "matchers": [{"name": "ruleId", "value": "sentiment_drop"}],
            "endsAt": "2027-02-01T00:00:00Z",
            "comment": "maintenance",
        }
    )
    assert made["matchers"] == [{"name": "ruleId", "value": "sentiment_drop", "isRegex": False}]
    assert made["endsAt"] == "2027-02-01T00:00:00.000Z" and made["startsAt"].endswith("Z")
    assert [s["id"] for s in await service.list_silences()] == [made["id"]]
    refusals = [
        ({"matchers": [], "endsAt": NOW + 60}, "matchers:"),
        (
            {"matchers": [{"name": "ruleId", "value": "(", "isRegex": True}], "endsAt": NOW + 60},
            "matchers[0].value: is not a valid",
        ),
        ({"matchers": [{"name": "ruleId", "value": "a"}]}, "endsAt: a silence needs"),
        ({"matchers": [{"name": "ruleId", "value": "a"}], "endsAt": NOW - 1}, "endsAt:"),
        ({"matchers": [{"name": "ruleId", "value": "a"}], "endsAt": "soon"}, "endsAt:"),
    ]
    for body, reason in refusals:
        with pytest.raises(ValidationError) as exc:
            await service.create_silence(body)
        assert exc.value.detail.startswith(reason), exc.value.detail
    await service.delete_silence(made["id"])
    assert await service.list_silences() == []
    with pytest.raises(NotFound):
        await service.delete_silence(made["id"])


async def test_expired_silences_are_not_listed(keys: Keys) -> None:
    now = [NOW]
    service = AlertsManager(MemoryAlertStore(), clock=lambda: now[0])
    await service.create_silence(
        {"matchers": [{"name": "channel", "value": "x"}], "endsAt": NOW + 60}
    )
    assert len(await service.list_silences()) == 1
    now[0] = NOW + 61
    assert await service.list_silences() == []
