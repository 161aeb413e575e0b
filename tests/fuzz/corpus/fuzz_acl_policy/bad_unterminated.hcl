path "a" { capabilities = ["read"
