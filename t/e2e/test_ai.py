"""AI generation through nginx: signed-in, subscribed users get answers from the Bedrock
stand-in (t/bedrock/bedrock_standin.py, behind a sigfront that verifies every signature
for the service "bedrock" with botocore), stored and listed newest first with a cursor
bound to the user; the monthly quota is taken by a conditional write before Bedrock is
called, so 50 concurrent requests with 10 left reach Bedrock exactly 10 times, and every
Bedrock fault (5xx, throttling, refusals, timeouts) is a clear 502/504 that gives the
request back."""

import base64
import concurrent.futures
import datetime
import json
import time
import uuid

import pytest

from stack import assert_envelope, http_json
from test_webhook import ddb  # noqa: F401

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TABLE = "prodenthub-app"
LIMIT = 100                 # AI_MONTHLY_REQUESTS's default
TIMEOUT_MS = 2500           # BEDROCK_TIMEOUT_MS of the suite's stack (conftest.py)


# --- helpers ---------------------------------------------------------------------------

class User:
    def __init__(self, stack, ddb, status="active"):
        self.email = "ai.%s@example.com" % uuid.uuid4().hex[:10]
        token = stack.token(self.email)
        payload = token.split(".")[1]
        self.sub = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
            "sub"]
        self.headers = {"Authorization": "Bearer " + token}
        if status:
            ddb.put_item(TableName=TABLE, Item={
                "pk": {"S": "USER#" + self.sub}, "sk": {"S": "SUBSCRIPTION"},
                "status": {"S": status}, "planId": {"S": "pro-monthly"}})


def generate(stack, user, body):
    return stack.post("/v1/ai/generate", body=body, headers=user.headers,
                      source_ip=stack.new_ip(), timeout=30)


def history(stack, user, query=""):
    return stack.get("/v1/ai/history" + query, headers=user.headers, source_ip=stack.new_ip())


def month_and_reset():
    now = datetime.datetime.now(datetime.timezone.utc)
    nxt = (now.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return now.strftime("%Y-%m"), nxt.strftime("%Y-%m-01T00:00:00Z")


def set_used(ddb, user, used):
    month, _ = month_and_reset()
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "USER#" + user.sub},
                                        "sk": {"S": "QUOTA#" + month},
                                        "used": {"N": str(used)}})


def used(ddb, user):
    month, _ = month_and_reset()
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "USER#" + user.sub},
                                              "sk": {"S": "QUOTA#" + month}},
                        ConsistentRead=True).get("Item")
    return int(item["used"]["N"]) if item else None


def standin(stack, what="stats", method="GET"):
    return http_json(method, "http://127.0.0.1:%s/__bedrock/%s"
                     % (stack.ports["BEDROCK_STANDIN_PORT"], what))


def front(stack, what="stats", method="GET", body=None):
    return http_json(method, "http://127.0.0.1:%s/__front/%s"
                     % (stack.ports["BEDROCK_FRONT_PORT"], what), body)


@pytest.fixture
def bedrock(stack):
    """A clean slate at the stand-in and its front (counters, queued faults)."""
    front(stack, "reset", "POST")
    standin(stack, "reset", "POST")
    yield
    front(stack, "reset", "POST")


# --- generation --------------------------------------------------------------------------

def test_an_answer_is_stored_and_signed_for_bedrock(stack, ddb, bedrock):
    u = User(stack, ddb)
    prompt = "What causes dental caries?\nAnswer briefly."
    d = assert_envelope(generate(stack, u, {"prompt": prompt}), 201)["data"]
    assert d["response"] == "You asked: What causes dental caries? Answer briefly."
    assert d["prompt"] == prompt and d["userId"] == u.sub and d["model"] == HAIKU
    assert d["inputTokens"] == 6 and d["outputTokens"] == 8 and d["tokensUsed"] == 14
    assert d["stopReason"] == "end_turn" and d["id"].startswith("ai_")
    _, reset = month_and_reset()
    assert d["quota"] == {"limit": LIMIT, "used": 1, "resetAt": reset}
    s = standin(stack)
    assert s["calls"] == 1 and s["models"] == {HAIKU: 1}, s
    assert s["last"]["messages"] == [{"role": "user", "content": [{"text": prompt}]}]
    assert s["last"]["maxTokens"] == 1024 and s["last"]["system"] == []
    f = front(stack)
    assert f["ok"] == 1 and f["rejected"] == 0, f       # botocore verified the signature
    row = ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
                    ExpressionAttributeValues={":p": {"S": "USER#" + u.sub},
                                               ":a": {"S": "AI#"}},
                    ConsistentRead=True)["Items"]
    assert len(row) == 1 and row[0]["id"]["S"] == d["id"]
    assert row[0]["sk"]["S"] == "AI#%s#%s" % (d["createdAt"], d["id"])
    assert row[0]["response"]["S"] == d["response"]
    assert used(ddb, u) == 1


def test_the_quota_row_expires_35_days_after_its_month(stack, ddb, bedrock):
    u = User(stack, ddb)
    assert_envelope(generate(stack, u, {"prompt": "When?"}), 201)
    month, reset = month_and_reset()
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "USER#" + u.sub},
                                              "sk": {"S": "QUOTA#" + month}},
                        ConsistentRead=True)["Item"]
    end = datetime.datetime.strptime(reset, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert int(item["ttl"]["N"]) == int(end.timestamp()) + 35 * 86400, item
    assert item["used"]["N"] == "1"
    # the table deletes rows by it (prodenthubctl create-tables enabled it from app.json)
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}, ttl


def test_the_model_is_chosen_from_the_allow_list(stack, ddb, bedrock):
    u = User(stack, ddb)
    d = assert_envelope(generate(stack, u, {"prompt": "Hi", "model": HAIKU}), 201)["data"]
    assert d["model"] == HAIKU
    e = assert_envelope(generate(stack, u, {"prompt": "Hi", "model": "amazon.titan-text-"
                                            "express-v1"}), 400, "VALIDATION_ERROR")
    assert "model" in e["details"]["fields"], e
    assert standin(stack)["calls"] == 1 and used(ddb, u) == 1


BAD = [
    ("no prompt", {}, "prompt"),
    ("empty prompt", {"prompt": ""}, "prompt"),
    ("a number", {"prompt": 42}, "prompt"),
    ("over AI_MAX_PROMPT_BYTES", {"prompt": "x" * 8193}, "prompt"),
    ("over it in UTF-8 bytes", {"prompt": "\u00e9" * 4097}, "prompt"),
    ("a control character", {"prompt": "a\u0007b"}, "prompt"),
    ("an unknown member", {"prompt": "Hi", "userId": "someone-else"}, "userId"),
    ("an empty model", {"prompt": "Hi", "model": ""}, "model"),
]


@pytest.mark.parametrize("why,body,field", BAD, ids=[b[0] for b in BAD])
def test_bad_bodies_are_400_and_spend_nothing(stack, ddb, bedrock, why, body, field):
    u = User(stack, ddb)
    e = assert_envelope(generate(stack, u, body), 400, "VALIDATION_ERROR")
    assert field in e["details"]["fields"], e
    assert standin(stack)["requests"] == 0 and used(ddb, u) is None


def test_the_largest_prompt_is_accepted(stack, ddb, bedrock):
    u = User(stack, ddb)
    assert_envelope(generate(stack, u, {"prompt": "x" * 8192}), 201)


@pytest.mark.parametrize("status,reason", [(None, "inactive"), ("canceled", "canceled"),
                                           ("past_due", "past_due")])
def test_without_an_active_subscription_nothing_is_called(stack, ddb, bedrock, status, reason):
    u = User(stack, ddb, status)
    e = assert_envelope(generate(stack, u, {"prompt": "Hi"}), 403, "SUBSCRIPTION_REQUIRED")
    assert e["details"]["reason"] == reason, e
    assert standin(stack)["requests"] == 0 and used(ddb, u) is None


def test_trialing_is_enough(stack, ddb, bedrock):
    assert_envelope(generate(stack, User(stack, ddb, "trialing"), {"prompt": "Hi"}), 201)


def test_no_token_is_401(stack, bedrock):
    nobody = type("Nobody", (), {"headers": {}})()
    for r in (generate(stack, nobody, {"prompt": "Hi"}), history(stack, nobody)):
        assert_envelope(r, 401, "UNAUTHORIZED")
        assert r.header("www-authenticate").startswith('Bearer realm="prodenthub"')
    assert standin(stack)["requests"] == 0


# --- the quota ---------------------------------------------------------------------------

def test_50_concurrent_requests_with_10_left_reach_bedrock_10_times(stack, ddb, bedrock):
    u = User(stack, ddb)
    set_used(ddb, u, LIMIT - 10)
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        got = list(ex.map(lambda i: generate(stack, u, {"prompt": "Question %d" % i}),
                          range(50)))
    ok = [r for r in got if r.status == 201]
    spent = [r for r in got if r.status == 429]
    assert len(ok) == 10 and len(spent) == 40, [r.status for r in got]
    _, reset = month_and_reset()
    for r in spent:
        e = assert_envelope(r, 429, "QUOTA_EXCEEDED")
        assert e["details"]["resetAt"] == reset and e["details"]["reason"] == \
            "AI_MONTHLY_REQUESTS", e
        wait = int(r.header("retry-after"))
        left = (datetime.datetime.strptime(reset, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc) - datetime.datetime.now(datetime.timezone.utc))
        assert abs(wait - left.total_seconds()) < 60, (wait, left)
    assert sorted(assert_envelope(r, 201)["data"]["quota"]["used"] for r in ok) == \
        list(range(LIMIT - 9, LIMIT + 1))
    assert standin(stack)["calls"] == 10           # counted where Bedrock would bill them
    assert used(ddb, u) == LIMIT
    assert_envelope(generate(stack, u, {"prompt": "One more"}), 429, "QUOTA_EXCEEDED")
    assert standin(stack)["calls"] == 10
    sessions = assert_envelope(history(stack, u, "?limit=50"), 200)["data"]["sessions"]
    assert len(sessions) == 10


FAULTS = [
    # (name, fault queued at the front, answer, code, calls that reach the stand-in)
    ("unavailable on every attempt", {"count": 3, "status": 503,
                                      "type": "ServiceUnavailableException"},
     502, "UPSTREAM_ERROR", 0),
    ("internal error on every attempt", {"count": 3, "status": 500,
                                         "type": "InternalServerException"},
     502, "UPSTREAM_ERROR", 0),
    ("throttled on every attempt", {"count": 3, "status": 429, "type": "ThrottlingException"},
     502, "UPSTREAM_ERROR", 0),
    ("refused: validation", {"count": 1, "status": 400, "type": "ValidationException"},
     502, "UPSTREAM_ERROR", 0),
    ("refused: access to the model", {"count": 1, "status": 403,
                                      "type": "AccessDeniedException"},
     502, "UPSTREAM_ERROR", 0),
    ("the model timed out", {"count": 1, "status": 408, "type": "ModelTimeoutException"},
     504, "UPSTREAM_TIMEOUT", 0),
    # (curl also sends again, once, a request whose reused connection died: more than 3)
    ("the connection dropped on every attempt", {"count": 6, "drop": True},
     502, "UPSTREAM_ERROR", 0),
    ("no answer within BEDROCK_TIMEOUT_MS", {"count": 1, "delay": TIMEOUT_MS / 1000.0 + 1.5},
     504, "UPSTREAM_TIMEOUT", 1),
]


@pytest.mark.parametrize("name,fault,status,code,calls", FAULTS, ids=[f[0] for f in FAULTS])
def test_bedrock_faults_are_502_or_504_and_give_the_request_back(stack, ddb, bedrock, name,
                                                                  fault, status, code, calls):
    u = User(stack, ddb)
    set_used(ddb, u, 7)
    front(stack, "fail", "POST", dict(fault, message="Injected: " + name))
    t0 = time.monotonic()
    r = generate(stack, u, {"prompt": "Hi there"})
    took = time.monotonic() - t0
    e = assert_envelope(r, status, code)
    assert e["error"] in ("A backing service answered with an error",
                          "A backing service did not answer in time"), e
    assert "Injected" not in r.body
    assert used(ddb, u) == 7, name                 # given back
    if not fault.get("drop"):
        assert front(stack)["faults_pending"] == [], name
    assert took < TIMEOUT_MS / 1000.0 + 2, took
    deadline = time.monotonic() + 5                # a late call still reaches the stand-in
    while standin(stack)["calls"] < calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert standin(stack)["calls"] == calls, name
    assert assert_envelope(history(stack, u), 200)["data"]["sessions"] == []


def test_a_throttled_attempt_is_retried(stack, ddb, bedrock):
    u = User(stack, ddb)
    front(stack, "fail", "POST", {"count": 1, "status": 429, "type": "ThrottlingException"})
    d = assert_envelope(generate(stack, u, {"prompt": "Hi"}), 201)["data"]
    assert d["quota"]["used"] == 1 and used(ddb, u) == 1
    f = front(stack)
    assert f["injected"] == 1 and f["ok"] == 1, f
    assert standin(stack)["calls"] == 1


# --- history -----------------------------------------------------------------------------

def test_history_is_newest_first_in_pages(stack, ddb, bedrock):
    u = User(stack, ddb)
    ids = []
    for i in range(3):
        if i:
            time.sleep(1.05)                       # a new second: a strict order
        ids.append(assert_envelope(generate(stack, u, {"prompt": "Q%d" % i}), 201)["data"]["id"])
    seen, cursor, pages = [], None, 0
    while True:
        q = "?limit=2" + ("&cursor=" + cursor if cursor else "")
        page = assert_envelope(history(stack, u, q), 200)["data"]
        pages += 1
        seen += page["sessions"]
        cursor = page["nextCursor"]
        if not cursor:
            break
        assert len(page["sessions"]) == 2 and all(c not in cursor for c in "+/= ")
    assert [s["id"] for s in seen] == ids[::-1] and pages in (2, 3)
    assert [s["prompt"] for s in seen] == ["Q2", "Q1", "Q0"]
    assert all(s["userId"] == u.sub and "quota" not in s for s in seen)
    assert assert_envelope(history(stack, u), 200)["data"]["nextCursor"] is None


def test_a_cursor_cannot_be_moved_to_another_user(stack, ddb, bedrock):
    a, b = User(stack, ddb), User(stack, ddb)
    for i in range(2):
        assert_envelope(generate(stack, a, {"prompt": "A%d" % i}), 201)
    assert_envelope(generate(stack, b, {"prompt": "B0"}), 201)
    cursor = assert_envelope(history(stack, a, "?limit=1"), 200)["data"]["nextCursor"]
    assert cursor
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    sk = base64.urlsafe_b64encode(b"AI#9999-01-01T00:00:00Z#x").decode().rstrip("=")
    for bad in (flipped, "p1." + sk, "s1." + sk, "garbage", "x" * 600):
        assert_envelope(history(stack, a, "?cursor=" + bad), 400, "BAD_REQUEST")
    e = assert_envelope(history(stack, b, "?cursor=" + cursor), 400, "BAD_REQUEST")
    assert "cursor" in e["error"]
    mine = assert_envelope(history(stack, b), 200)["data"]["sessions"]
    assert [s["prompt"] for s in mine] == ["B0"]
    rest = assert_envelope(history(stack, a, "?cursor=" + cursor), 200)["data"]
    assert len(rest["sessions"]) == 1 and rest["sessions"][0]["userId"] == a.sub


@pytest.mark.parametrize("query", ["?limit=0", "?limit=51", "?limit=x", "?limit="])
def test_bad_limits_are_400(stack, ddb, query):
    assert_envelope(history(stack, User(stack, ddb, None), query), 400, "BAD_REQUEST")


def test_history_needs_no_subscription(stack, ddb):
    page = assert_envelope(history(stack, User(stack, ddb, None)), 200)["data"]
    assert page == {"sessions": [], "nextCursor": None}


# --- the stand-in itself, signed by botocore ------------------------------------------------

def converse(stack, model, body, sign=True):
    """A Converse call to the front, signed by botocore as its bedrock-runtime client signs:
    (status, x-amzn-ErrorType, JSON body)."""
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode

    port = stack.ports["BEDROCK_FRONT_PORT"]
    path = "/model/%s/converse" % percent_encode(model)
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url="http://127.0.0.1:%s%s" % (port, path), data=data,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials("local", "local"), "bedrock", "ap-southeast-2").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        conn.request("POST", path, body=data, headers=dict(req.headers.items()))
        r = conn.getresponse()
        return r.status, r.getheader("x-amzn-ErrorType"), json.loads(r.read() or b"null")
    finally:
        conn.close()


def msgs(*texts):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": [{"text": t}]}
            for i, t in enumerate(texts)]


STANDIN = [
    ("an answer", HAIKU, {"messages": msgs("Hello there"), "system": [{"text": "Be brief"}]},
     200, None),
    ("an ARN-like id is not a model it knows", "arn:aws:bedrock:x:1:inference-profile/y",
     {"messages": msgs("Hi")}, 404, "ResourceNotFoundException"),
    ("no messages", HAIKU, {"messages": []}, 400, "ValidationException"),
    ("roles not alternating", HAIKU,
     {"messages": msgs("a") + msgs("b")}, 400, "ValidationException"),
    ("starting with the assistant", HAIKU,
     {"messages": [{"role": "assistant", "content": [{"text": "a"}]}]}, 400,
     "ValidationException"),
    ("an unknown member", HAIKU, {"messages": msgs("a"), "prompt": "a"}, 400,
     "ValidationException"),
    ("maxTokens 0", HAIKU, {"messages": msgs("a"), "inferenceConfig": {"maxTokens": 0}}, 400,
     "ValidationException"),
    ("an empty text block", HAIKU, {"messages": msgs("")}, 400, "ValidationException"),
]


@pytest.mark.parametrize("name,model,body,status,type_", STANDIN, ids=[s[0] for s in STANDIN])
def test_the_standin_answers_as_bedrock_does(stack, bedrock, name, model, body, status, type_):
    got, etype, out = converse(stack, model, body)
    assert (got, etype) == (status, type_), out
    if status == 200:
        assert out["output"]["message"]["content"] == [{"text": "You asked: Hello there"}]
        assert out["usage"] == {"inputTokens": 4, "outputTokens": 4, "totalTokens": 8}
        assert out["stopReason"] == "end_turn" and out["metrics"]["latencyMs"] >= 0
    else:
        assert out["message"]
    assert front(stack)["rejected"] == 0


def test_the_standin_cuts_at_max_tokens(stack, bedrock):
    _, _, out = converse(stack, HAIKU, {"messages": msgs("one two three"),
                                        "inferenceConfig": {"maxTokens": 2}})
    assert out["stopReason"] == "max_tokens" and out["usage"]["outputTokens"] == 2
    assert out["output"]["message"]["content"][0]["text"] == "You asked:"


def test_the_front_refuses_an_unsigned_call_as_bedrock_does(stack, bedrock):
    status, etype, out = converse(stack, HAIKU, {"messages": msgs("Hi")}, sign=False)
    assert (status, etype) == (403, "MissingAuthenticationTokenException"), out
    assert standin(stack)["requests"] == 0
