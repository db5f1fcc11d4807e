#!/usr/bin/env python3
"""Query an audit log: print the records whose fields match KEY=VALUE.

usage: auditq.py FILE [KEY=VALUE...] [--count] [--field NAME]
Every line must be a JSON object; a line that is not is an error (exit 3),
because the audit trail must never hold a broken record.
"""
import json
import signal
import sys

# "auditq ... | head -n 1" must not end in a traceback.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def main(argv):
    path, conds, count, field = argv[1], [], False, None
    args = iter(argv[2:])
    for a in args:
        if a == "--count":
            count = True
        elif a == "--field":
            field = next(args)
        else:
            k, _, v = a.partition("=")
            conds.append((k, v))
    hits = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                print(f"{path}:{n}: not JSON: {e}", file=sys.stderr)
                return 3
            if all(str(rec.get(k)) == v for k, v in conds):
                hits.append(rec)
    if count:
        print(len(hits))
    elif field:
        for r in hits:
            print(r.get(field))
    else:
        for r in hits:
            print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
