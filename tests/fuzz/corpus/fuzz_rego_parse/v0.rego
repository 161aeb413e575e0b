package p
p { true }
q[x] { x := 1 }
