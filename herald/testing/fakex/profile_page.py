"""``GET /{username}`` and ``GET /search``: minimal pages whose script reads X's GraphQL.

Synthetic (no recording of x.com's app exists, nor could one run here): like x.com's web
app, the page's script reads ``ct0`` from ``document.cookie``, sends it as
``x-csrf-token`` with the public bearer, and calls the same GraphQL operations herald's
client calls (``UserByScreenName`` then ``UserTweets`` on a profile, or ``Followers`` on its
followers tab; ``SearchTimeline``, Latest, on a search), then renders the tweets (or users).
Scrolling to the bottom loads the next page along the timeline's Bottom cursor, as x.com
does. Each load is handed a transaction id that its calls send; the ``signature_refused``
and ``challenge`` faults let those through (see
:data:`~herald.testing.fakex.faults.PAGE_PASSES`).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from herald.sources.x.operations import load_operations
from herald.testing.fakex.service import fakex_of
from herald.testing.fakex.session import issue_ct0

router = APIRouter()
PAGE_OPERATIONS = ("UserByScreenName", "UserTweets", "Followers", "SearchTimeline")
# Paths of one segment that are not profiles (the status page and the control API).
RESERVED = ("_fakex", "i", "search", "favicon.ico")

SCRIPT = """
const CONFIG = JSON.parse(document.getElementById("config").textContent);
const main = document.getElementById("timeline");
let loading = false, bottom = null, more = null;
function ct0() {
  const m = document.cookie.match(/(?:^|; )ct0=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}
async function gql(name, variables) {
  const params = new URLSearchParams({variables: JSON.stringify(variables), features: "{}"});
  const response = await fetch(`/i/api/graphql/${CONFIG.ids[name]}/${name}?${params}`, {
    credentials: "include",
    headers: {
      "authorization": "Bearer " + CONFIG.bearer,
      "x-csrf-token": ct0(),
      "x-client-transaction-id": CONFIG.txid,
      "x-twitter-auth-type": "OAuth2Session",
      "x-twitter-active-user": "yes",
    },
  });
  return response.ok ? response.json() : null;
}
function render(doc) {
  const found = [];
  bottom = null;
  (function walk(o) {
    if (!o || typeof o !== "object") return;
    if (o.cursorType === "Bottom" && o.value) bottom = o.value;
    if (o.rest_id && o.legacy && typeof o.legacy.full_text === "string") found.push(o);
    else if (o.rest_id && o.legacy && typeof o.legacy.screen_name === "string") found.push(o);
    for (const k in o) walk(o[k]);
  })(doc);
  for (const t of found) {
    const a = document.createElement("article");
    a.dataset.id = t.rest_id;
    a.textContent = t.legacy.full_text || "@" + t.legacy.screen_name;
    main.appendChild(a);
  }
  document.body.dataset.pages = String(Number(document.body.dataset.pages || 0) + 1);
}
async function load(variables) {
  loading = true;
  try {
    const doc = await gql(CONFIG.timeline, variables);
    if (doc) render(doc);
  } finally {
    loading = false;
  }
}
window.addEventListener("scroll", () => {
  const atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 4;
  if (atEnd && !loading && bottom && more) load({...more, cursor: bottom});
});
(async () => {
  if (CONFIG.screenName) {
    const user = await gql("UserByScreenName", {screen_name: CONFIG.screenName});
    const id = user && user.data && user.data.user && user.data.user.result
      && user.data.user.result.rest_id;
    if (!id) { document.body.dataset.state = "no-user"; return; }
    more = {userId: id, count: 20, includePromotedContent: CONFIG.timeline !== "Followers"};
  } else {
    more = {rawQuery: CONFIG.query, count: 20, product: "Latest"};
  }
  await load(more);
  document.body.dataset.state = "ready";
})();
"""


def _page(
    request: Request,
    title: str,
    screen_name: str | None,
    query: str | None,
    timeline: str | None = None,
) -> Response:
    fake = fakex_of(request)
    ops = load_operations()
    config = {
        "bearer": ops.bearer,
        "ids": {name: ops[name].query_id for name in PAGE_OPERATIONS},
        "txid": fake.page_id(),
        "screenName": screen_name,
        "query": query,
        "timeline": timeline or ("UserTweets" if screen_name else "SearchTimeline"),
    }
    data = json.dumps(config).replace("</", "<\\/")
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        "<style>article{padding:12px;border-bottom:1px solid #ddd;font:15px sans-serif}"
        "#end{height:120vh}</style></head>"
        '<body><main id="timeline"></main><div id="end"></div>'
        f'<script id="config" type="application/json">{data}</script>'
        f"<script>{SCRIPT}</script></body></html>"
    )
    response = HTMLResponse(body, headers={"cache-control": "no-store"})
    issue_ct0(request, response)  # a session with a bare auth_token gets its ct0 here
    return response


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = "") -> Response:
    """X's search page (``/search?q=...&f=live``): the Latest tab of ``q``."""
    return _page(request, "Search / X", None, q)


def _profile_name(username: str) -> bool:
    return username not in RESERVED and username.replace("_", "").isalnum()


@router.get("/{username}", response_class=HTMLResponse)
async def profile_page(username: str, request: Request) -> Response:
    """A profile page; an unknown name still gets one, and its lookup says "no user"."""
    if not _profile_name(username):
        return Response(status_code=404)
    return _page(request, f"@{username} / X", username, None)


@router.get("/{username}/followers", response_class=HTMLResponse)
async def followers_page(username: str, request: Request) -> Response:
    """A profile's followers tab: ``UserByScreenName``, then ``Followers`` page by page."""
    if not _profile_name(username):
        return Response(status_code=404)
    return _page(request, f"People following @{username} / X", username, None, "Followers")
