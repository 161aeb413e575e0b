x = 1; y := data.p[x]
z[_] == "a"