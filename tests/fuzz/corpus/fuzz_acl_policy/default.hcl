path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/tools/hash/*" { capabilities = ["update"] }
path "+" { capabilities = ["sudo"] }
path "*" { capabilities = ["list"] }
