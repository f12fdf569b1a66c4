locals {
  domain = split("@", var.from_email)[1]
}

# SignatureVersion 2 (SHA256withRSA): what POST /v1/ses/events prefers (it accepts 1 too).
resource "aws_sns_topic" "mail_events" {
  name              = "${var.name}-ses-events"
  signature_version = 2
}

# The API's endpoint (POST /v1/ses/events) subscribed over HTTPS: SNS sends it a
# SubscriptionConfirmation, which the API confirms itself once SES_EVENTS_TOPIC_ARN names this
# topic (docs/OPERATIONS.md "SES bounces and complaints").  None while events_endpoint is "".
resource "aws_sns_topic_subscription" "api" {
  count                  = var.events_endpoint == "" ? 0 : 1
  topic_arn              = aws_sns_topic.mail_events.arn
  protocol               = "https"
  endpoint               = var.events_endpoint
  endpoint_auto_confirms = false
  raw_message_delivery   = false
}

resource "aws_sesv2_configuration_set" "this" {
  configuration_set_name = "${var.name}-mail"

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }
}

# Bounces and complaints to SNS (lib/mailer.c sends with no configuration set: this one is the
# identity's default, below).
resource "aws_sesv2_configuration_set_event_destination" "bounces" {
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  event_destination_name = "bounces-and-complaints"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]

    sns_destination {
      topic_arn = aws_sns_topic.mail_events.arn
    }
  }
}

resource "aws_sesv2_email_identity" "this" {
  email_identity         = local.domain
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
}

data "aws_iam_policy_document" "ses_publish" {
  statement {
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.mail_events.arn]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic_policy" "mail_events" {
  arn    = aws_sns_topic.mail_events.arn
  policy = data.aws_iam_policy_document.ses_publish.json
}
