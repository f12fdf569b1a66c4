"""Who sees a scholarship or a personalised plan (issue 12, item 13b): anyone with the id
(ids travel in URLs) sees the status, the first name, the percentage or cluster and the
prices; the answers, reasons and scores only the owner, with the token of the create answer's
viewUrl.  The record keeps the token's hash, never the token."""

import json
import urllib.parse

from stack import assert_envelope
from test_personal import REPORTS, put, upload_slot
from test_scholarships import body_of
from test_webhook import ddb  # noqa: F401

SCHOLARSHIP_PRIVATE = {"country", "attempts", "lastScore", "financialHardship",
                       "studyHoursPerWeek", "statement", "points", "incomeGroup", "reasons"}
PLAN_PRIVATE = {"sections", "metrics", "questions", "weakestSection", "reasons"}


def create_and_view(stack, ddb, route, body, key, table, private):  # noqa: F811
    """Create a record through route; its public view, a wrong token's and the owner's (the
    token from viewUrl), checked for who sees the private fields; and the record keeping the
    token's hash only.  Returns the create answer, the public and the owner's view."""
    d = assert_envelope(stack.post(route, body=body, source_ip=stack.new_ip()), 201)["data"]
    rid = d[key]
    path = route.rsplit("/", 1)[0] + "/" + rid
    u = urllib.parse.urlsplit(d["viewUrl"])
    assert u.path.endswith(path[len("/v1"):]), d["viewUrl"]
    token = urllib.parse.parse_qs(u.query)["token"][0]
    got = [assert_envelope(stack.get(path + q, source_ip=stack.new_ip()), 200)["data"]
           for q in ("", "?token=" + "0" * len(token), "?token=" + urllib.parse.quote(token))]
    for v in got[:2]:
        assert v["viewer"] == "public" and not private & set(v), v
    own = got[2]
    assert own["viewer"] == "owner" and private <= set(own), own
    for v in got:
        assert "email" not in v and "viewTokenHash" not in v
    item = ddb.get_item(TableName=table, ConsistentRead=True, Key={key: {"S": rid}})["Item"]
    assert token not in json.dumps(item) and len(item["viewTokenHash"]["S"]) == 64
    return d, got[0], own


def test_issue12_item13_a_scholarships_answers_only_to_its_owner(stack, ddb):  # noqa: F811
    body = dict(body_of("EG", 2, 58, "yes", 12), firstName="Leila", lastName="Haddad",
                email="leila@example.com", statement="Caring for my parents.")
    _, pub, own = create_and_view(stack, ddb, "/v1/scholarships/apply", body,
                                  "scholarshipId", "prodenthub-scholarships",
                                  SCHOLARSHIP_PRIVATE)
    assert (pub["status"], pub["firstName"], pub["percent"], pub["priceCents"]) == \
        ("submitted", "Leila", 50, 6450)
    assert "lastName" not in pub and "lastName" not in own
    assert own["financialHardship"] is True and own["lastScore"] == 58 and own["reasons"]
    assert own["statement"] == "Caring for my parents."


def test_issue12_item13_a_plans_scores_only_to_its_owner(stack, ddb):  # noqa: F811
    slot = upload_slot(stack, "application/pdf", 5)
    assert put(slot["upload"]["url"], b"%PDF-", "application/pdf")[0] == 200
    body = {"planId": slot["planId"], "email": "scores@example.com", "firstName": "Mei",
            "sections": REPORTS[2]}
    d, pub, own = create_and_view(stack, ddb, "/v1/personalized-plans/create", body, "planId",
                                  "prodenthub-personalized-plans", PLAN_PRIVATE)
    assert (pub["status"], pub["firstName"], pub["selectedCluster"]) == ("pending", "Mei", 2)
    assert pub["priceCents"] == d["priceCents"]
    assert own["metrics"] == d["metrics"] and own["reasons"] == d["reasons"]
    assert own["sections"] == REPORTS[2]
