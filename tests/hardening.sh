#!/bin/sh
# Check that built binaries carry the hardening of STYLE.md: PIE, full
# RELRO (BIND_NOW), non-executable stack, stack protector and FORTIFY
# symbols; and -fcf-protection on every object we compiled (Debian's own
# crt1.o carries no CET note, so a linked binary never shows one).  A
# readelf-only cousin of Debian's hardening-check.
# usage: hardening.sh BINARY... [--objs OBJECT...]
set -u
pass=0
fail=0
check() {
	if eval "$2"; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $bin: $1"; fi
}
objs=0
for bin in "$@"; do
	if [ "$bin" = --objs ]; then
		objs=1
		continue
	fi
	if [ $objs = 1 ]; then
		n=$(readelf -nW "$bin")
		check "CET (IBT, SHSTK)" 'echo "$n" | grep -q "IBT, SHSTK"'
		continue
	fi
	h=$(readelf -hW "$bin")
	l=$(readelf -lW "$bin")
	d=$(readelf -dW "$bin")
	s=$(readelf -sW --dyn-syms "$bin")
	check "PIE" 'echo "$h" | grep -q "Type:.*DYN"'
	check "RELRO" 'echo "$l" | grep -q GNU_RELRO'
	check "BIND_NOW" 'echo "$d" | grep -Eq "BIND_NOW|FLAGS_1.*NOW"'
	check "non-executable stack" \
	    'echo "$l" | grep GNU_STACK | grep -qv RWE'
	check "stack protector" 'echo "$s" | grep -q __stack_chk_fail'
	check "FORTIFY" 'echo "$s" | grep -Eq "__[a-z_]+_chk@"'
done
echo "hardening: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
