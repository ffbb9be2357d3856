"""``herald serve`` and ``herald fakex`` as real processes, driven over REST and by the
``herald x`` CLI as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.auth_support import API_KEY, SECRET, make_jwt
from tests.conftest import EXTERNAL_REDIS_URL
from tests.entrypoints.fakex_stack import ALICE_TOKEN
from tests.processes import HERALD_BIN, herald_process
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
STARTUP = 60


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        HERALD_BIN,
        "x",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_rest_and_cli_against_herald_serve_and_fakex(
    external_redis: Any, key_prefix: str, tmp_path: Path
) -> None:
    fake_port, port = free_port(), free_port()
    fakex, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_X_BASE_URL": fakex,
        "HERALD_X_TRANSACTION_ID": "false",
        "HERALD_SESSION_COOKIE": ALICE_TOKEN,
        "HERALD_SECRET_KEY": "entry points process test key",
        "HERALD_API_KEYS": API_KEY,
        "HERALD_JWT_SECRET": SECRET,
        "HERALD_ENABLE_WRITES": "true",
        "HERALD_WRITE_LIMIT_MINUTE": "100",
        "HERALD_POLL_TIMEOUT": "1",
        "HERALD_COMMAND_RECONCILE_INTERVAL": "0.2",
    }
    writer = {**env, "HERALD_URL": url, "HERALD_TOKEN": make_jwt(scope="commands")}
    reader = {**writer, "HERALD_TOKEN": make_jwt()}
    fake_args = ["fakex", "--port", str(fake_port)]
    serve_args = ["serve", "--port", str(port)]
    async with (
        herald_process(fake_args, env, tmp_path / "fakex.log", f"{fakex}/", timeout=STARTUP),
        httpx.AsyncClient(timeout=30) as http,
    ):
        session = {"authToken": ALICE_TOKEN, "username": "alice"}
        (await http.post(f"{fakex}/_fakex/sessions", json=session)).raise_for_status()
        made = await http.post(f"{fakex}/_fakex/users/bob/tweets", json={"text": "bob's"})
        target = str(made.json()["id"])
        made = await http.post(f"{fakex}/_fakex/users/bob/tweets", json={"text": "bob's 2nd"})
        other = str(made.json()["id"])

        async def counts() -> dict[str, int]:
            found: dict[str, int] = (await http.get(f"{fakex}/_fakex/requests")).json()[
                "operations"
            ]
            return found

        ready = f"{url}/api/health"
        async with herald_process(serve_args, env, tmp_path / "serve.log", ready, timeout=STARTUP):
            headers = {"Authorization": f"Bearer {API_KEY}"}
            body = {"type": "post_tweet", "commandId": "proc-1", "data": {"text": "from REST"}}
            posted = await http.post(f"{url}/api/commands", json=body, headers=headers)
            assert posted.status_code == 200 and posted.json()["state"] == "succeeded", posted.text

            # The CLI, with the same id: the first outcome, no second post.
            code, out, err = await cli(
                writer, "post", "from REST", "--command-id", "proc-1", "--json"
            )
            assert code == 0, err
            assert json.loads(out) == posted.json()
            assert (await counts())["CreateTweet"] == 1

            code, out, err = await cli(writer, "like", target)
            assert code == 0 and f"liked tweet {target}" in out, (out, err)

            code, out, err = await cli(reader, "like", target)
            assert code == 1 and "'commands' scope" in err, (out, err)

            # A like whose answer never comes: uncertain (exit 3), then settled.
            fault = {
                "mode": "timeout_after_commit",
                "operation": "FavoriteTweet",
                "count": 1,
                "seconds": 5,
            }
            (await http.post(f"{fakex}/_fakex/faults", json=fault)).raise_for_status()
            code, out, err = await cli(writer, "like", other, "--command-id", "proc-unsure")
            assert code == 3 and "outcome unknown" in out, (out, err)

            async def settled() -> bool:
                got = await http.get(f"{url}/api/commands/proc-unsure", headers=headers)
                return bool(got.json()["state"] == "succeeded")

            await wait_until(settled, 60, interval=0.2, what="the uncertain like settled")
            code, out, err = await cli(reader, "show", "proc-unsure")
            assert code == 0 and f"liked tweet {other}" in out, (out, err)
            assert (await counts())["FavoriteTweet"] >= 2  # a like is re-issued to settle it
