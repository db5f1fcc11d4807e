#!/bin/sh
# The man pages in docs/ are clean mdoc: "mandoc -T lint" reports nothing
# at the warning level or above, each page's .Dt matches its file name,
# and every .Xr to a Rampart page names a page that exists here.
# Skipped without mandoc ("make deps" installs it).
set -u
. "$(dirname "$0")/lib.sh"
if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: $(basename "$0"): mandoc is not installed (make deps)"
	exit 0
fi
docs=$(cd "$(dirname "$0")/../../docs" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for want in rampart-gateway.8 gateway.conf.5 rampartctl.8; do
	if [ -f "$docs/$want" ]; then ok; else not_ok "docs/$want is missing"; fi
done

for f in "$docs"/*.[1-9]; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	mandoc -T lint -W warning "$f" >"$tmp/lint" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/lint" ]; then ok; else
		not_ok "$name: mandoc -T lint (exit $rc):"
		sed 's/^/    /' "$tmp/lint"
	fi
	# It renders, and to something.
	if mandoc -T utf8 "$f" >"$tmp/out" 2>/dev/null && [ -s "$tmp/out" ]
	then ok; else not_ok "$name: mandoc -T utf8 failed"; fi

	# .Dt TITLE SECTION: the file name in upper case, and its suffix.
	dt=$(sed -n 's/^\.Dt[ 	]*//p' "$f" | head -n 1)
	want="$(echo "${name%.*}" | tr '[:lower:]' '[:upper:]') ${name##*.}"
	if [ "$dt" = "$want" ]; then ok; else
		not_ok "$name: .Dt is \"$dt\", wanted \"$want\""
	fi

	# .Xr to one of ours: the page must be in docs/.
	sed -n 's/^\.Xr[ 	][ 	]*\([^ 	]*\)[ 	][ 	]*\([0-9]\).*/\1 \2/p' \
	    "$f" | sort -u >"$tmp/xr"
	while read -r xn xs; do
		case $xn in
		rampart*|gateway.conf|knockd.conf)
			if [ -f "$docs/$xn.$xs" ]; then ok; else
				not_ok "$name: .Xr $xn $xs: no docs/$xn.$xs"
			fi ;;
		esac
	done <"$tmp/xr"
done

summary
