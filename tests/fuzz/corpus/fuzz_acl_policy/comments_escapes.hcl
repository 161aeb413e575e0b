// line comment
/* block
   comment */
path "/secret/\u00e9t\u00e9/\ud83d\ude00" {
  capabilities = ["read", /* inline */ "list",] # trailing comma
}
path "a\/b\"c" { capabilities = ["patch"] }
