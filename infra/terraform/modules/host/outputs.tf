output "public_ip" {
  description = "Point the API's DNS name (A record) here"
  value       = aws_eip.this.public_ip
}

output "instance_id" {
  value = aws_instance.this.id
}
