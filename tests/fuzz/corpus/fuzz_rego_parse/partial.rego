package p

r contains msg if {
	some k, v in input.o
	not v.ok
	msg := sprintf("%s bad", [k])
}

s[k] := v if { some k, v in {"a": 1, "b": [1, 2.5e3, -3]} }
a.b[x] := {y | y := input.z[_]} if x := "k"
