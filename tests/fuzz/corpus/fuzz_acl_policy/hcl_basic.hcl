# Dynamic database credentials
path "database/creds/readonly" { capabilities = ["read"] }
path "secret/data/app/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "secret/+/team/*" { capabilities = ["deny"] }
