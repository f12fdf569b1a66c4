"""Scholarships through nginx: the worked examples of docs/CAMPAIGNS.md against
/v1/scholarships/calculate (read from the doc itself, so doc and API cannot drift apart), bad
input, apply (no email yet) → pay on the Stripe stand-in → approved, access and email."""

import os
import re

import pytest

from stack import SRCDIR, assert_envelope
from test_fulfilment import api_grants, stripe_ctl
from test_webhook import ddb  # noqa: F401


def doc_cases():
    with open(os.path.join(SRCDIR, "docs", "CAMPAIGNS.md")) as f:
        text = f.read()
    table = text[text.index("**Worked examples**"):]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[A-Z]{2}", cells[0]):
            rows.append(cells)
        elif rows and not line.startswith("|"):
            break
    assert len(rows) >= 10, rows
    return rows


def body_of(country, attempts, last, hardship, hours):
    b = {"country": country, "attempts": int(attempts), "financialHardship": hardship == "yes",
         "studyHoursPerWeek": int(hours)}
    if last != "-":
        b["lastScore"] = int(last)
    return b


def calc(stack, body, status=200):
    return assert_envelope(stack.post("/v1/scholarships/calculate", body=body,
                                      source_ip=stack.new_ip()), status)


@pytest.mark.parametrize("row", doc_cases(), ids=lambda r: r[0])
def test_worked_examples_of_the_doc_match_the_api(stack, row):
    country, attempts, last, hardship, hours, points, percent, price = row
    d = calc(stack, body_of(country, attempts, last, hardship, hours))["data"]
    assert (d["points"], d["percent"], d["priceCents"]) == (int(points), int(percent),
                                                            int(price)), d
    assert d["fullPriceCents"] == 12900 and d["discountCents"] + d["priceCents"] == 12900
    assert d["eligible"] is (int(percent) > 0)
    assert d["planId"] == "scholarship-3months" and d["reasons"]


BAD = [
    ("missing country", lambda b: b.pop("country"), "country"),
    ("country not a code", lambda b: b.update(country="A1"), "country"),
    ("long country", lambda b: b.update(country="AUS"), "country"),
    ("negative attempts", lambda b: b.update(attempts=-1), "attempts"),
    ("attempts as text", lambda b: b.update(attempts="2"), "attempts"),
    ("score over 100", lambda b: b.update(lastScore=101), "lastScore"),
    ("negative score", lambda b: b.update(lastScore=-5), "lastScore"),
    ("score without an attempt", lambda b: b.update(attempts=0), "lastScore"),
    ("no score after attempts", lambda b: b.pop("lastScore"), "lastScore"),
    ("hardship as text", lambda b: b.update(financialHardship="yes"), "financialHardship"),
    ("hours over 100", lambda b: b.update(studyHoursPerWeek=1000), "studyHoursPerWeek"),
    ("fractional hours", lambda b: b.update(studyHoursPerWeek=2.5), "studyHoursPerWeek"),
]


@pytest.mark.parametrize("why,change,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_400(stack, why, change, field):
    body = body_of("IN", 1, 55, "yes", 25)
    change(body)
    e = calc(stack, body, 400)
    assert e["code"] == "VALIDATION_ERROR" and field in e["details"]["fields"], e


def count(ddb):  # noqa: F811
    return ddb.scan(TableName="prodenthub-scholarships", Select="COUNT",
                    ConsistentRead=True)["Count"]


def apply(stack, body, status):
    return assert_envelope(stack.post("/v1/scholarships/apply", body=body,
                                      source_ip=stack.new_ip()), status)


def test_apply_refuses_bad_input_and_the_ineligible_and_writes_nothing(stack, ddb):  # noqa
    before = count(ddb)
    person = {"firstName": "Priya", "lastName": "N", "email": "priya@example.com"}
    e = apply(stack, dict(body_of("IN", 1, 55, "yes", 25), email="nope"), 400)
    assert {"firstName", "lastName", "email"} <= set(e["details"]["fields"])
    e = apply(stack, dict(body_of("AU", 0, "-", "no", 0), **person), 422)
    assert e["details"]["reason"] == "NOT_ELIGIBLE"
    assert e["details"]["calculation"]["percent"] == 0
    e = apply(stack, dict(body_of("IN", 1, 55, "yes", 25), statement="x" * 5000, **person),
              400)
    assert "statement" in e["details"]["fields"]
    assert count(ddb) == before


def test_apply_pay_and_approval_with_the_emails(stack, ddb):  # noqa: F811
    email = "scholar@example.com"
    body = dict(body_of("EG", 2, 58, "yes", 12), firstName="Omar", lastName="Haddad",
                email=email, statement="Supporting my family while preparing.")
    d = apply(stack, body, 201)["data"]
    assert d["percent"] == 50 and d["priceCents"] == 6450 and d["status"] == "submitted"
    sid = d["scholarshipId"]
    assert d["checkoutUrl"] and d["payUrl"].endswith("/scholarships/%s/pay" % sid)
    assert "previous attempts" in " ".join(r["text"] for r in d["reasons"])
    pub = assert_envelope(stack.get("/v1/scholarships/" + sid, source_ip=stack.new_ip()),
                          200)["data"]
    assert pub["status"] == "submitted" and "email" not in pub and "lastName" not in pub
    # The pay link gives the same open session.
    r = stack.get("/v1/scholarships/%s/pay" % sid, source_ip=stack.new_ip())
    assert r.status == 303 and r.header("location") == d["checkoutUrl"]
    session = r.json["data"]["sessionId"]
    out = stripe_ctl(stack, "sessions/%s/complete" % session)
    assert out["delivery"]["status"] == 200, out["delivery"]
    assert out["event"]["data"]["object"]["amount_total"] == 6450
    pub = assert_envelope(stack.get("/v1/scholarships/" + sid, source_ip=stack.new_ip()),
                          200)["data"]
    assert pub["status"] == "paid" and pub["accessUntil"] > pub["paidAt"]
    g = api_grants(stack, email)[sid]
    assert g["status"] == "active" and g["productId"] == "scholarship-3months"
    # The approval is the application's first email (none before payment).
    mails = stack.wait_mail(email)
    approved = [x for x in mails if "approved" in x["subject"].lower()]
    assert len(mails) == 1 and len(approved) == 1 and "A$64.50" in approved[0]["text"]
    r = stack.get("/v1/scholarships/%s/pay" % sid, source_ip=stack.new_ip())
    assert_envelope(r, 409, "CONFLICT")
    assert_envelope(stack.get("/v1/scholarships/sch_" + "0" * 24, source_ip=stack.new_ip()),
                    404, "NOT_FOUND")
