path "a" { max_wrapping_ttl = [1] }
