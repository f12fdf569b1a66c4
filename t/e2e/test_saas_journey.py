"""One user through the whole SaaS product, through nginx and the public API only: a token
from the local user pool, sign-in, a refusal without a subscription, an embedded
subscription checkout completed at the Stripe stand-in and its signed events, an AI answer
from the Bedrock stand-in and its history, an upload to S3, and the end of the
subscription closing the paid routes again."""

import uuid

from stack import assert_envelope
from test_personal import put
from test_subscriptions import ctl


def call(stack, method, path, headers, body=None):
    return stack.request(method, path, body=body, headers=headers, source_ip=stack.new_ip(),
                         timeout=30)


def test_a_user_from_sign_in_to_cancellation(stack):
    email = "journey.%s@example.com" % uuid.uuid4().hex[:8]
    h = stack.bearer(email)

    me = assert_envelope(call(stack, "POST", "/v1/auth/session", h), 200)["data"]
    assert me["email"] == email and me["subscriptionStatus"] == "inactive"

    e = assert_envelope(call(stack, "POST", "/v1/ai/generate", h, {"prompt": "Hi"}), 403,
                        "SUBSCRIPTION_REQUIRED")
    assert e["details"]["reason"] == "inactive"

    co = assert_envelope(call(stack, "POST", "/v1/stripe/checkout", h,
                              {"priceId": "price_basic_monthly"}), 200)["data"]
    done = ctl(stack, "sessions/%s/complete" % co["sessionId"])
    assert [d["status"] for d in done["deliveries"]] == [200, 200, 200], done["deliveries"]
    st = assert_envelope(call(stack, "GET", "/v1/subscription/status", h), 200)["data"]
    assert st["status"] == "active" and st["priceId"] == "price_basic_monthly"
    me = assert_envelope(call(stack, "POST", "/v1/auth/session", h), 200)["data"]
    assert me["subscriptionStatus"] == "active"

    ai = assert_envelope(call(stack, "POST", "/v1/ai/generate", h,
                              {"prompt": "Name the four tooth types."}), 201)["data"]
    assert ai["userId"] == me["id"] and ai["tokensUsed"] > 0 and ai["response"]
    hist = assert_envelope(call(stack, "GET", "/v1/ai/history", h), 200)["data"]
    assert [s["id"] for s in hist["sessions"]] == [ai["id"]]

    data = b"molar,premolar,canine,incisor\n"
    up = assert_envelope(call(stack, "POST", "/v1/upload/url", h,
                              {"fileName": "teeth.csv", "contentType": "text/csv",
                               "size": len(data)}), 201)["data"]
    assert up["key"].startswith("uploads/%s/" % me["id"])
    assert put(up["uploadUrl"], data, "text/csv")[0] == 200

    gone = ctl(stack, "subscriptions/%s/delete" % done["subscription"]["id"])
    assert all(d["status"] == 200 for d in gone["deliveries"]), gone
    st = assert_envelope(call(stack, "GET", "/v1/subscription/status", h), 200)["data"]
    assert st["status"] == "canceled"
    e = assert_envelope(call(stack, "POST", "/v1/ai/generate", h, {"prompt": "Hi"}), 403,
                        "SUBSCRIPTION_REQUIRED")
    assert e["details"]["reason"] == "canceled"
    hist = assert_envelope(call(stack, "GET", "/v1/ai/history", h), 200)["data"]
    assert [s["id"] for s in hist["sessions"]] == [ai["id"]]     # history stays readable
