#!/bin/sh
# `warden policy eval`, `test` and `check` on small policies written here:
# exact JSON from eval, PASS/FAIL lines and exit codes from test, and the
# error lines of check.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/policies/shop" "$TMP/broken"

cat > "$TMP/policies/shop/shop.rego" <<'EOF'
package shop

default allow := false

allow if input.user in data.shop.admins

total := sum([item.price | some item in input.cart])

names contains item.name if some item in input.cart
EOF

cat > "$TMP/policies/shop/data.json" <<'EOF'
{"admins": ["ana"]}
EOF

cat > "$TMP/policies/shop/shop_test.rego" <<'EOF'
package shop_test

import data.shop

test_admin_allowed if shop.allow with input as {"user": "ana"}

test_guest_denied if not shop.allow with input as {"user": "bob"}

test_total_is_wrong if shop.total == 1 with input as {"cart": [{"name": "pen", "price": 3}]}
EOF

cat > "$TMP/input.yaml" <<'EOF'
user: ana
cart:
  - name: pen
    price: 3
  - name: ink
    price: 4
EOF

cat > "$TMP/broken/bad.rego" <<'EOF'
package broken

p := [1, 2
EOF

# eval: one expression, no bindings.
out=$("$WARDEN" policy eval -d "$TMP/policies" -i "$TMP/input.yaml" data.shop.allow)
expected='{
  "result": [
    {
      "expressions": [
        {
          "value": true,
          "text": "data.shop.allow",
          "location": {
            "row": 1,
            "col": 1
          }
        }
      ]
    }
  ]
}'
expect_eq "eval allow" "$out" "$expected"

# eval: a binding, with an object value indented inside the envelope.
out=$("$WARDEN" policy eval -d "$TMP/policies" -i "$TMP/input.yaml" \
	'x := {"total": data.shop.total, "names": data.shop.names}')
expected='{
  "result": [
    {
      "expressions": [
        {
          "value": true,
          "text": "x := {\"total\": data.shop.total, \"names\": data.shop.names}",
          "location": {
            "row": 1,
            "col": 1
          }
        }
      ],
      "bindings": {
        "x": {
          "names": [
            "ink",
            "pen"
          ],
          "total": 7
        }
      }
    }
  ]
}'
expect_eq "eval bindings" "$out" "$expected"

# eval: undefined prints {} and succeeds.
out=$("$WARDEN" policy eval -d "$TMP/policies" data.shop.missing)
expect_eq "eval undefined" "$out" "{}"

# eval: a builtin error under --strict-builtin-errors fails with OPA's JSON.
status=0
out=$("$WARDEN" policy eval --strict-builtin-errors 'x := 1 / 0') || status=$?
expect_eq "eval error status" "$status" "1"
expect_eq "eval error code" "$(printf '%s\n' "$out" | grep -c '"code": "eval_builtin_error"')" "1"
expect_eq "eval error message" \
	"$(printf '%s\n' "$out" | grep -c '"message": "div: divide by zero"')" "1"

# eval: usage errors exit 2.
status=0
"$WARDEN" policy eval >/dev/null 2>&1 || status=$?
expect_eq "eval without query" "$status" "2"
status=0
"$WARDEN" policy eval --format xml data >/dev/null 2>&1 || status=$?
expect_eq "eval bad format" "$status" "2"

# test: one failing test makes the run fail; -v lists every test.
status=0
"$WARDEN" policy test -v "$TMP/policies" > "$TMP/test.out" || status=$?
expect_eq "test status" "$status" "1"
expected="$TMP/policies/shop/shop_test.rego:
data.shop_test.test_admin_allowed: PASS
data.shop_test.test_guest_denied: PASS
data.shop_test.test_total_is_wrong: FAIL
--------------------------------------------------------------------------------
PASS: 2/3
FAIL: 1/3"
expect_eq "test verbose output" "$(cat "$TMP/test.out")" "$expected"

# test: without -v only failures are listed.
status=0
out=$("$WARDEN" policy test "$TMP/policies") || status=$?
expected="$TMP/policies/shop/shop_test.rego:
data.shop_test.test_total_is_wrong: FAIL
--------------------------------------------------------------------------------
PASS: 2/3
FAIL: 1/3"
expect_eq "test output" "$out" "$expected"

# test: all passing exits 0 with the summary alone.
sed -i 's/shop.total == 1/shop.total == 3/' "$TMP/policies/shop/shop_test.rego"
out=$("$WARDEN" policy test "$TMP/policies")
expect_eq "test all pass" "$out" "PASS: 3/3"

# test: an evaluation error is an ERROR with the file and row of its cause.
mkdir -p "$TMP/erring"
cat > "$TMP/erring/conflict_test.rego" <<'EOF'
package conflict

p := 1
p := 2 if true

test_conflict if p == 1
EOF
status=0
out=$("$WARDEN" policy test "$TMP/erring") || status=$?
expect_eq "test error status" "$status" "1"
expected="$TMP/erring/conflict_test.rego:
data.conflict.test_conflict: ERROR
  $TMP/erring/conflict_test.rego:4: eval_conflict_error: complete rules must not produce multiple outputs
--------------------------------------------------------------------------------
ERROR: 1/1"
expect_eq "test error output" "$out" "$expected"

# check: a good tree is silent; a parse error is printed and exits 1.
out=$("$WARDEN" policy check "$TMP/policies")
expect_eq "check good" "$out" ""
status=0
"$WARDEN" policy check "$TMP/broken" 2> "$TMP/check.err" || status=$?
expect_eq "check status" "$status" "1"
expect_grep "check counts the errors" "^[0-9]* errors\{0,1\} occurred:" "$TMP/check.err"
expect_grep "check names the file and code" \
	"$TMP/broken/bad.rego:[0-9]*: rego_parse_error: unexpected eof token" "$TMP/check.err"

status=0
"$WARDEN" policy check "$TMP/absent.rego" 2> "$TMP/missing.err" || status=$?
expect_eq "check missing file" "$status" "1"
expect_grep "check missing file message" "cannot read $TMP/absent.rego" "$TMP/missing.err"

finish
