"""POST /v1/checkout/create and /v1/checkout/verify for every campaign of the registry, through
nginx, the Stripe stand-in and the webhook, to paid and granted; and the seeds' request
contract: their field names as aliases, unknown fields refused by name, bad text refused."""

import os

import pytest

from stack import assert_envelope
from test_fulfilment import api_grants, stripe_ctl
from test_mock_exams import exam, seats
from test_personal import REPORTS, put, upload_slot
from test_teams import get_team, pay_member
from test_webhook import ddb  # noqa: F401


def create(stack, status=201, **body):
    return assert_envelope(stack.post("/v1/checkout/create", body=body,
                                      source_ip=stack.new_ip()), status)


def verify(stack, sid):
    return assert_envelope(stack.post("/v1/checkout/verify", body={"sessionId": sid},
                                      source_ip=stack.new_ip()), 200)["data"]


def complete(stack, sid):
    out = stripe_ctl(stack, "sessions/%s/complete" % sid)
    assert out["delivery"]["status"] == 200, out["delivery"]
    return out


def test_discount_purchase_with_the_seeds_names(stack):
    r = stack.post("/v1/checkout/create", body=dict(
        campaignId="discount-purchase", planType="full-6months", couponCode="SAVE20",
        email="seed-names@example.com", amount=199.00, currency="aud"),
        source_ip=stack.new_ip())
    d = assert_envelope(r, 201)["data"]
    # Integer cents, and beside them the seed's decimal money printed exactly.
    for text in ('"discount":39.80', '"originalAmount":199.00', '"finalAmount":159.20'):
        assert text in r.body, r.body
    assert (d["originalAmountCents"], d["discountCents"], d["finalAmountCents"]) == \
        (19900, 3980, 15920)
    assert d["ignoredFields"] == ["amount", "currency"] and d["sessionId"].startswith("cs_")
    v = verify(stack, d["sessionId"])
    assert v["consistent"] is True and v["campaignId"] == "discount-purchase"
    assert v["recordId"] == d["purchaseId"] and v["amountCents"] == 15920
    complete(stack, d["sessionId"])
    v = verify(stack, d["sessionId"])
    assert v["paymentStatus"] == "paid" and v["recordStatus"] == "paid"
    assert api_grants(stack, "seed-names@example.com")


def test_team_with_the_seeds_flat_leader_leader_pays_first(stack):
    lead = "seed-lead@example.com"
    d = create(stack, campaignId="team-creation", leaderFirstName="John",
               leaderLastName="Doe", leaderEmail=lead, country="Australia",
               planType="full-6months",
               members=[{"name": "Jane Smith", "email": "jane-u@example.com"},
                        {"name": "Raj Patel", "email": "raj-u@example.com"}])["data"]
    assert d["planId"] == "team-full-6months" and d["totalCents"] == 29900
    assert d["totalAmount"] == 299.00 and d["members"][0]["shareAmount"] == 99.67
    emails = [m["email"] for m in d["members"]]
    assert emails == [lead, "jane-u@example.com", "raj-u@example.com"]
    assert d["members"][0]["name"] == "John Doe"
    assert sum(m["shareCents"] for m in d["members"]) == 29900
    assert d["sessionId"].startswith("cs_") and d["checkoutUrl"]
    v = verify(stack, d["sessionId"])
    assert v["consistent"] is True and v["campaignId"] == "team-creation"
    assert v["teamId"] == d["teamId"] and v["amountCents"] == d["members"][0]["shareCents"]
    complete(stack, d["sessionId"])
    assert verify(stack, d["sessionId"])["recordStatus"] == "paid"
    for i in (1, 2):
        pay_member(stack, d, i)
    assert get_team(stack, d["teamId"])["status"] == "fully_paid"
    assert d["teamId"] in api_grants(stack, lead) or api_grants(stack, lead)


def test_team_leader_listed_later_is_moved_first_and_six_in_all_is_refused(stack):
    lead = "lead-later@example.com"
    members = [{"name": "A", "email": "a-l@example.com"}, {"name": "Lee", "email": lead}]
    d = create(stack, campaignId="team-creation",
               leader={"firstName": "Lee", "lastName": "K", "email": lead, "country": "AU"},
               members=members)["data"]
    assert [m["email"] for m in d["members"]] == [lead, "a-l@example.com"]
    five = [{"name": "M" + "ABCDE"[i], "email": "m%d-6@example.com" % i} for i in range(5)]
    e = create(stack, 400, campaignId="team-creation",
               leader={"firstName": "Lee", "lastName": "K", "email": "six@example.com",
                       "country": "AU"}, members=five)
    assert "members" in e["details"]["fields"]


def test_scholarship_through_checkout_to_paid_and_granted(stack):
    email = "uni-scholar@example.com"
    d = create(stack, campaignId="scholarship-application", country="EG", attempts=2,
               lastScore=58, financialHardship=True, studyHoursPerWeek=12, firstName="Omar",
               lastName="H", email=email, statement="First line.\nSecond line.")["data"]
    assert d["priceCents"] == 6450 and d["sessionId"].startswith("cs_")
    v = verify(stack, d["sessionId"])
    assert v["consistent"] is True and v["scholarshipId"] == d["scholarshipId"]
    complete(stack, d["sessionId"])
    assert verify(stack, d["sessionId"])["recordStatus"] == "paid"
    assert api_grants(stack, email)[d["scholarshipId"]]["status"] == "active"


def test_personalized_plan_through_checkout_to_active_and_granted(stack):
    email = "uni-plan@example.com"
    slot = upload_slot(stack, "application/pdf", 1000)
    assert put(slot["upload"]["url"], b"%PDF-" + os.urandom(995), "application/pdf")[0] == 200
    d = create(stack, campaignId="personalized-plan", planId=slot["planId"], email=email,
               firstName="Mei", sections=REPORTS[2])["data"]
    assert d["cluster"] == 2 and d["sessionId"].startswith("cs_")
    v = verify(stack, d["sessionId"])
    assert v["consistent"] is True and v["amountCents"] == d["priceCents"]
    complete(stack, d["sessionId"])
    assert verify(stack, d["sessionId"])["recordStatus"] == "active"
    assert api_grants(stack, email)[slot["planId"]]["productId"] == "cluster-2"


def test_mock_exam_free_confirmed_without_a_session_premium_paid(stack, ddb):  # noqa: F811
    free = exam(ddb, "uni-free", 72)
    d = create(stack, campaignId="mock-exam", mockExamId=free, email="uni-free@example.com",
               firstName="Sam")["data"]
    assert d["status"] == "confirmed" and "sessionId" not in d
    prem = exam(ddb, "uni-prem", 72, type_="premium", title="Premium Uni")
    d = create(stack, campaignId="mock-exam", mockExamId=prem, email="uni-prem@example.com",
               firstName="Sam", metadata={"utm_source": "mail"})["data"]
    assert d["status"] == "pending" and d["sessionId"].startswith("cs_")
    assert verify(stack, d["sessionId"])["consistent"] is True
    complete(stack, d["sessionId"])
    assert verify(stack, d["sessionId"])["recordStatus"] == "confirmed"
    assert seats(ddb, prem) == 1


CONTRACT = [
    ("misspelt coupon field", "/v1/purchases/create",
     {"planId": "full-6months", "email": "typo@example.com", "coupon_code": "SAVE20"},
     "coupon_code", "is not a known field"),
    ("unknown field on validate", "/v1/coupons/validate",
     {"code": "SAVE20", "planId": "full-6months", "discountPercent": 90},
     "discountPercent", "is not a known field"),
    ("alias and field disagree", "/v1/purchases/create",
     {"planId": "full-6months", "email": "two@example.com", "code": "SAVE20",
      "couponCode": "WELCOME10"}, "couponCode", "disagrees"),
    ("unknown nested field", "/v1/teams/create",
     {"leader": {"firstName": "A", "lastName": "B", "email": "nest@example.com",
                 "country": "AU", "nickname": "x"},
      "members": [{"name": "C", "email": "c-n@example.com"}]},
     "leader.nickname", "is not a known field"),
    ("unknown field of a member", "/v1/teams/create",
     {"leader": {"firstName": "A", "lastName": "B", "email": "nest2@example.com",
                 "country": "AU"},
      "members": [{"name": "C", "email": "c-m@example.com", "phone": "1"}]},
     "members[0].phone", "is not a known field"),
    ("lone surrogate in a name", "/v1/purchases/create",
     {"planId": "full-6months", "email": "sur@example.com", "name": "A\ud800"},
     "name", "UTF-8"),
    ("control character in a name", "/v1/mock-exams/register",
     {"mockExamId": "x", "email": "ctl@example.com", "firstName": "A\u0007"},
     "firstName", "UTF-8"),
    ("unknown field through checkout", "/v1/checkout/create",
     {"campaignId": "scholarship-application", "country": "EG", "attempts": 0,
      "financialHardship": False, "studyHoursPerWeek": 5, "firstName": "A", "lastName": "B",
      "email": "x@example.com", "income": 5}, "income", "is not a known field"),
    ("unknown field of a section", "/v1/personalized-plans/assess",
     {"sections": [dict(REPORTS[1][0], weight=2)]}, "sections[0].weight",
     "is not a known field"),
]


@pytest.mark.parametrize("why,path,body,field,text", CONTRACT, ids=[c[0] for c in CONTRACT])
def test_the_contract_refuses_what_it_cannot_read(stack, why, path, body, field, text):
    e = assert_envelope(stack.post(path, body=body, source_ip=stack.new_ip()), 400,
                        "VALIDATION_ERROR")
    assert text in e["details"]["fields"].get(field, ""), e


def test_a_refused_purchase_writes_nothing(stack, ddb):  # noqa: F811
    before = ddb.scan(TableName="prodenthub-discount-purchases", Select="COUNT",
                      ConsistentRead=True)["Count"]
    assert_envelope(stack.post("/v1/purchases/create",
                               body={"planId": "full-6months", "email": "w@example.com",
                                     "couponcode": "SAVE20"}, source_ip=stack.new_ip()), 400)
    after = ddb.scan(TableName="prodenthub-discount-purchases", Select="COUNT",
                     ConsistentRead=True)["Count"]
    assert after == before


def test_coupon_code_alias_on_validate(stack):
    d = assert_envelope(stack.post("/v1/coupons/validate",
                                   body={"couponCode": "SAVE20", "planType": "full-6months"},
                                   source_ip=stack.new_ip()), 200)["data"]
    assert d["valid"] is True and d["discountCents"] == 3980
