path "secret/data/app" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "Color" = ["red", "blu*", "*een"]
    "ttl" = [30, 1.5, true]
    "*" = []
  }
  denied_parameters { "password" = [] }
  required_parameters = ["owner"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
  comment = "parsed"
}
