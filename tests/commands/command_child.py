"""A process that submits one command and hangs in its send (for the kill -9 test).

Reads its settings (JSON) and the command (JSON) from argv; prints nothing useful: the
test watches Redis and the stand-in, then kills it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import sys

import redis.asyncio as aioredis

from herald.commands.host import CommandsHost
from herald.config import Settings
from herald.sources.x.accounts import AccountStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from herald.store.secrets import Cipher


async def main(settings_json: str, command_json: str, redis_url: str) -> None:
    settings = Settings(**json.loads(settings_json))
    redis = aioredis.from_url(redis_url)
    keys = Keys(settings.redis_prefix)
    accounts = AccountStore(redis, keys, Cipher.from_settings(settings))
    host = CommandsHost.build(
        settings, redis, keys, EventLog(redis, keys), accounts, reconcile=False
    )
    await host.service.submit(json.loads(command_json))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
