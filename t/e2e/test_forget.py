"""prodenthubctl forget: one person's data made through nginx in every flow (a purchase
with a coupon paid through the Stripe stand-in and the webhook, a team, a scholarship with its
statement, a personalised plan with its uploaded score report, a mock exam registration, the
emails of the outbox, a SaaS profile with an upload), next to a second person's; after
forget, neither the address (any case, or its hash) nor the name is anywhere in DynamoDB or
S3, the accounting fields are kept, the other person's data is untouched, and a second run
changes nothing."""

import hashlib
import json
import os
import subprocess
import time
import uuid

import pytest

from stack import BUILDDIR, assert_envelope
from test_fulfilment import buy, stripe_ctl
from test_mock_exams import exam, register
from test_personal import REPORTS, put, upload_slot
from test_teams import create as create_team
from test_webhook import ddb  # noqa: F401

import botocore.config  # noqa: E402  (test_webhook put the system's packages on the path)
import botocore.session  # noqa: E402

TAG = uuid.uuid4().hex[:6]
A = {"email": "zephyrine.q.%s@example.com" % TAG, "first": "Zephyrine", "last": "Quillfeather"}
B = {"email": "bart.k.%s@example.com" % TAG, "first": "Bartholomew", "last": "Keepwell"}


def forget(stack, email):
    env = dict(stack.env, **stack.ports)
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "forget", email], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = {}
    for line in r.stdout.splitlines():
        words = line.split()
        counts[words[0]] = [int(w) for w in words[1:] if w.isdigit()]
    return counts


def s3(stack):
    s = botocore.session.get_session()
    return s.create_client("s3", region_name="ap-southeast-2",
                           endpoint_url=stack.ports["AWS_ENDPOINT_URL_S3"],
                           aws_access_key_id="local", aws_secret_access_key="local",
                           config=botocore.config.Config(s3={"addressing_style": "path"}))


def keys(stack, prefix):
    out = s3(stack).list_objects_v2(Bucket=stack.ports["S3_SCORE_REPORTS_BUCKET"],
                                    Prefix=prefix)
    return [o["Key"] for o in out.get("Contents", [])]


def everything(ddb):  # noqa: F811
    items = {}
    for t in ddb.list_tables()["TableNames"]:
        if not t.startswith("prodenthub-"):
            continue
        kw = {"TableName": t, "ConsistentRead": True}
        while True:
            page = ddb.scan(**kw)
            for it in page["Items"]:
                items.setdefault(t, []).append(it)
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def mentions(item, who):
    text = json.dumps(item).lower()
    h = hashlib.sha256(who["email"].encode()).hexdigest()
    return [w for w in (who["email"], h, who["first"].lower(), who["last"].lower())
            if w in text]


def person_data(stack, ddb, who, other):  # noqa: F811
    """Every flow for who; returns what to find again (ids, keys)."""
    name = "%s %s" % (who["first"], who["last"])
    out = {}
    d = buy(stack, who["email"], code="SAVE20", name=name)
    done = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"])
    assert done["delivery"]["status"] == 200, done
    out["purchase"] = d["purchaseId"]
    team = create_team(stack, {"leader": {"firstName": who["first"], "lastName": who["last"],
                                          "email": who["email"], "country": "Australia"},
                               "members": [{"name": name, "email": who["email"]},
                                           {"name": "%s %s" % (other["first"], other["last"]),
                                            "email": other["email"]}]})
    out["team"] = team["teamId"] if "teamId" in team else team["data"]["teamId"]
    sch = assert_envelope(stack.post("/v1/scholarships/apply", source_ip=stack.new_ip(), body={
        "country": "EG", "attempts": 2, "lastScore": 58, "financialHardship": True,
        "studyHoursPerWeek": 12, "firstName": who["first"], "lastName": who["last"],
        "email": who["email"],
        "statement": "I am %s and I support my family." % who["first"]}), 201)["data"]
    out["scholarship"] = sch["scholarshipId"]
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(1016)
    slot = upload_slot(stack, "image/png", len(png))
    assert put(slot["upload"]["url"], png, "image/png")[0] == 200
    assert_envelope(stack.post("/v1/personalized-plans/create", source_ip=stack.new_ip(),
                               body={"email": who["email"], "firstName": who["first"],
                                     "sections": REPORTS[1], "planId": slot["planId"]}), 201)
    out["plan"] = slot["planId"]
    eid = exam(ddb, "forget-%s-%s" % (TAG, hashlib.sha1(who["email"].encode()).hexdigest()[:6]),
               72)
    assert_envelope(register(stack, eid, who["email"], name=who["first"]), 201)
    h = stack.bearer(who["email"])
    me = assert_envelope(stack.request("POST", "/v1/auth/session", headers=h,
                                       source_ip=stack.new_ip()), 200)["data"]
    data = b"notes\n"
    up = assert_envelope(stack.request("POST", "/v1/upload/url", headers=h,
                                       source_ip=stack.new_ip(),
                                       body={"fileName": "notes.txt", "contentType": "text/csv",
                                             "size": len(data)}), 201)["data"]
    assert put(up["uploadUrl"], data, "text/csv")[0] == 200
    out["uploads"] = "uploads/%s/" % me["id"]
    return out


@pytest.fixture(scope="module")
def made(stack, ddb):  # noqa: F811
    return person_data(stack, ddb, A, B), person_data(stack, ddb, B, A)


def test_forget_erases_one_person_everywhere_and_only_them(stack, ddb, made):  # noqa: F811
    a, b = made
    before = everything(ddb)
    for t in ("prodenthub-discount-purchases", "prodenthub-teams", "prodenthub-scholarships",
              "prodenthub-personalized-plans", "prodenthub-mock-registrations",
              "prodenthub-email-outbox", "prodenthub-coupon-usage", "prodenthub-app",
              "prodenthub-access-grants"):
        assert any(mentions(it, A) for it in before.get(t, [])), t
    assert keys(stack, "score-reports/%s/" % a["plan"]) and keys(stack, a["uploads"])
    untouched = {t: [it for it in items if mentions(it, B) and not mentions(it, A)]
                 for t, items in before.items()}

    counts = forget(stack, A["email"].upper())
    assert counts["email-outbox"][0] > 0 and counts["access-grants"][0] > 0
    assert counts["discount-purchases"][1] == 1 and counts["scholarships"][1] == 1
    assert counts["teams"][1] == 2 and counts["s3-objects"][0] == 2

    after = everything(ddb)
    for t, items in after.items():
        for it in items:
            assert not mentions(it, A), (t, it)
    for t, items in untouched.items():
        for it in items:
            if t == "prodenthub-email-outbox":    # the mailer may be sending it meanwhile
                assert it["outboxId"] in [x["outboxId"] for x in after[t]], it
            else:
                assert it in after.get(t, []), (t, it)
    assert not keys(stack, "score-reports/%s/" % a["plan"]) and not keys(stack, a["uploads"])
    assert keys(stack, "score-reports/%s/" % b["plan"]) and keys(stack, b["uploads"])

    # The accounting fields stay: the amounts, the status, the Stripe ids.
    p = ddb.get_item(TableName="prodenthub-discount-purchases", ConsistentRead=True,
                     Key={"purchaseId": {"S": a["purchase"]}})["Item"]
    old = [x for x in before["prodenthub-discount-purchases"]
           if x["purchaseId"]["S"] == a["purchase"]][0]
    assert p["status"]["S"] == "paid" and p["email"]["S"].startswith("erased-")
    assert p["email"]["S"].endswith("@invalid")
    for k in old:
        if k not in ("email", "name", "firstName", "lastName", "customerName"):
            assert p[k] == old[k], k
    sch = ddb.get_item(TableName="prodenthub-scholarships", ConsistentRead=True,
                       Key={"scholarshipId": {"S": a["scholarship"]}})["Item"]
    assert "statement" not in sch and sch["firstName"]["S"] == "erased"
    # The team keeps the other member, named.
    team = ddb.get_item(TableName="prodenthub-teams", ConsistentRead=True,
                        Key={"teamId": {"S": a["team"]}})["Item"]
    assert B["email"] in json.dumps(team) and B["last"] in json.dumps(team)

    # Idempotent: nothing more to do, nothing changed.
    again = forget(stack, A["email"])
    assert all(sum(v) == 0 for v in again.values()), again
    now = everything(ddb)
    for t in after:
        if t != "prodenthub-email-outbox":        # the mailer's own changes aside
            assert now[t] == after[t], t


def test_records_carry_the_retention_of_the_policy(stack, ddb, made):  # noqa: F811
    """docs/DATA.md "Retention and erasure": RETENTION_RECORDS_DAYS (7 years) on the records
    of a sale, RETENTION_OUTBOX_DAYS (30) on the outbox."""
    b = made[1]
    now, year7 = time.time(), 2557 * 86400
    rows = [("prodenthub-discount-purchases", {"purchaseId": {"S": b["purchase"]}}),
            ("prodenthub-scholarships", {"scholarshipId": {"S": b["scholarship"]}}),
            ("prodenthub-personalized-plans", {"planId": {"S": b["plan"]}}),
            ("prodenthub-coupon-usage", {"usageId": {"S": b["purchase"]}})]
    for table, key in rows:
        it = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert abs(int(it["ttl"]["N"]) - (now + year7)) < 3600, (table, it.get("ttl"))
    everything_b = everything(ddb)
    for table in ("prodenthub-mock-registrations", "prodenthub-payments",
                  "prodenthub-access-grants"):
        mine = [it for it in everything_b[table] if mentions(it, B)]
        assert mine, table
        for it in mine:
            if it.get("registrationId", {}).get("S", "").startswith("GUARD#"):
                continue
            assert abs(int(it["ttl"]["N"]) - (now + year7)) < 3600, (table, it)
    mine = [it for it in everything_b["prodenthub-email-outbox"] if mentions(it, B) and
            not it["outboxId"]["S"].startswith("limit#")]
    assert mine and all(abs(int(it["ttl"]["N"]) - (now + 30 * 86400)) < 3600 for it in mine)


def test_expire_statements_removes_old_statements_only(stack, ddb):  # noqa: F811
    def iso(days_ago):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days_ago * 86400))

    ids = {"old": "sch_old%s" % TAG, "new": "sch_new%s" % TAG, "none": "sch_none%s" % TAG}
    for k, days in (("old", 400), ("new", 300), ("none", 500)):
        item = {"scholarshipId": {"S": ids[k]}, "createdAt": {"S": iso(days)},
                "percent": {"N": "50"}, "status": {"S": "paid"}}
        if k != "none":
            item["statement"] = {"S": "Why I need it (%s)." % k}
        ddb.put_item(TableName="prodenthub-scholarships", Item=item)
    env = dict(stack.env, **stack.ports)
    ctl = [os.path.join(BUILDDIR, "prodenthubctl"), "expire-statements"]
    r = subprocess.run(ctl, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 statements removed"), r.stdout

    def get(k):
        return ddb.get_item(TableName="prodenthub-scholarships", ConsistentRead=True,
                            Key={"scholarshipId": {"S": ids[k]}})["Item"]
    assert "statement" not in get("old") and get("old")["percent"]["N"] == "50"
    assert "statement" in get("new")
    r = subprocess.run(ctl, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("0 statements removed"), r.stdout
    r = subprocess.run(ctl + ["--older-than", "86400"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "statement" not in get("new")
