"""``herald x post|delete|like|retweet|show|commands``: X write commands, over REST.

Each command gets a ``--command-id`` (one is made when none is given, and printed), so
running the same line again after a dropped connection is safe: the server answers the
first outcome and never acts twice. Exit codes: 0 done (or accepted with ``--no-wait``),
1 failed or refused, 3 uncertain (X did not answer in time; herald settles it later).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli.client import DEFAULT_TIMEOUT, CliError, HeraldClient
from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, fail, out, print_json

app = typer.Typer(
    name="x",
    help="Act on X: post, delete, like, retweet (needs HERALD_ENABLE_WRITES=true on the server).",
    no_args_is_help=True,
)
EXIT_UNCERTAIN = 3
_WRITES = "Write"
TweetId = Annotated[str, typer.Argument(help="The tweet's id.")]
CommandIdOpt = Annotated[
    str | None,
    typer.Option(
        "--command-id",
        help="Idempotency key: the same id again answers the first outcome. Default: made up.",
        rich_help_panel=_WRITES,
    ),
]
AccountOpt = Annotated[
    str | None,
    typer.Option("--account", help="The X account id to act as.", rich_help_panel=_WRITES),
]
NoWaitOpt = Annotated[
    bool,
    typer.Option("--no-wait", help="Return once recorded; see it with `herald x show`."),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.1, max=120, help="Seconds to wait for the outcome."),
]
UndoOpt = Annotated[bool, typer.Option("--undo", help="Take it back instead.")]

_DONE = {
    "post_tweet": "posted tweet",
    "delete_tweet": "deleted tweet",
    "like_tweet": "liked tweet",
    "unlike_tweet": "unliked tweet",
    "retweet": "retweeted tweet",
    "unretweet": "undid the retweet of tweet",
}


def refusal_message(body: Any) -> str:
    """One line per refusal (an ``{error, detail}`` answer), saying what to do about it."""
    if not isinstance(body, dict):
        return "herald answered something other than a command"
    code = body.get("error")
    detail = str(body.get("detail") or code or "refused")
    if code == "writes_disabled":
        return (
            "X writes are off on this server: start it with HERALD_ENABLE_WRITES=true "
            "(docs/commands.md)"
        )
    if code == "forbidden":
        return f"{detail} (docs/auth.md)"
    if code in ("write_rate_limited", "rate_limited"):
        retry = body.get("retryAfter")
        known = retry is None or "retry" in detail.lower()
        return detail if known else f"{detail}; retry in {retry}s"
    if code == "account_paused":
        return f"{detail} (see `herald accounts list`)"
    if code == "unauthorized":
        return f"{detail} (pass --token or set HERALD_TOKEN)"
    return detail


def _send(
    body: dict[str, Any],
    *,
    url: str,
    token: str | None,
    wait: bool,
    timeout: float | None,
    json_out: bool,
) -> None:
    body.setdefault("commandId", f"cli-{uuid.uuid4().hex}")
    params: dict[str, Any] = {"wait": "true" if wait else "false"}
    if timeout is not None:
        params["timeout"] = timeout
    http_timeout = max(timeout or 0.0, DEFAULT_TIMEOUT) + 10
    refused = (400, 401, 403, 404, 409, 413, 429, 503)
    try:
        with HeraldClient(url, token, timeout=http_timeout) as client:
            answer = client.request("POST", "/api/commands", json=body, params=params, ok=refused)
    except CliError as exc:
        fail(f"{exc.message} (command {body['commandId']}: run it again with this --command-id)")
    if not isinstance(answer, dict) or "state" not in answer:
        if json_out:
            print_json(answer)
        fail(refusal_message(answer))
    if json_out:
        print_json(answer)
    else:
        out.print(describe(answer), markup=False)
    state = answer.get("state")
    if state == "failed":
        raise typer.Exit(1)
    if state == "uncertain":
        raise typer.Exit(EXIT_UNCERTAIN)


def describe(command: dict[str, Any]) -> str:
    """A command's outcome as one line."""
    kind, state, cid = command.get("type"), command.get("state"), command.get("id")
    result: dict[str, Any] = command.get("result") or {}
    if state == "succeeded":
        tweet = result.get("tweetId") or (command.get("data") or {}).get("tweet_id")
        text = f"{_DONE.get(str(kind), str(kind))} {tweet}"
        if result.get("url"):
            text += f" {result['url']}"
        return f"{text} (command {cid})"
    if state == "failed":
        error: dict[str, Any] = command.get("error") or {}
        why = error.get("message") or error.get("code") or "no reason given"
        return f"{kind} failed: {why} (command {cid})"
    if state == "uncertain":
        return (
            f"{kind}: outcome unknown (X did not answer in time); herald finds out and "
            f"settles it: check with `herald x show {cid}`, and do not resend it under "
            "another --command-id"
        )
    return f"{kind} accepted, {state} (command {cid}): see `herald x show {cid}`"


def _options(
    kind: str, data: dict[str, Any], command_id: str | None, account: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "data": {k: v for k, v in data.items() if v}}
    if command_id:
        body["commandId"] = command_id
    if account:
        body["accountId"] = account
    return body


@app.command()
def post(
    text: Annotated[str, typer.Argument(help="The tweet's text.")],
    reply_to: Annotated[str | None, typer.Option("--reply-to", help="Reply to this tweet.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="Quote this tweet.")] = None,
    command_id: CommandIdOpt = None,
    account: AccountOpt = None,
    no_wait: NoWaitOpt = False,
    timeout: TimeoutOpt = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Post a tweet (a reply with --reply-to, a quote with --quote)."""
    data = {"text": text, "reply_to_tweet_id": reply_to, "quote_tweet_id": quote}
    body = _options("post_tweet", data, command_id, account)
    _send(body, url=url, token=token, wait=not no_wait, timeout=timeout, json_out=json_out)


def _tweet_command(kind: str, undo_kind: str | None, help_text: str) -> Any:
    def command(
        tweet_id: TweetId,
        undo: UndoOpt = False,
        command_id: CommandIdOpt = None,
        account: AccountOpt = None,
        no_wait: NoWaitOpt = False,
        timeout: TimeoutOpt = None,
        url: UrlOpt = DEFAULT,
        token: TokenOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        if undo and undo_kind is None:
            fail("--undo: a delete cannot be undone")
        chosen = undo_kind if undo and undo_kind is not None else kind
        body = _options(chosen, {"tweet_id": tweet_id}, command_id, account)
        _send(body, url=url, token=token, wait=not no_wait, timeout=timeout, json_out=json_out)

    command.__doc__ = help_text
    return command


app.command("delete")(_tweet_command("delete_tweet", None, "Delete one of your tweets."))
app.command("like")(_tweet_command("like_tweet", "unlike_tweet", "Like a tweet (--undo unlikes)."))
app.command("retweet")(
    _tweet_command("retweet", "unretweet", "Retweet a tweet (--undo undoes the retweet).")
)


@app.command()
def show(
    command_id: Annotated[str, typer.Argument(help="The command's id.")],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One command: its state and its result or error."""
    with HeraldClient(url, token) as client:
        try:
            answer = client.get(f"/api/commands/{_segment(command_id)}")
        except CliError as exc:
            fail(exc.message)
    if json_out:
        print_json(answer)
        return
    out.print(describe(answer), markup=False)


@app.command("commands")
def list_commands(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The most recent commands, newest first."""
    with HeraldClient(url, token) as client:
        try:
            answer = client.get("/api/commands", params={"limit": limit})
        except CliError as exc:
            fail(exc.message)
    if json_out:
        print_json(answer)
        return
    table = Table(title=f"{answer.get('count', 0)} command(s)", title_justify="left")
    for column in ("id", "type", "state", "requested", "tweet id"):
        table.add_column(column)
    for c in answer.get("commands", []):
        tweet = (c.get("result") or {}).get("tweetId") or (c.get("data") or {}).get("tweet_id")
        table.add_row(
            *(escape(str(v or "-")) for v in (c.get("id"), c.get("type"), c.get("state"))),
            escape(str(c.get("requestedAt", "-"))),
            escape(str(tweet or "-")),
        )
    out.print(table)


def _segment(command_id: str) -> str:
    if not command_id or any(ch in command_id for ch in "/?#"):
        fail(f"{command_id!r} is not a command id")
    return command_id


def register(parent: typer.Typer) -> None:
    parent.add_typer(app)
