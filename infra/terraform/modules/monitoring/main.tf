# The log groups the CloudWatch agent ships to (docs/MONITORING.md), kept 30 days, and the
# alarms, all to one SNS topic.

locals {
  ns = "prodenthub/${var.name}"
}

resource "aws_cloudwatch_log_group" "app" {
  name              = var.app_log_group
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "access" {
  name              = var.access_log_group
  retention_in_days = var.log_retention_days
}

# The CloudWatch agent's scrapes of GET /metrics (deploy/cloudwatch-agent-prometheus.json),
# as embedded-metric log lines: CloudWatch makes the metrics of namespace local.ns from them.
resource "aws_cloudwatch_log_group" "prometheus" {
  name              = var.prometheus_log_group
  retention_in_days = var.log_retention_days
}

resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- metrics from the logs ------------------------------------------------------------------

resource "aws_cloudwatch_log_metric_filter" "requests" {
  name           = "${var.name}-requests"
  log_group_name = aws_cloudwatch_log_group.access.name
  pattern        = "{ $.status = * }"

  metric_transformation {
    name          = "Requests"
    namespace     = local.ns
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${var.name}-5xx"
  log_group_name = aws_cloudwatch_log_group.access.name
  pattern        = "{ $.status >= 500 }"

  metric_transformation {
    name          = "Errors5xx"
    namespace     = local.ns
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "not_ready" {
  name           = "${var.name}-not-ready"
  log_group_name = aws_cloudwatch_log_group.access.name
  pattern        = "{ $.uri = \"/v1/ready\" && $.status != 200 }"

  metric_transformation {
    name          = "ReadinessFailures"
    namespace     = local.ns
    value         = "1"
    default_value = "0"
  }
}

# handlers/webhook.c: "webhook <id> (<type>) failed, Stripe will retry: ..." at level error.
resource "aws_cloudwatch_log_metric_filter" "webhook_failures" {
  name           = "${var.name}-webhook-failures"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "{ $.level = \"error\" && $.msg = \"webhook *\" }"

  metric_transformation {
    name          = "WebhookFailures"
    namespace     = local.ns
    value         = "1"
    default_value = "0"
  }
}

# --- alarms ---------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${var.name}-error-rate"
  alarm_description   = "More than 5% of requests answered 5xx over 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx %"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = local.ns
      metric_name = "Errors5xx"
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = local.ns
      metric_name = "Requests"
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "readiness" {
  alarm_name          = "${var.name}-readiness"
  alarm_description   = "GET /v1/ready failed (a backend is down)"
  namespace           = local.ns
  metric_name         = "ReadinessFailures"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "webhook_failures" {
  alarm_name          = "${var.name}-webhook-failures"
  alarm_description   = "A Stripe webhook failed (Stripe retries; look at the app log)"
  namespace           = local.ns
  metric_name         = "WebhookFailures"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Any throttled read or write on a table (on-demand tables throttle past their ramp-up).
resource "aws_cloudwatch_metric_alarm" "ddb_throttling" {
  for_each            = var.table_names
  alarm_name          = "${var.name}-ddb-throttling-${each.key}"
  alarm_description   = "DynamoDB throttled requests on ${each.value}"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "throttled"
    expression  = "reads + writes"
    label       = "throttle events"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }
}

# The account's bounce rate (SES reviews an account past 10%).
resource "aws_cloudwatch_metric_alarm" "ses_bounce_rate" {
  alarm_name          = "${var.name}-ses-bounce-rate"
  alarm_description   = "SES bounce rate above 10%"
  namespace           = "AWS/SES"
  metric_name         = "Reputation.BounceRate"
  statistic           = "Average"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0.10
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- alarms on the pool's own metrics (GET /metrics, scraped by the CloudWatch agent) -------

# A worker died (a crash, the OOM killer): the master replaced it; the log says which route.
resource "aws_cloudwatch_metric_alarm" "worker_restarts" {
  alarm_name          = "${var.name}-worker-restarts"
  alarm_description   = "A worker of the pool died and was replaced (look at the app log)"
  namespace           = local.ns
  metric_name         = "prodenthub_worker_restarts_total"
  dimensions          = { job = "prodenthub" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Emails waiting after a failed attempt, for 15 minutes: SES refuses, or the mailer is down.
resource "aws_cloudwatch_metric_alarm" "outbox_retrying" {
  alarm_name          = "${var.name}-outbox-retrying"
  alarm_description   = "Emails of the outbox keep failing (look at the mailer's log)"
  namespace           = local.ns
  metric_name         = "prodenthub_outbox_retrying"
  dimensions          = { job = "prodenthub" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
