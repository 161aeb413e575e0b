package p
p := "unterminated
