locals {
  tables = {
    "access-grants"      = aws_dynamodb_table.access_grants
    "app"                = aws_dynamodb_table.app
    "catalogue"          = aws_dynamodb_table.catalogue
    "coupon-usage"       = aws_dynamodb_table.coupon_usage
    "coupons"            = aws_dynamodb_table.coupons
    "discount-purchases" = aws_dynamodb_table.discount_purchases
    "email-outbox"       = aws_dynamodb_table.email_outbox
    "email-suppressions" = aws_dynamodb_table.email_suppressions
    "mock-exams"         = aws_dynamodb_table.mock_exams
    "mock-registrations" = aws_dynamodb_table.mock_registrations
    "mock-statistics"    = aws_dynamodb_table.mock_statistics
    "payments"           = aws_dynamodb_table.payments
    "personalized-plans" = aws_dynamodb_table.personalized_plans
    "scholarships"       = aws_dynamodb_table.scholarships
    "teams"              = aws_dynamodb_table.teams
    "webhook-events"     = aws_dynamodb_table.webhook_events
  }
}

output "table_names" {
  value = { for k, t in local.tables : k => t.name }
}

# Each table's ARN and its indexes' (table/NAME/index/*), for the policies.
output "table_arns" {
  value = flatten([for t in local.tables : [t.arn, "${t.arn}/index/*"]])
}
