"""Nobody can make the service email anyone with their own text (issue 12, item 11).

A team emails nobody until its leader (member 0) has paid, and the members' pay links wait
for the leader; names are plain names; a scholarship application emails nobody before it is
paid; a free mock registration's confirmation, the only email a request without a payment
sends, is limited per recipient (a day) and per client address."""

import time
import uuid

import pytest

from stack import assert_envelope
from test_fulfilment import stripe_ctl
from test_mock_exams import exam
from test_webhook import ddb  # noqa: F401

OUTBOX = "prodenthub-email-outbox"


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def queued(ddb, cause_prefix):  # noqa: F811
    """Outbox rows whose cause starts with cause_prefix (every email is one, sent or not)."""
    rows = ddb.scan(TableName=OUTBOX, ConsistentRead=True)["Items"]
    return [r for r in rows if r.get("cause", {}).get("S", "").startswith(cause_prefix)]


def team_body(tag, n=3):
    return {"leader": {"firstName": "Lena", "lastName": "Ortiz",
                       "email": "%s-0@example.com" % tag, "country": "Australia"},
            "members": [{"name": "Member %s" % "ABCDE"[i], "email": "%s-%d@example.com" % (tag, i)}
                        for i in range(1, n)]}


def pay_link(stack, url):
    return stack.get(url[url.index("/v1/"):], source_ip=stack.new_ip())


def pay(stack, url):
    r = pay_link(stack, url)
    assert r.status == 303, r
    out = stripe_ctl(stack, "sessions/%s/complete" % r.json["data"]["sessionId"])
    assert out["delivery"]["status"] == 200, out["delivery"]


def test_issue12_item11_a_team_emails_nobody_until_the_leader_has_paid(stack, ddb):  # noqa
    tag = uniq("inv")
    t = assert_envelope(stack.post("/v1/teams/create", body=team_body(tag),
                                   source_ip=stack.new_ip()), 201)["data"]
    # Created: nothing queued for anyone, the leader included.
    assert queued(ddb, t["teamId"]) == []
    # The members' links wait for the leader, who pays first.
    for i in (1, 2):
        e = assert_envelope(pay_link(stack, t["members"][i]["payUrl"]), 409, "CONFLICT")
        assert e["details"]["reason"] == "LEADER_UNPAID", e
    time.sleep(1)
    assert stack.mails("%s-1@example.com" % tag) == []
    assert stack.mails("%s-0@example.com" % tag) == []
    # The leader pays: the confirmation to the leader and an invitation to each member,
    # queued with that payment.
    pay(stack, t["members"][0]["payUrl"])
    lead = stack.wait_mail("%s-0@example.com" % tag)
    assert len(lead) == 1 and "team is set up" in lead[0]["subject"], lead
    assert t["teamUrl"] in lead[0]["text"]
    for i in (1, 2):
        inv = stack.wait_mail("%s-%d@example.com" % (tag, i))
        assert len(inv) == 1 and "Lena Ortiz has invited you" in inv[0]["subject"], inv
        assert t["members"][i]["payUrl"] in inv[0]["text"]
    assert len(queued(ddb, t["teamId"])) == 3
    # Now the members' links open their sessions (and the team completes, so that no share
    # of it is left for another test's expiry run to refund).
    pay(stack, t["members"][1]["payUrl"])
    v = assert_envelope(stack.get("/v1/teams/" + t["teamId"], source_ip=stack.new_ip()),
                        200)["data"]
    assert v["paidCount"] == 2 and v["status"] == "partially_paid"
    pay(stack, t["members"][2]["payUrl"])
    v = assert_envelope(stack.get("/v1/teams/" + t["teamId"], source_ip=stack.new_ip()),
                        200)["data"]
    assert v["status"] == "fully_paid"


BAD_NAMES = [
    ("a web address", "Visit evil.com now"),
    ("a URL", "https://evil.example/x"),
    ("an email address", "someone@example.com"),
    ("digits", "Call 0400 000 000"),
    ("digits only", "12345"),
    ("a slash", "A/B"),
    ("a bidirectional override", "Jane\u202eDoe"),
    ("too long", "A" * 122),
]

GOOD_NAME = "Zo\u00eb O'Brien-Smith"

# (route, body builder (name -> body), field named in the 400)
ROUTES = [
    ("/v1/teams/create", lambda n: dict(team_body(uniq("nm"), 2),
                                        leader=dict(team_body("x")["leader"], firstName=n,
                                                    email=uniq("nl") + "@example.com")),
     "leader.firstName"),
    ("/v1/teams/create", lambda n: dict(team_body(uniq("nm"), 2),
                                        members=[{"name": n, "email": uniq("nm") +
                                                  "@example.com"}]),
     "members[0].name"),
    ("/v1/scholarships/apply", lambda n: {
        "country": "EG", "attempts": 2, "lastScore": 58, "financialHardship": True,
        "studyHoursPerWeek": 12, "firstName": "Omar", "lastName": n,
        "email": uniq("sn") + "@example.com"}, "lastName"),
    ("/v1/mock-exams/register", lambda n: {
        "mockExamId": "mock-names", "email": uniq("mn") + "@example.com", "firstName": n},
     "firstName"),
]


@pytest.mark.parametrize("route,body,field", ROUTES, ids=[r[2] + " " + r[0] for r in ROUTES])
def test_issue12_item11_names_are_plain_names(stack, ddb, route, body, field):  # noqa: F811
    exam(ddb, "mock-names", 72)
    for why, name in BAD_NAMES:
        e = assert_envelope(stack.post(route, body=body(name), source_ip=stack.new_ip()), 400,
                            "VALIDATION_ERROR")
        assert field in e["details"]["fields"], (why, e)
    assert_envelope(stack.post(route, body=body(GOOD_NAME), source_ip=stack.new_ip()), 201)


def test_issue12_item11_a_scholarship_application_emails_nobody_before_payment(stack, ddb):  # noqa
    email = uniq("sch") + "@example.com"
    d = assert_envelope(stack.post("/v1/scholarships/apply", source_ip=stack.new_ip(), body={
        "country": "EG", "attempts": 2, "lastScore": 58, "financialHardship": True,
        "studyHoursPerWeek": 12, "firstName": "Omar", "lastName": "Haddad", "email": email}),
        201)["data"]
    assert d["payUrl"] and d["checkoutUrl"]
    assert queued(ddb, d["scholarshipId"]) == []
    time.sleep(1)
    assert stack.mails(email) == []


def register(stack, eid, email, ip):
    return stack.post("/v1/mock-exams/register", source_ip=ip,
                      body={"mockExamId": eid, "email": email, "firstName": "Sam"})


def test_issue12_item11_an_address_gets_few_emails_a_day_without_a_payment(stack, ddb):  # noqa
    email = uniq("cap") + "@example.com"
    exams = [exam(ddb, uniq("mock-cap"), 72) for _ in range(4)]
    for eid in exams[:3]:
        assert_envelope(register(stack, eid, email, stack.new_ip()), 201)
    e = assert_envelope(register(stack, exams[3], email, stack.new_ip()), 429, "RATE_LIMITED")
    assert e["details"]["reason"] == "TOO_MANY_EMAILS", e
    assert len(stack.wait_mail(email, count=3)) == 3
    # Another address is not held back.
    assert_envelope(register(stack, exams[3], uniq("cap") + "@example.com", stack.new_ip()),
                    201)


def test_issue12_item11_a_client_sends_few_emails_without_a_payment(stack, ddb):  # noqa: F811
    eid = exam(ddb, uniq("mock-client"), 72)
    ip = stack.new_ip()
    for i in range(10):
        assert_envelope(register(stack, eid, uniq("cl%d" % i) + "@example.com", ip), 201)
    e = assert_envelope(register(stack, eid, uniq("cl") + "@example.com", ip), 429,
                        "RATE_LIMITED")
    assert e["details"]["reason"] == "TOO_MANY_REQUESTS", e
    # Another client is not held back.
    assert_envelope(register(stack, eid, uniq("cl") + "@example.com", stack.new_ip()), 201)
