package p

u if {
	every k, v in input.m { v > k }
	x := [y | y := input.a[_]] with input as {"a": [1]} with data.z as 2
	io.jwt.decode(input.t, [h, pl, sig])
	input.a | input.b & input.c == {1}
}
w := data.x.if
not.foo := 1
