name = "old"
path "sys/*" { policy = "sudo" }
path "secret/*" { policy = "write" }
path "secret/private" { policy = "deny" }
path "kv/*" { policy = "read" }
