# Least privilege.  The DynamoDB actions are the operations each program sends (lib/ddb_ops.c,
# lib/ddb.c, fcgi/ctl*.c); t/terraform/run derives them from the sources and compares.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  ssm_arn   = "arn:${local.partition}:ssm:${var.region}:${local.account}:parameter${var.ssm_path}"
  operators = length(var.operator_principals) > 0 ? var.operator_principals : ["arn:${local.partition}:iam::${local.account}:root"]
}

# --- prodenthub-fcgi (and send-mail), on the instance ---------------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "service" {
  name               = "${var.name}-service"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "service" {
  name = "${var.name}-service"
  role = aws_iam_role.service.name
}

data "aws_iam_policy_document" "service" {
  statement {
    sid = "DynamoDBItems"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = var.table_arns
  }

  # TransactWriteItems has no IAM action of its own: each element is authorised as the
  # PutItem, UpdateItem, DeleteItem or ConditionCheckItem it is.
  statement {
    sid       = "DynamoDBConditionChecks"
    actions   = ["dynamodb:ConditionCheckItem"]
    resources = var.table_arns
  }

  # GET /v1/ready describes the catalogue table (lib/ddb.c ddb_ping): a call that reads no
  # item, granted on the service's own tables like every other.
  statement {
    sid       = "DynamoDBReadiness"
    actions   = ["dynamodb:DescribeTable"]
    resources = var.table_arns
  }

  # Presigned PUTs (uploads, score reports) and HEAD of an object (s3:GetObject).
  statement {
    sid       = "S3Objects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [for p in var.bucket_prefixes : "${var.bucket_arn}/${p}*"]
  }

  # Without it a HEAD of a missing key answers 403, not the 404 lib/s3.c takes for "not yet".
  statement {
    sid       = "S3ListPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in var.bucket_prefixes : "${p}*"]
    }
  }

  # SES v2's SendEmail with raw content (lib/mailer.c) is authorised as ses:SendRawEmail.
  statement {
    sid       = "SESSend"
    actions   = ["ses:SendEmail", "ses:SendRawEmail"]
    resources = [var.ses_identity_arn, var.ses_configset_arn]
  }

  statement {
    sid       = "BedrockInvoke"
    actions   = ["bedrock:InvokeModel"]
    resources = [for m in var.ai_models : "arn:${local.partition}:bedrock:${var.region}::foundation-model/${m}"]
  }

  statement {
    sid       = "SSMGet"
    actions   = ["ssm:GetParameter"]
    resources = ["${local.ssm_arn}/*"]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = flatten([for g in var.log_group_arns : [g, "${g}:log-stream:*"]])
  }
}

resource "aws_iam_role_policy" "service" {
  name   = "${var.name}-service"
  role   = aws_iam_role.service.id
  policy = data.aws_iam_policy_document.service.json
}

# --- prodenthubctl, run by an operator ------------------------------------------------------

data "aws_iam_policy_document" "operator_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = local.operators
    }
  }
}

resource "aws_iam_role" "operator" {
  name               = "${var.name}-operator"
  assume_role_policy = data.aws_iam_policy_document.operator_assume.json
}

data "aws_iam_policy_document" "operator" {
  # Creating and deleting the tables (CreateTable, DescribeTable, the TTL), and the scans,
  # queries and writes of its jobs (fcgi/ctl_jobs.c, fcgi/ctl_coupons.c), of erasure
  # (ctl_forget.c: Scan, UpdateItem, DeleteItem) and of the report (ctl_report.c: Scan).
  statement {
    sid = "DynamoDBOperator"
    actions = [
      "dynamodb:BatchWriteItem",
      "dynamodb:CreateTable",
      "dynamodb:DeleteItem",
      "dynamodb:DeleteTable",
      "dynamodb:DescribeTable",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
      "dynamodb:UpdateTimeToLive",
    ]
    resources = var.table_arns
  }

  statement {
    sid       = "DynamoDBConditionChecks"
    actions   = ["dynamodb:ConditionCheckItem"]
    resources = var.table_arns
  }

  # prodenthubctl forget deletes a person's objects: it lists their prefix
  # (score-reports/<plan>/, uploads/<user>/) and deletes what is listed (fcgi/ctl_forget.c).
  statement {
    sid       = "S3Erase"
    actions   = ["s3:DeleteObject"]
    resources = [for p in var.bucket_prefixes : "${var.bucket_arn}/${p}*"]
  }

  statement {
    sid       = "S3EraseList"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in var.bucket_prefixes : "${p}*"]
    }
  }

  # prodenthubctl loads the same configuration, secrets from SSM included.
  statement {
    sid       = "SSMGet"
    actions   = ["ssm:GetParameter"]
    resources = ["${local.ssm_arn}/*"]
  }
}

resource "aws_iam_role_policy" "operator" {
  name   = "${var.name}-operator"
  role   = aws_iam_role.operator.id
  policy = data.aws_iam_policy_document.operator.json
}
