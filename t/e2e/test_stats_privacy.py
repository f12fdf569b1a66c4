"""Issue 12 item 12 through nginx and the admin routes: the statistics of a small cohort give
no score away (no order statistics, one band, a mean of the scores' pairs, the same figures
whichever value of its pair a score takes), and calculate-stats publishes a new snapshot only
when the minimum cohort of new results has come since the last (docs/MOCK_EXAMS.md)."""

from stack import assert_envelope
from test_mock_exams import ADMIN, exam, register
from test_webhook import ddb  # noqa: F401

ORDER = ["median", "stddev", "min", "max", "p10", "p25", "p50", "p75", "p90", "passRate"]


def results(emails, scores, mark=60):
    return [{"email": e, "totalScore": s, "maxScore": 100, "passed": s >= mark,
             "sections": {"Clinical": s // 2 + 7}} for e, s in zip(emails, scores)]


def seat_and_score(stack, eid, emails, scores):
    for e in emails:
        assert_envelope(register(stack, eid, e), 201)
    d = assert_envelope(stack.post("/v1/mock-exams/%s/results" % eid,
                                   body={"results": results(emails, scores)}, headers=ADMIN),
                        200)["data"]
    assert d == {"imported": len(emails), "refused": []}


def calculate(stack, eid):
    return assert_envelope(stack.post("/v1/mock-exams/%s/calculate-stats" % eid,
                                      headers=ADMIN), 200)["data"]


def published(stack, eid):
    return assert_envelope(stack.get("/v1/mock-exams/%s/stats" % eid,
                                     source_ip=stack.new_ip()), 200)["data"]


def figures(st):
    """What a snapshot tells about the scores (not which exam, when or which snapshot, nor
    what calculate-stats adds about the run)."""
    return {k: v for k, v in st.items()
            if k not in ("mockExamId", "title", "calculatedAt", "snapshot", "outcome",
                         "resultCount", "newResults", "minimumCohort", "emailsQueued")}


def pair_mean(scores):
    """The mean of the scores' pairs' midpoints, half up (top 100: the triple 98-100 at 99)."""
    mids = [99 if s >= 98 else s // 2 * 2 + 0.5 for s in scores]
    return int(sum(mids) / len(mids) + 0.5)


def test_issue12_item12_a_cohort_of_five_gives_no_score_away(stack, ddb):  # noqa: F811
    scores = [41, 58, 63, 77, 99]
    emails = ["five-%d@example.com" % i for i in range(5)]
    eid = exam(ddb, "privacy-five", 30)
    seat_and_score(stack, eid, emails, scores)
    st = calculate(stack, eid)
    pub = published(stack, eid)
    # Before: min, p25, p50, p75 and max were the five scores.
    assert all(pub[k] is None for k in ORDER), pub
    assert st["outcome"] == "published" and st["snapshot"] == 1 and st["emailsQueued"] == 5
    assert pub["histogram"] == [{"from": 0, "to": 100, "count": 5}]
    assert pub["mean"] == pair_mean(scores) == 67            # exactly 67.6
    assert abs(pub["mean"] - sum(scores) / 5) <= 1.5
    assert pub["sections"] == {"Clinical": pair_mean([s // 2 + 7 for s in scores])}
    assert pub["orderStatisticsFrom"] == 20
    assert not set(scores) & {v for v in pub.values() if isinstance(v, int)} - {5, 20}

    # Everyone else pooling their scores cannot tell 41 from 40, nor 99 from 98 or 100:
    # cohorts that differ only there publish the very same figures.
    for i, other in ((0, 40), (4, 98), (4, 100)):
        moved = list(scores)
        moved[i] = other
        twin = exam(ddb, "privacy-five-%d-%d" % (i, other), 30)
        seat_and_score(stack, twin, ["%s-%s" % (twin, e) for e in emails], moved)
        calculate(stack, twin)
        assert figures(published(stack, twin)) == figures(pub), (i, other)

    # The results email shows the rounded mean, never a median or a pass rate of five.
    mail = [m for m in stack.wait_mail(emails[0], count=2) if "result" in m["subject"].lower()]
    assert len(mail) == 1
    assert "Average score:       67%" in mail[0]["text"]
    assert "Median" not in mail[0]["text"] and "Pass rate" not in mail[0]["text"]
    assert "Median" not in mail[0]["html"] and "Pass rate" not in mail[0]["html"]


def test_issue12_item12_a_new_snapshot_needs_the_minimum_cohort_of_new_results(
        stack, ddb):  # noqa: F811
    emails = ["diff-%d@example.com" % i for i in range(10)]
    scores = [35, 52, 60, 66, 71, 88, 44, 57, 48, 93]
    eid = exam(ddb, "privacy-diff", 30)
    seat_and_score(stack, eid, emails[:5], scores[:5])
    first = calculate(stack, eid)
    # One more result: publishing now would give its score away by difference.
    seat_and_score(stack, eid, emails[5:6], scores[5:6])
    kept = calculate(stack, eid)
    assert figures(published(stack, eid)) == figures(first)
    assert first["outcome"] == "published" and first["snapshot"] == 1
    assert kept["outcome"] == "kept" and kept["snapshot"] == 1 and kept["count"] == 5
    assert kept["resultCount"] == 6 and kept["newResults"] == 1 and kept["minimumCohort"] == 5
    assert published(stack, eid)["snapshot"] == 1
    # The late candidate is told the published figures, of the five.
    late = [m for m in stack.wait_mail(emails[5], count=2) if "result" in m["subject"].lower()]
    assert len(late) == 1 and "All candidates (5)" in late[0]["text"]
    # Calculating again changes nothing, and sends nothing twice.
    again = calculate(stack, eid)
    assert again["outcome"] == "kept" and again["emailsQueued"] == 0
    # Four more: five new since the snapshot, so snapshot 2 of ten.
    seat_and_score(stack, eid, emails[6:], scores[6:])
    second = calculate(stack, eid)
    assert second["outcome"] == "published" and second["snapshot"] == 2
    assert second["count"] == 10 and second["newResults"] == 5 and second["emailsQueued"] == 4
    pub = published(stack, eid)
    assert pub["snapshot"] == 2 and pub["count"] == 10
    assert pub["histogram"] == [{"from": 0, "to": 59, "count": 5},
                                {"from": 60, "to": 100, "count": 5}]
    assert pub["mean"] == pair_mean(scores)


def test_issue12_item12_under_the_minimum_nothing_is_stored_but_the_count(
        stack, ddb):  # noqa: F811
    emails = ["few-%d@example.com" % i for i in range(3)]
    eid = exam(ddb, "privacy-few", 30)
    seat_and_score(stack, eid, emails, [50, 61, 72])
    st = calculate(stack, eid)
    item = ddb.get_item(TableName="prodenthub-mock-statistics", ConsistentRead=True,
                        Key={"mockExamId": {"S": eid}})["Item"]
    assert set(item) == {"mockExamId", "snapshot", "published", "count", "calculatedAt"}
    assert st["outcome"] == "unpublished" and st["published"] is False
    assert st["snapshot"] == 0 and st["emailsQueued"] == 0
    e = assert_envelope(stack.get("/v1/mock-exams/%s/stats" % eid, source_ip=stack.new_ip()),
                        404)
    assert e["details"]["reason"] == "COHORT_TOO_SMALL"
