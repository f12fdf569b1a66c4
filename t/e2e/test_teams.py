"""Team plans through nginx: validation, exact shares, personal pay links, share-by-share
payment through the Stripe stand-in and the webhook, activation on the last share with the
emails, and expiry with refunds (prodenthubctl expire-teams)."""

import json
import os
import subprocess
import time

import pytest

from stack import BUILDDIR, assert_envelope, http_json
from test_fulfilment import api_grants, stripe_ctl
from test_webhook import ddb  # noqa: F401


def leader(email="lead@example.com"):
    return {"firstName": "Lena", "lastName": "Ortiz", "email": email, "country": "Australia"}


def team_body(n, prefix):
    members = [{"name": "Member " + "ABCDEFGHIJ"[i], "email": "%s-%d@example.com" % (prefix, i)}
               for i in range(n)]
    return {"leader": leader("%s-0@example.com" % prefix), "members": members}


def create(stack, body, status=201):
    r = stack.post("/v1/teams/create", body=body, source_ip=stack.new_ip())
    return assert_envelope(r, status)


def count_teams(ddb):  # noqa: F811
    return ddb.scan(TableName="prodenthub-teams", Select="COUNT",
                    ConsistentRead=True)["Count"]


def pay_link(stack, url):
    path = url[url.index("/v1/"):]
    return stack.get(path, source_ip=stack.new_ip())


def pay_member(stack, team, i):
    r = pay_link(stack, team["members"][i]["payUrl"])
    assert r.status == 303, r
    sid = r.json["data"]["sessionId"]
    assert r.header("location") == r.json["data"]["checkoutUrl"]
    out = stripe_ctl(stack, "sessions/%s/complete" % sid)
    assert out["delivery"]["status"] == 200, out["delivery"]
    return out


def get_team(stack, tid, token=None):
    q = "?token=" + token if token else ""
    return assert_envelope(stack.get("/v1/teams/%s%s" % (tid, q), source_ip=stack.new_ip()),
                           200)["data"]


def ctl(stack, *args):
    env = dict(stack.env, **stack.ports)
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl")] + list(args), env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


BAD = [
    ("no leader", lambda b: b.pop("leader"), "leader"),
    ("one member", lambda b: b.update(members=b["members"][:1]), "members"),
    ("six members", lambda b: b.update(members=b["members"] * 2), "members"),
    ("duplicate email", lambda b: b["members"][2].update(
        email=b["members"][0]["email"].upper()), "members[2].email"),
    ("bad email", lambda b: b["members"][1].update(email="not-an-email"), "members[1].email"),
    ("member not an object", lambda b: b["members"].__setitem__(1, "x"), "members[1]"),
    ("members not a list", lambda b: b.update(members={"a": 1}), "members"),
    ("huge name", lambda b: b["members"][0].update(name="x" * 5000), "members[0].name"),
    ("no country", lambda b: b["leader"].pop("country"), "leader.country"),
    ("not a team plan", lambda b: b.update(planId="basic-1month"), "planId"),
    ("unknown member field", lambda b: b["members"][1].update(phone="1"), "members[1].phone"),
]


@pytest.mark.parametrize("why,change,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_400_and_writes_nothing(stack, ddb, why, change, field):  # noqa: F811
    body = team_body(3, "bad")
    change(body)
    before = count_teams(ddb)
    e = create(stack, body, 400)
    assert e["code"] == "VALIDATION_ERROR" and field in e["details"]["fields"], e
    assert count_teams(ddb) == before


def test_a_team_of_three_pays_share_by_share_and_activates_on_the_last(stack, ddb):  # noqa
    t = create(stack, team_body(3, "trio"))["data"]
    shares = [m["shareCents"] for m in t["members"]]
    assert shares == [9967, 9967, 9966] and sum(shares) == t["totalCents"] == 29900
    token = t["teamUrl"].split("token=")[1]
    # The leader pays first; that payment emails the leader's confirmation, and an invitation
    # with a pay link to each member.
    assert_envelope(pay_link(stack, t["members"][1]["payUrl"]), 409, "CONFLICT")
    pay_member(stack, t, 0)
    lead = stack.wait_mail("trio-0@example.com")
    assert len(lead) == 1 and "set up" in lead[0]["subject"], lead
    for i in (1, 2):
        inv = stack.wait_mail("trio-%d@example.com" % i)[0]
        assert t["members"][i]["payUrl"] in inv["text"]
        assert "A$99.67" in inv["text"] or "A$99.66" in inv["text"]
    # Public view masks emails; the leader's token unmasks them.
    pub = get_team(stack, t["teamId"])
    assert pub["members"][1]["email"] == "t***@example.com" and pub["viewer"] == "public"
    assert get_team(stack, t["teamId"], "0" * 24)["viewer"] == "public"
    mine = get_team(stack, t["teamId"], token)
    assert mine["viewer"] == "leader" and mine["members"][1]["email"] == "trio-1@example.com"
    # A pay link is personal, and reused while its session is open.
    bad = t["members"][1]["payUrl"].replace("token=", "token=0")
    assert_envelope(pay_link(stack, bad), 403, "FORBIDDEN")
    a = pay_link(stack, t["members"][1]["payUrl"]).json["data"]["sessionId"]
    b = pay_link(stack, t["members"][1]["payUrl"]).json["data"]["sessionId"]
    assert a == b
    for k, i in enumerate((0, 1, 2)):
        if k:
            pay_member(stack, t, i)
        v = get_team(stack, t["teamId"])
        assert v["paidCount"] == k + 1
        assert v["members"][i]["status"] == "paid"
        if k < 2:
            assert v["status"] == "partially_paid" and "activatedAt" not in v
            assert t["teamId"] not in api_grants(stack, "trio-%d@example.com" % i)
    assert v["status"] == "fully_paid"
    assert v["expiresAt"][:4] >= v["activatedAt"][:4] and v["expiresAt"] > v["activatedAt"]
    for i in range(3):
        email = "trio-%d@example.com" % i
        g = api_grants(stack, email)[t["teamId"]]
        assert g["status"] == "active" and g["productId"] == "team-full-6months"
        mails = stack.wait_mail(email, count=2)
        assert sum("complete" in m["subject"] for m in mails) == 1, [m["subject"] for m in mails]
    # The paid share's link is spent.
    assert_envelope(pay_link(stack, t["members"][1]["payUrl"]), 409, "CONFLICT")


def test_a_team_that_never_completes_expires_and_paid_shares_are_refunded(stack, ddb):  # noqa
    t = create(stack, team_body(2, "duo"))["data"]
    out = pay_member(stack, t, 0)
    pi = out["event"]["data"]["object"]["payment_intent"]
    assert get_team(stack, t["teamId"])["status"] == "partially_paid"
    time.sleep(1.1)                      # created strictly before the cutoff "now - 0"
    got = json.loads(ctl(stack, "expire-teams", "--older-than", "0"))
    assert got["expired"] >= 1 and got["failed"] == 0, got
    deadline = time.time() + 15
    while time.time() < deadline:
        v = get_team(stack, t["teamId"])
        if v["members"][0]["status"] == "refunded":
            break
        time.sleep(0.3)
    assert v["status"] == "expired" and v["members"][0]["status"] == "refunded", v
    assert v["members"][1]["status"] == "unpaid"
    refunds = http_json("GET", stack.ports["STRIPE_API_BASE"] +
                        "/__stripe/events?type=charge.refunded")["data"]
    assert [e for e in refunds if e["data"]["object"]["payment_intent"] == pi]
    assert_envelope(pay_link(stack, t["members"][1]["payUrl"]), 409, "CONFLICT")
    # A second run finds nothing more to do.
    again = json.loads(ctl(stack, "expire-teams", "--older-than", "0"))
    assert again["failed"] == 0
    assert get_team(stack, t["teamId"])["members"][0]["status"] == "refunded"


def test_issue12_item4_a_refunded_share_no_longer_counts(stack, ddb):  # noqa: F811
    t = create(stack, team_body(3, "refd"))["data"]
    pay_member(stack, t, 0)                  # the leader pays first
    out = pay_member(stack, t, 1)
    pi = out["event"]["data"]["object"]["payment_intent"]
    assert get_team(stack, t["teamId"])["paidCount"] == 2
    # Refunded in full before the team is complete: the share is unpaid again.
    r = stripe_ctl(stack, "charges/%s/refund" % pi)
    assert r["delivery"]["status"] == 200, r
    v = get_team(stack, t["teamId"])
    assert v["paidCount"] == 1 and v["members"][1]["status"] == "unpaid", v
    assert v["status"] == "partially_paid"
    # The other shares alone do not activate the team.
    pay_member(stack, t, 2)
    v = get_team(stack, t["teamId"])
    assert v["status"] == "partially_paid" and v["paidCount"] == 2
    assert t["teamId"] not in api_grants(stack, "refd-0@example.com")
    # Paid again through the same link (a new session): now every share is paid.
    again = pay_member(stack, t, 1)
    assert again["event"]["data"]["object"]["payment_intent"] != pi
    v = get_team(stack, t["teamId"])
    assert v["status"] == "fully_paid" and v["paidCount"] == 3
    # After activation a refund revokes that member's access only.
    pi0 = [m for m in v["members"] if m["status"] == "paid"]
    r = stripe_ctl(stack, "charges/%s/refund" % again["event"]["data"]["object"]
                   ["payment_intent"])
    assert r["delivery"]["status"] == 200, r
    assert api_grants(stack, "refd-1@example.com")[t["teamId"]]["status"] == "revoked"
    assert api_grants(stack, "refd-0@example.com")[t["teamId"]]["status"] == "active"
    assert get_team(stack, t["teamId"])["status"] == "fully_paid" and pi0
