"""POST /v1/checkout/create and /v1/checkout/verify through nginx and the Stripe stand-in."""

import json
import urllib.request

import pytest

from stack import assert_envelope, http_json


def stripe_api(stack, path):
    req = urllib.request.Request(stack.ports["STRIPE_API_BASE"] + path,
                                 headers={"Authorization": "Bearer sk_test_local"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def create(stack, **body):
    return stack.post("/v1/checkout/create", body=body, source_ip=stack.new_ip())


def verify(stack, sid):
    return stack.post("/v1/checkout/verify", body={"sessionId": sid}, source_ip=stack.new_ip())


def test_create_passes_metadata_but_never_ours(stack):
    r = create(stack, campaignId="discount-purchase", planId="premium-12months",
               email="meta@example.com", code="SAVE20",
               metadata={"utm_source": "newsletter", "purchaseId": "pur_forged"})
    d = assert_envelope(r, 201)["data"]
    assert d["finalAmountCents"] == 24900
    s = stripe_api(stack, "/v1/checkout/sessions/" + d["sessionId"])
    assert s["metadata"]["utm_source"] == "newsletter"
    assert s["metadata"]["purchaseId"] == d["purchaseId"]
    assert s["metadata"]["campaignId"] == "discount-purchase"


@pytest.mark.parametrize("body,status,code,field", [
    ({"planId": "full-6months", "email": "a@example.com"}, 400, "VALIDATION_ERROR",
     "campaignId"),
    ({"campaignId": "black-friday", "planId": "full-6months", "email": "a@example.com"}, 400,
     "VALIDATION_ERROR", "campaignId"),
    ({"campaignId": "discount-purchase", "planId": "full-6months", "email": "a@example.com",
      "metadata": {"nested": {"x": 1}}}, 400, "VALIDATION_ERROR", "metadata"),
    ({"campaignId": "discount-purchase", "planId": "full-6months", "email": "a@example.com",
      "metadata": {"bad key!": "x"}}, 400, "VALIDATION_ERROR", "metadata"),
    ({"campaignId": "discount-purchase", "planId": "full-6months", "email": "a@example.com",
      "metadata": {"k": "x" * 201}}, 400, "VALIDATION_ERROR", "metadata"),
    ({"campaignId": "discount-purchase", "planId": "full-6months", "email": "a@example.com",
      "metadata": {"k%d" % i: "v" for i in range(21)}}, 400, "VALIDATION_ERROR", "metadata"),
    ({"campaignId": "discount-purchase", "email": "a@example.com"}, 400, "VALIDATION_ERROR",
     "planId"),
])
def test_create_refuses_bad_input(stack, body, status, code, field):
    d = assert_envelope(create(stack, **body), status, code)
    assert field in d["details"]["fields"], d


def test_verify_reconciles_the_session_with_our_record(stack):
    d = assert_envelope(create(stack, campaignId="discount-purchase", planId="basic-1month",
                               email="verify@example.com"), 201)["data"]
    v = assert_envelope(verify(stack, d["sessionId"]), 200)["data"]
    assert v == {"sessionId": d["sessionId"], "status": "open", "paymentStatus": "unpaid",
                 "amountTotalCents": 4900, "campaignId": "discount-purchase",
                 "purchaseId": d["purchaseId"], "recordId": d["purchaseId"],
                 "recordStatus": "pending", "purchaseStatus": "pending", "amountCents": 4900,
                 "consistent": True, "amount": 49.00, "amountTotal": 49.00}
    http_json("POST", stack.ports["STRIPE_API_BASE"] + "/__stripe/sessions/%s/complete"
              % d["sessionId"], {"deliver": False})
    v = assert_envelope(verify(stack, d["sessionId"]), 200)["data"]
    assert v["status"] == "complete" and v["paymentStatus"] == "paid"


def test_verify_unknown_and_malformed_sessions(stack):
    assert_envelope(verify(stack, "cs_test_doesnotexist"), 404, "NOT_FOUND")
    d = assert_envelope(verify(stack, "../v1/balance"), 400, "VALIDATION_ERROR")
    assert "sessionId" in d["details"]["fields"]
