path "a" {
  capabilities = [
    "reed"]
}
