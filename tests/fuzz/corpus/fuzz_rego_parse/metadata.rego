package p
# METADATA
# title: Allow
# description: lets readers in
allow if input.ok
