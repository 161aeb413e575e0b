# The proxy's flagship policy, for the sidecar in front of service B
# (spiffe://example.org/b): service A (spiffe://example.org/a) may call
# GET /v1/data when its request carries a verified JWT whose "scope" claim
# contains data:read and whose "groups" claim contains admin. Everything
# else is denied. The policy needs no data document, so it works the same
# from a file and from the server's policy API.
package proxy

required_scope := "data:read"

required_group := "admin"

default allow := false

allow if {
	input.source.spiffe_id == "spiffe://example.org/a"
	input.destination.spiffe_id == "spiffe://example.org/b"
	input.request.method == "GET"
	input.request.path == "/v1/data"
	required_scope in scopes
	required_group in input.request.jwt.groups
}

# OAuth 2.0 writes scope as one space-separated string (RFC 8693 section
# 4.2); some issuers send an array instead.
scopes := split(input.request.jwt.scope, " ") if is_string(input.request.jwt.scope)

scopes := input.request.jwt.scope if is_array(input.request.jwt.scope)
