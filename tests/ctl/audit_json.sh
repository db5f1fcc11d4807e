#!/bin/sh
# The audit records test_audit writes, hostile values included, read back
# by an independent strict parser (Python's json module): every line one
# UTF-8 JSON object with unique dotted keys, the common fields first, and
# no character a line splitter would break on.
set -u
. "$(dirname "$0")/lib.sh"
# The unit binary sits next to rampartctl's build (build or build/san).
if [ -z "${BUILD:-}" ]; then
	case "${RAMPARTCTL:-}" in
	*/bin/rampartctl) BUILD=${RAMPARTCTL%/bin/rampartctl} ;;
	*) BUILD=build ;;
	esac
fi
bin=$BUILD/tests/test_audit
if ! command -v python3 >/dev/null 2>&1; then
	echo "$(basename "$0"): skipped: no python3"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "$(basename "$0"): skipped: $bin not built (make unit)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

AUDIT_TEST_OUT=$tmp/audit.jsonl TMPDIR=$tmp "$bin" >"$tmp/out" 2>&1
expect_rc 0 $? "$bin"
[ "$fail" -eq 0 ] || sed 's/^/    /' "$tmp/out"

python3 - "$tmp/audit.jsonl" >"$tmp/check" 2>&1 <<'EOF'
import json, re, sys

KEY = re.compile(r'[a-z0-9_.@]+\Z')
TS = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z')
FIRST = ['@timestamp', 'ecs.version', 'event.kind', 'event.action',
         'event.outcome', 'service.name']

def pairs(kv):
    keys = [k for k, _ in kv]
    if len(set(keys)) != len(keys):
        raise ValueError('duplicate key')
    return kv

def bad_constant(c):
    raise ValueError('constant ' + c)

data = open(sys.argv[1], 'rb').read()
if not data.endswith(b'\n'):
    sys.exit('file does not end in a newline')
bad = 0
lines = data.split(b'\n')[:-1]
for n, raw in enumerate(lines, 1):
    try:
        if len(raw) + 1 > 8192:
            raise ValueError('longer than AUDIT_REC_MAX')
        text = raw.decode('utf-8', 'strict')
        if len(text.splitlines()) != 1:
            raise ValueError('splitlines() cuts it')
        if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in text):
            raise ValueError('raw control character')
        kv = json.loads(text, object_pairs_hook=pairs,
                        parse_constant=bad_constant)
        if not isinstance(kv, list):
            raise ValueError('not an object')
        keys = [k for k, _ in kv]
        if keys[:6] != FIRST:
            raise ValueError('common fields: %r' % keys[:6])
        for k, v in kv:
            if not KEY.match(k):
                raise ValueError('key %r' % k)
            if k == 'rampart.truncated' and (v is not True or
                                             k != keys[-1]):
                raise ValueError('truncation marker')
        if not TS.match(kv[0][1]):
            raise ValueError('@timestamp %r' % kv[0][1])
    except ValueError as e:
        bad += 1
        if bad <= 10:
            print('line %d: %s: %r' % (n, e, raw[:200]))
print('%d lines, %d bad' % (len(lines), bad))
sys.exit(1 if bad or len(lines) < 4000 else 0)
EOF
expect_rc 0 $? "JSON check of $tmp/audit.jsonl"
[ "$fail" -eq 0 ] || sed 's/^/    /' "$tmp/check"
summary
