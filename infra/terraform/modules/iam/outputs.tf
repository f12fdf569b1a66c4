output "instance_profile_name" {
  value = aws_iam_instance_profile.service.name
}

output "service_role_arn" {
  value = aws_iam_role.service.arn
}

output "operator_role_arn" {
  value = aws_iam_role.operator.arn
}
