"""make check: infra/terraform parses (HCL's own parser) and says what the issue asks of it.

  - the layout: main.tf, variables.tf, outputs.tf, providers.tf, versions.tf and the modules
    main.tf calls, each with a main.tf; stage is validated to dev, staging or production;
  - the tables and sql/tables/*.json agree both ways (name, keys, attributes, GSIs and their
    projection, TTL, PAY_PER_REQUEST), every table with point-in-time recovery and SSE on;
  - the bucket: versioning, SSE, public access blocked, a 90-day expiry for score-reports/
    and uploads/, CORS from the frontends, as the provider's v4+ resources;
  - IAM: the DynamoDB actions of each role are exactly those its program's sources send
    (t/terraform/ddb_actions.py), on the tables and their indexes only, no Scan for the
    service, no wildcard action anywhere; the prodenthubctl jobs the instance runs (mailer,
    timers) need nothing the service role lacks;
  - SES bounce and complaint events go to an SNS topic;
  - the alarms (5xx rate > 5%, DynamoDB throttling, webhook failures, SES bounce rate > 10%,
    readiness) go to the alarm topic; the log groups keep 30 days."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddb_actions  # noqa: E402

SRC = os.environ.get("PH_SRCDIR", ".")
TF = os.path.join(SRC, "infra", "terraform")
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
    return cond


def parse_all(node_modules):
    files = []
    for dirpath, _, names in os.walk(TF):
        files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".tf")]
    env = dict(os.environ, NODE_PATH=node_modules)
    out = subprocess.run(["node", os.path.join(SRC, "t", "terraform", "hcl2json.js")] + files,
                         env=env, check=True, stdout=subprocess.PIPE).stdout
    return {os.path.relpath(k, TF): v for k, v in json.loads(out).items()}


def merged(parsed, prefix):
    """The blocks of every file of one module folder ("" for the root), merged by kind:
    resource and data by type then name, module, variable and output by name, locals a list."""
    out = {}
    for rel, doc in parsed.items():
        if os.path.dirname(rel) != prefix:
            continue
        for kind, body in doc.items():
            if kind in ("resource", "data"):
                for typ, by_name in body.items():
                    out.setdefault(kind, {}).setdefault(typ, {}).update(by_name)
            elif isinstance(body, dict):
                out.setdefault(kind, {}).update(body)
            else:
                out.setdefault(kind, []).extend(body)
    return out


def one(block):
    return block[0] if isinstance(block, list) else block


def resources(mod, typ):
    return {n: one(b) for n, b in mod.get("resource", {}).get(typ, {}).items()}


def check_layout(parsed):
    for f in ("main.tf", "variables.tf", "outputs.tf", "providers.tf", "versions.tf"):
        check(f in parsed, "infra/terraform/%s is missing" % f)
    root = merged(parsed, "")
    mods = {n: one(b)["source"] for n, b in root.get("module", {}).items()}
    for name, source in mods.items():
        d = os.path.normpath(source.lstrip("./"))
        check(os.path.join(d, "main.tf") in parsed, "module %s: %s/main.tf missing" % (name, d))
    stage = one(root["variable"]["stage"])
    check("dev" in json.dumps(stage.get("validation")) and "production" in
          json.dumps(stage.get("validation")), "variable stage is not validated")
    check("table_prefix" in root["variable"], "no table_prefix variable")
    prov = one(parsed["versions.tf"]["terraform"])["required_providers"]
    check(">= 5" in json.dumps(prov), "the AWS provider is not pinned at v5+")
    return root


def key_pairs(ks):
    return tuple((k["KeyType"], k["AttributeName"]) for k in ks)


def tf_keys(b):
    out = [("HASH", b["hash_key"])]
    if "range_key" in b:
        out.append(("RANGE", b["range_key"]))
    return tuple(out)


def check_tables(parsed):
    mod = merged(parsed, os.path.join("modules", "dynamodb_tables"))
    tf = {}
    for name, b in resources(mod, "aws_dynamodb_table").items():
        tf[b["name"].replace("${var.table_prefix}prodenthub-", "", 1)] = (name, b)
    sqldir = os.path.join(SRC, "sql", "tables")
    js = {}
    for f in sorted(os.listdir(sqldir)):
        if f.endswith(".json"):
            with open(os.path.join(sqldir, f), encoding="utf-8") as fh:
                js[f[:-5]] = json.load(fh)
    check(set(tf) == set(js), "tables: Terraform %s, sql/tables %s" % (sorted(set(tf) - set(js)),
                                                                      sorted(set(js) - set(tf))))
    for stem in sorted(set(tf) & set(js)):
        name, b = tf[stem]
        d = js[stem]
        w = "table %s: " % stem
        check(b["name"] == "${var.table_prefix}prodenthub-" + stem, w + "name")
        check(b.get("billing_mode") == d["BillingMode"] == "PAY_PER_REQUEST", w + "billing mode")
        check(tf_keys(b) == key_pairs(d["KeySchema"]), w + "keys")
        check(sorted((a["name"], a["type"]) for a in b.get("attribute", [])) ==
              sorted((a["AttributeName"], a["AttributeType"]) for a in d["AttributeDefinitions"]),
              w + "attributes")
        tg = {g["name"]: (tf_keys(g), g["projection_type"], tuple(g.get("non_key_attributes", [])))
              for g in b.get("global_secondary_index", [])}
        jg = {g["IndexName"]: (key_pairs(g["KeySchema"]), g["Projection"]["ProjectionType"],
                               tuple(g["Projection"].get("NonKeyAttributes", [])))
              for g in d.get("GlobalSecondaryIndexes", [])}
        check(tg == jg, w + "GSIs %s vs %s" % (tg, jg))
        check(not b.get("local_secondary_index") and not d.get("LocalSecondaryIndexes"),
              w + "an LSI (not modelled)")
        ttl = one(b["ttl"]) if "ttl" in b else None
        jt = d.get("TimeToLiveSpecification")
        check((ttl and (ttl["attribute_name"], ttl["enabled"])) ==
              (jt and (jt["AttributeName"], jt["Enabled"])), w + "TTL")
        check(one(b.get("point_in_time_recovery", [{}])).get("enabled") is True, w + "PITR off")
        check(one(b.get("server_side_encryption", [{}])).get("enabled") is True, w + "SSE off")
        extra = set(d) - {"x-purpose", "TableName", "BillingMode", "AttributeDefinitions",
                          "KeySchema", "GlobalSecondaryIndexes", "TimeToLiveSpecification"}
        check(not extra, w + "sql/tables has %s, not compared" % sorted(extra))
    outs = one(mod["output"]["table_arns"])["value"]
    check("t.arn" in outs and "/index/*" in outs, "table_arns is not the tables and indexes")
    names = json.dumps(mod.get("locals", {}))
    for stem, (name, _) in tf.items():
        check("aws_dynamodb_table.%s" % name in names, "table %s not in the outputs" % stem)
    return len(tf)


def check_bucket(parsed, root):
    mod = merged(parsed, os.path.join("modules", "s3_bucket"))
    r = lambda t: next(iter(resources(mod, t).values()), None)  # noqa: E731
    check(r("aws_s3_bucket") is not None, "no aws_s3_bucket")
    b = r("aws_s3_bucket") or {}
    for inline in ("versioning", "server_side_encryption_configuration", "lifecycle_rule",
                   "cors_rule", "acl"):
        check(inline not in b, "aws_s3_bucket has the pre-v4 inline %s" % inline)
    v = r("aws_s3_bucket_versioning")
    check(v and one(v["versioning_configuration"])["status"] == "Enabled", "versioning")
    e = r("aws_s3_bucket_server_side_encryption_configuration")
    check(e and one(one(e["rule"])["apply_server_side_encryption_by_default"])
          ["sse_algorithm"] in ("AES256", "aws:kms"), "SSE")
    p = r("aws_s3_bucket_public_access_block") or {}
    for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
              "restrict_public_buckets"):
        check(p.get(k) is True, "public access block: %s" % k)
    lc = r("aws_s3_bucket_lifecycle_configuration") or {}
    content = one(one(lc.get("dynamic", {}).get("rule", [{}])).get("content", [{}]))
    check(one(content.get("expiration", [{}])).get("days") == "${var.expire_days}" and
          one(content.get("filter", [{}])).get("prefix") == "${rule.value}",
          "lifecycle: no expiry per prefix")
    bucket_mod = one(root["module"]["bucket"])
    check(bucket_mod.get("expire_days") == 90, "the expiry is not 90 days")
    check(sorted(bucket_mod.get("prefixes", [])) == ["score-reports/", "uploads/"],
          "the prefixes are not score-reports/ and uploads/")
    c = r("aws_s3_bucket_cors_configuration")
    cr = one(c["cors_rule"]) if c else {}
    check(cr.get("allowed_origins") == "${var.cors_origins}" and "PUT" in
          cr.get("allowed_methods", []), "CORS for the frontends' PUTs")


def policy_actions(doc):
    """{sid: (actions, resources)} of one aws_iam_policy_document."""
    out = {}
    for st in doc.get("statement", []):
        out[st["sid"]] = (set(st["actions"]), st["resources"])
    return out


def expected_iam(ops):
    """IAM actions for the operations: a transaction is authorised per element."""
    acts = set(ops) - {"TransactWriteItems"}
    if "TransactWriteItems" in ops:
        acts |= {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"}
    return {"dynamodb:" + a for a in acts}


def check_iam(parsed, ops):
    mod = merged(parsed, os.path.join("modules", "iam"))
    docs = {n: one(b) for n, b in mod["data"]["aws_iam_policy_document"].items()}
    for name, doc in docs.items():
        for st in doc.get("statement", []):
            for a in st["actions"]:
                check("*" not in a, "policy %s: a wildcard action %s" % (name, a))
    figures = {}
    for prog, doc_name in (("prodenthub-fcgi", "service"), ("prodenthubctl", "operator")):
        st = policy_actions(docs[doc_name])
        have = set()
        for sid, (acts, res) in st.items():
            ddb = {a for a in acts if a.startswith("dynamodb:")}
            have |= ddb
            if ddb:
                check(res == "${var.table_arns}", "%s %s: not on the tables only" % (doc_name, sid))
        want = expected_iam(ops[prog])
        check(have == want, "%s: policy has %s more, %s missing than %s sends" % (
            doc_name, sorted(have - want), sorted(want - have), prog))
        figures[doc_name] = sorted(have)
    service = policy_actions(docs["service"])
    jobs = expected_iam(ops["instance jobs"])
    check(jobs <= set(figures["service"]), "the instance's prodenthubctl jobs need %s" %
          sorted(jobs - set(figures["service"])))
    check("dynamodb:Scan" not in set().union(*(a for a, _ in service.values())),
          "the service may Scan")
    allacts = set().union(*(a for a, _ in service.values()))
    for a in ("s3:PutObject", "s3:GetObject", "ses:SendEmail", "ses:SendRawEmail",
              "bedrock:InvokeModel", "ssm:GetParameter"):
        check(a in allacts, "service: %s missing" % a)
    check(all("bucket_prefixes" in json.dumps(r) or "bucket_arn" not in json.dumps(r)
              for a, r in service.values() if a & {"s3:PutObject", "s3:GetObject"}),
          "S3 objects not on the prefixes")
    check(any("ssm_path" in json.dumps(r) or "ssm_arn" in json.dumps(r)
              for a, r in service.values() if "ssm:GetParameter" in a), "SSM not on the path")
    check(any("ai_models" in json.dumps(r) for a, r in service.values()
              if "bedrock:InvokeModel" in a), "Bedrock not on the models")
    check(resources(mod, "aws_iam_instance_profile"), "no instance profile")
    return figures


def check_ses(parsed):
    mod = merged(parsed, os.path.join("modules", "ses"))
    dest = next(iter(resources(mod, "aws_sesv2_configuration_set_event_destination").values()))
    ed = one(dest["event_destination"])
    check(set(ed["matching_event_types"]) >= {"BOUNCE", "COMPLAINT"}, "SES events")
    check("aws_sns_topic." in one(ed["sns_destination"])["topic_arn"], "SES events not to SNS")
    sub = resources(mod, "aws_sns_topic_subscription").get("api", {})
    check(sub.get("protocol") == "https" and sub.get("endpoint") == "${var.events_endpoint}"
          and "aws_sns_topic.mail_events" in sub.get("topic_arn", ""),
          "the API's https subscription to the SES events topic")
    ident = next(iter(resources(mod, "aws_sesv2_email_identity").values()))
    check("configuration_set" in ident.get("configuration_set_name", ""),
          "the identity's default configuration set")


def check_monitoring(parsed):
    mod = merged(parsed, os.path.join("modules", "monitoring"))
    groups = resources(mod, "aws_cloudwatch_log_group")
    check(len(groups) == 3, "three log groups (app, access, prometheus)")
    root = merged(parsed, "")
    check(one(root["variable"]["log_retention_days"])["default"] == 30, "retention not 30 days")
    for g in groups.values():
        check(g["retention_in_days"] == "${var.log_retention_days}", "a log group's retention")
    alarms = resources(mod, "aws_cloudwatch_metric_alarm")
    for a in alarms.values():
        check(a.get("alarm_actions") == ["${aws_sns_topic.alarms.arn}"],
              "alarm %s not to the topic" % a["alarm_name"])
    er = alarms.get("error_rate", {})
    check(er.get("threshold") == 5 and "100 * errors / requests" in json.dumps(er),
          "error rate > 5%")
    check(one(alarms.get("ses_bounce_rate", {})).get("threshold") == 0.1 and
          alarms["ses_bounce_rate"]["metric_name"] == "Reputation.BounceRate", "bounce > 10%")
    th = alarms.get("ddb_throttling", {})
    check(th.get("for_each") == "${var.table_names}" and "ThrottleEvents" in json.dumps(th),
          "throttling per table")
    check(alarms.get("webhook_failures", {}).get("metric_name") == "WebhookFailures",
          "webhook failures")
    check(alarms.get("readiness", {}).get("metric_name") == "ReadinessFailures", "readiness")
    check(alarms.get("worker_restarts", {}).get("metric_name") ==
          "prodenthub_worker_restarts_total", "worker restarts from GET /metrics")
    with open(os.path.join(SRC, "deploy", "cloudwatch-agent-prometheus.json"),
              encoding="utf-8") as f:
        agent = f.read()
    for a in alarms.values():
        name = a.get("metric_name", "")
        check(not name.startswith("prodenthub_") or name in agent,
              "alarm %s reads %s, which the agent does not send" % (a["alarm_name"], name))
    filters = {f["metric_transformation"][0]["name"]: f["pattern"]
               for f in resources(mod, "aws_cloudwatch_log_metric_filter").values()}
    check("/v1/ready" in filters.get("ReadinessFailures", ""), "readiness filter")
    check(">= 500" in filters.get("Errors5xx", ""), "5xx filter")
    with open(os.path.join(SRC, "handlers", "webhook.c"), encoding="utf-8") as f:
        check('LL_ERROR, "webhook ' in f.read(), "handlers/webhook.c's failure line changed")
    return sorted(alarms)


def check_users_and_host(parsed):
    mod = merged(parsed, os.path.join("modules", "cognito"))
    pool = one(resources(mod, "aws_cognito_user_pool").get("this", [{}]))
    check(pool.get("username_attributes") == ["email"], "users sign in with their email")
    client = one(resources(mod, "aws_cognito_user_pool_client").get("web", [{}]))
    check(client.get("generate_secret") is False, "the browser's client has no secret")
    check(client.get("prevent_user_existence_errors") == "ENABLED",
          "sign-in errors reveal whether a user exists")
    mod = merged(parsed, os.path.join("modules", "host"))
    inst = one(resources(mod, "aws_instance").get("this", [{}]))
    meta = one(inst.get("metadata_options", [{}]))
    check(meta.get("http_tokens") == "required" and meta.get("http_put_response_hop_limit") == 1,
          "the host allows IMDSv1 or more than one hop")
    check(one(inst.get("root_block_device", [{}])).get("encrypted") is True,
          "the host's disk is not encrypted")
    check(inst.get("iam_instance_profile") == "${var.instance_profile}",
          "the host runs without the service's instance profile")
    ports = sorted(str(one(r).get("from_port")) for r in
                   resources(mod, "aws_vpc_security_group_ingress_rule").values())
    check(ports == ["${tonumber(each.value)}", "22"], "the host's open ports: %s" % ports)
    web = one(resources(mod, "aws_vpc_security_group_ingress_rule").get("web", [{}]))
    check(web.get("for_each") == '${toset(["443", "80"])}', "the host opens %s" %
          web.get("for_each"))
    ssh = one(resources(mod, "aws_vpc_security_group_ingress_rule").get("ssh", [{}]))
    check(ssh.get("cidr_ipv4") == "${each.value}" and "ssh_cidrs" in ssh.get("for_each", ""),
          "SSH is open beyond the operators' addresses")


def main():
    node_modules = sys.argv[1]
    parsed = parse_all(node_modules)
    root = check_layout(parsed)
    ntables = check_tables(parsed)
    check_bucket(parsed, root)
    ops = ddb_actions.operations(SRC)
    figures = check_iam(parsed, ops)
    check_ses(parsed)
    alarms = check_monitoring(parsed)
    check_users_and_host(parsed)
    print("%d .tf files, %d tables; alarms: %s" % (len(parsed), ntables, ", ".join(alarms)))
    for prog in sorted(ops):
        print("%s sends: %s" % (prog, " ".join(sorted(ops[prog]))))
    for role, acts in sorted(figures.items()):
        print("%s role: %s" % (role, " ".join(acts)))
    for f in FAILS:
        print("FAIL: " + f)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
