output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}

output "log_groups" {
  value = [aws_cloudwatch_log_group.app.name, aws_cloudwatch_log_group.access.name,
  aws_cloudwatch_log_group.prometheus.name]
}

output "log_group_arns" {
  value = [aws_cloudwatch_log_group.app.arn, aws_cloudwatch_log_group.access.arn,
  aws_cloudwatch_log_group.prometheus.arn]
}
