package p

t := $"hello {input.name} \{x} {[x | some x in input.l]}"
u := $`multi
line {1 + 2}`
