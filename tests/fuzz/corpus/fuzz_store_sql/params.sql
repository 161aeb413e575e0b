SELECT a FROM t WHERE b = $1 AND c = '$2' -- $3
