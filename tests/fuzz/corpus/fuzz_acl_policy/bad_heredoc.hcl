path "a" { policy = <<EOF
read
EOF
}
