path "secret/+*" { capabilities = ["read"] }
