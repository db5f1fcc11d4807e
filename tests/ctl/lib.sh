# Shared helpers for the rampartctl shell tests: counters and a summary
# line in the "N passed, N failed" form CI reads.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
not_ok() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect_rc WANT GOT WHAT
expect_rc() {
	if [ "$1" = "$2" ]; then ok; else not_ok "$3: exit $2, wanted $1"; fi
}
# expect_in NEEDLE FILE WHAT
expect_in() {
	if grep -qF -- "$1" "$2"; then ok; else
		not_ok "$3: missing \"$1\" in:"; sed 's/^/    /' "$2"
	fi
}
summary() {
	echo "$(basename "$0"): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
