#!/bin/sh
# Run each libFuzzer target for SECONDS, starting from the seed corpus in
# tests/fuzz/corpus/NAME.  New inputs go to build/fuzz/corpus-NAME, never
# into the tree.  A crash, leak or timeout fails the run and leaves the
# reproducer in build/fuzz/.
# usage: run.sh SECONDS BINARY...
set -u
secs=$1
shift
rc=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work=build/fuzz/corpus-$name
	mkdir -p "$work"
	echo "== fuzz $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/"$name"- \
	    "$work" tests/fuzz/corpus/"$name" >build/fuzz/"$name".log 2>&1
	then
		tail -n 40 build/fuzz/"$name".log
		echo "fuzz $name: FAILED (log: build/fuzz/$name.log)"
		rc=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    build/fuzz/"$name".log | tail -n 1)
	echo "fuzz $name: ok, ${runs:-?} inputs"
done
exit $rc
