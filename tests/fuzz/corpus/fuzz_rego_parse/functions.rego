package p

f(x, _) := y if { y := x * 2 + 1 }

g(x) := 1 if x > 1
else := 2 if { x < 0 }
else := 3
