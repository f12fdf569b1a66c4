"""Personalised plans through nginx: every cluster reached, bad reports refused, the score
report uploaded straight to S3 (s3rver behind the SigV4-verifying front) through the
presigned URL the API hands out, tampered, expired, too large and wrong-type uploads refused,
then the plan created, paid on the Stripe stand-in and activated with its roadmap email."""

import http.client
import json
import os
import subprocess
import time
import urllib.parse

import pytest

from stack import BUILDDIR, assert_envelope
from test_fulfilment import api_grants, stripe_ctl
from test_webhook import ddb  # noqa: F401


def sec(name, cat, correct, answered, total):
    return {"name": name, "category": cat, "correct": correct, "answered": answered,
            "total": total}


REPORTS = {
    1: [sec("Restorative", "clinical", 25, 50, 50), sec("Pharmacology", "theory", 40, 50, 50)],
    2: [sec("Oral surgery", "clinical", 40, 50, 50), sec("Anatomy", "theory", 20, 50, 50)],
    3: [sec("Periodontics", "clinical", 30, 35, 50), sec("Pathology", "theory", 30, 35, 50)],
    4: [sec("Prosthodontics", "clinical", 10, 50, 50), sec("Physiology", "theory", 10, 50, 50)],
}


def post(stack, path, body):
    return stack.post(path, body=body, source_ip=stack.new_ip())


@pytest.mark.parametrize("cluster", sorted(REPORTS))
def test_every_cluster_is_reached(stack, cluster):
    d = assert_envelope(post(stack, "/v1/personalized-plans/assess",
                             {"sections": REPORTS[cluster]}), 200)["data"]
    assert d["cluster"] == cluster and d["planId"] == "cluster-%d" % cluster
    assert d["priceCents"] > 0 and len(d["reasons"]) == 2 and d["reasons"][0]["text"]


BAD = [
    ("no sections", {}, "sections"),
    ("empty list", {"sections": []}, "sections"),
    ("negative", {"sections": [sec("A", "clinical", -1, 5, 10)]}, "sections[0].correct"),
    ("correct over answered", {"sections": [sec("A", "theory", 6, 5, 10)]},
     "sections[0].correct"),
    ("answered over total", {"sections": [sec("A", "theory", 1, 11, 10)]},
     "sections[0].answered"),
    ("zero total", {"sections": [sec("A", "theory", 0, 0, 0)]}, "sections[0].total"),
    ("unknown category", {"sections": [sec("A", "maths", 1, 1, 1)]}, "sections[0].category"),
    ("huge name", {"sections": [sec("A" * 5000, "theory", 1, 1, 1)]}, "sections[0].name"),
    ("text for a number", {"sections": [dict(sec("A", "theory", 1, 1, 1), correct="1")]},
     "sections[0].correct"),
    ("31 sections", {"sections": [sec("A", "theory", 1, 1, 1)] * 31}, "sections"),
]


@pytest.mark.parametrize("why,body,field", BAD, ids=[b[0] for b in BAD])
def test_bad_reports_are_400(stack, why, body, field):
    e = assert_envelope(post(stack, "/v1/personalized-plans/assess", body), 400)
    assert e["code"] == "VALIDATION_ERROR" and field in e["details"]["fields"], e


def upload_slot(stack, ctype="application/pdf", size=1000):
    return assert_envelope(post(stack, "/v1/personalized-plans/uploads",
                                {"contentType": ctype, "size": size}), 201)["data"]


def put(url, data, ctype, length=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.putrequest("PUT", u.path + "?" + u.query, skip_accept_encoding=True)
        conn.putheader("Content-Type", ctype)
        conn.putheader("Content-Length", str(len(data) if length is None else length))
        conn.endheaders()
        conn.send(data)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_upload_rules(stack):
    for bad, field in ((("text/plain", 10), "contentType"), (("application/pdf", 0), "size"),
                       (("image/png", 10485761), "size")):
        e = assert_envelope(post(stack, "/v1/personalized-plans/uploads",
                                 {"contentType": bad[0], "size": bad[1]}), 400)
        assert field in e["details"]["fields"], e
    pdf = b"%PDF-1.4\n" + os.urandom(991)
    slot = upload_slot(stack, size=len(pdf))
    up = slot["upload"]
    assert up["method"] == "PUT" and up["headers"]["Content-Length"] == len(pdf)
    assert "score-reports/%s/report" % slot["planId"] in urllib.parse.unquote(up["url"])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(up["url"]).query)
    assert q["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert q["X-Amz-Expires"] == ["600"]
    # Refused by S3 (the front checks the signature as AWS would):
    sig = q["X-Amz-Signature"][0]
    tampered = up["url"].replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    assert put(tampered, pdf, "application/pdf")[0] == 403
    assert put(up["url"], pdf, "image/png")[0] == 403                 # another type
    assert put(up["url"], pdf + b"more", "application/pdf")[0] == 403  # another size
    other = up["url"].replace(slot["planId"], "ppl_" + "0" * 24)      # another key
    assert put(other, pdf, "application/pdf")[0] == 403
    status, _ = put(up["url"], pdf, "application/pdf")
    assert status == 200


def test_an_expired_upload_url_is_refused(stack):
    """lib/s3.c presigns through the test CLI with a 3 s lifetime (dated on the whole second
    before now, so at least 2 s are left); the front refuses it once past."""
    cli = os.path.join(BUILDDIR, "t", "sigv4", "s3-cli")
    if not os.path.exists(cli):
        pytest.skip("t/sigv4/s3-cli is not built (make check builds it)")
    env = dict(stack.env, **stack.ports)
    case = {"id": "expiry", "op": "presign", "key": "score-reports/ppl_expiry/report",
            "content_type": "application/pdf", "content_length": 5, "expires": 3,
            "now": int(time.time()), "bucket": stack.ports["S3_SCORE_REPORTS_BUCKET"],
            "endpoint_s3": stack.ports["AWS_ENDPOINT_URL_S3"], "style": "path",
            "region": stack.ports["AWS_REGION"], "access_key": "local", "secret_key": "local",
            "session_token": None}
    r = subprocess.run([cli], input=json.dumps(case) + "\n", env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[0])
    assert out["rc"] == 0, out
    assert put(out["url"], b"%PDF-", "application/pdf")[0] == 200    # in time: accepted
    time.sleep(4.5)
    assert put(out["url"], b"%PDF-", "application/pdf")[0] == 403


def test_create_checks_the_upload_then_pay_activates_with_the_roadmap(stack, ddb):  # noqa
    email = "plan-owner@example.com"
    body = {"email": email, "firstName": "Mei", "sections": REPORTS[1]}
    slot = upload_slot(stack, "image/png", 2048)
    # Not uploaded yet: refused, nothing stored.
    e = assert_envelope(post(stack, "/v1/personalized-plans/create",
                             dict(body, planId=slot["planId"])), 422)
    assert e["details"]["reason"] == "REPORT_NOT_UPLOADED"
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2040)
    assert put(slot["upload"]["url"], png, "image/png")[0] == 200
    e = assert_envelope(post(stack, "/v1/personalized-plans/create",
                             dict(body, planId="pur_" + "0" * 24)), 400)
    assert "planId" in e["details"]["fields"]
    d = assert_envelope(post(stack, "/v1/personalized-plans/create",
                             dict(body, planId=slot["planId"])), 201)["data"]
    assert d["cluster"] == 1 and d["priceCents"] == 17900 and d["checkoutUrl"]
    assert_envelope(post(stack, "/v1/personalized-plans/create",
                         dict(body, planId=slot["planId"])), 409)
    row = ddb.get_item(TableName="prodenthub-personalized-plans", ConsistentRead=True,
                       Key={"planId": {"S": slot["planId"]}})["Item"]
    assert row["scoreReportKey"]["S"] == "score-reports/%s/report" % slot["planId"]
    assert row["scoreReportBytes"]["N"] == "2048" and row["selectedCluster"]["N"] == "1"
    r = stack.get("/v1/personalized-plans/%s/pay" % slot["planId"], source_ip=stack.new_ip())
    assert r.status == 303
    out = stripe_ctl(stack, "sessions/%s/complete" % r.json["data"]["sessionId"])
    assert out["delivery"]["status"] == 200, out["delivery"]
    v = assert_envelope(stack.get("/v1/personalized-plans/" + slot["planId"],
                                  source_ip=stack.new_ip()), 200)["data"]
    assert v["status"] == "active" and v["roadmap"] and "email" not in v
    g = api_grants(stack, email)[slot["planId"]]
    assert g["productId"] == "cluster-1" and g["status"] == "active"
    m = [x for x in stack.wait_mail(email) if "Clinical Knowledge Gap" in x["text"]]
    assert len(m) == 1
    assert v["roadmap"][0]["focus"] in m[0]["text"]
