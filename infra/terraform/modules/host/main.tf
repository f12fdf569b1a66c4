# One Debian 12 host for nginx, the pool, the mailer and the timers (docs/OPERATIONS.md,
# "From an empty account"): the service's instance profile, IMDSv2 only (the pool reads its
# credentials with a session token, and a hop limit of 1 keeps them from containers), an
# encrypted root volume, HTTPS and HTTP (for the redirect and ACME) open to the world, SSH
# only from the operator's addresses, and a fixed public address for DNS.

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian's official images

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture}-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

data "aws_subnet" "this" {
  id = var.subnet_id
}

resource "aws_security_group" "web" {
  name        = "${var.name}-web"
  description = "prodenthub: HTTPS and HTTP in, SSH from the operators"
  vpc_id      = data.aws_subnet.this.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "web" {
  for_each          = toset(["443", "80"])
  security_group_id = aws_security_group.web.id
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_cidrs)
  security_group_id = aws_security_group.web.id
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

# Out: Stripe, the AWS APIs, Debian's mirrors.
resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.web.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_instance" "this" {
  ami                    = data.aws_ami.debian.id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = [aws_security_group.web.id]
  iam_instance_profile   = var.instance_profile
  key_name               = var.key_name != "" ? var.key_name : null

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.disk_gb
    encrypted   = true
  }

  tags = {
    Name = var.name
  }
}

# Session Manager instead of SSH: the role of the instance profile gets the managed policy.
data "aws_iam_instance_profile" "this" {
  name = var.instance_profile
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = data.aws_iam_instance_profile.this.role_name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_eip" "this" {
  domain   = "vpc"
  instance = aws_instance.this.id
}
