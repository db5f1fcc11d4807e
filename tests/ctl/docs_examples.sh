#!/bin/sh
# The documentation stays true: every policy in docs/examples passes
# "policy check", and the explain runs that README.md, docs/policy.md and
# docs/rampartctl.8 show for IP addresses give exactly the output printed
# there.  (Runs with host names depend on the resolver and are not
# repeated here.)
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
ctl=$(cd "$(dirname "$ctl")" && pwd)/$(basename "$ctl")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for f in docs/examples/*.conf; do
	# gateway.conf and knockd.conf are not policies; test_config.c and
	# test_knockd_conf.c load them.
	case $(basename "$f") in gateway.conf|knockd.conf) continue ;; esac
	"$ctl" policy check "$f" >"$tmp/out" 2>&1
	expect_rc 0 $? "check $f"
	expect_in "$f: OK" "$tmp/out" "check $f"
done

# same WANT_RC ARGS... <<EOF: stdout and stderr must equal the here-doc.
same() {
	want_rc=$1
	shift
	cat >"$tmp/want"
	(cd "$dir" && "$ctl" "$@") >"$tmp/got" 2>&1
	expect_rc "$want_rc" $? "$*"
	if cmp -s "$tmp/want" "$tmp/got"; then ok; else
		not_ok "$*: output differs from the documentation:"
		diff "$tmp/want" "$tmp/got" | sed 's/^/    /'
	fi
}

# README.md
dir=.
same 0 policy explain -f docs/examples/quickstart.conf packer-ci 10.1.4.20 22 <<'EOF'
allow: packer-ci -> 10.1.4.20 port 22
  rule:   docs/examples/quickstart.conf:26
  reason: allowed by docs/examples/quickstart.conf:26 (allow 10.1.0.0/16 port 22)
EOF
same 1 policy explain -f docs/examples/quickstart.conf packer-ci 169.254.169.254 80 <<'EOF'
deny: packer-ci -> 169.254.169.254 port 80
  rule:   docs/examples/quickstart.conf:6
  reason: denied by docs/examples/quickstart.conf:6 (deny 169.254.0.0/16 port any)
EOF

# docs/policy.md, section 13
e=docs/examples/engineers.conf
same 0 policy explain -f $e bob 10.2.3.4 22 <<EOF
allow: bob -> 10.2.3.4 port 22
  rule:   $e:7
  reason: allowed by $e:7 (allow 10.0.0.0/8 port 22)
EOF
same 1 policy explain -f $e bob 10.99.0.10 22 <<EOF
deny: bob -> 10.99.0.10 port 22
  rule:   $e:4
  reason: denied by $e:4 (deny 10.99.0.0/16 port any)
EOF
same 1 policy explain -f $e bob 10.2.3.4 3389 <<EOF
deny: bob -> 10.2.3.4 port 3389
  rule:   (none)
  reason: no rule matches
EOF
same 0 policy explain -f $e -a 2027-06-30 alice 10.2.3.4 22 <<EOF
allow: alice -> 10.2.3.4 port 22
  rule:   $e:7
  reason: allowed by $e:7 (allow 10.0.0.0/8 port 22)
EOF
same 1 policy explain -f $e -a 2027-07-01 alice 10.2.3.4 22 <<EOF
deny: alice -> 10.2.3.4 port 22
  rule:   (none)
  reason: account expired (2027-06-30)
EOF
d=docs/examples/dba.conf
same 0 policy explain -f $d dana 10.30.0.12 5432 <<EOF
allow: dana -> 10.30.0.12 port 5432
  rule:   $d:5
  reason: allowed by $d:5 (allow 10.30.0.0/24 port 5432)
EOF
same 1 policy explain -f $d dana 10.30.0.12 22 <<EOF
deny: dana -> 10.30.0.12 port 22
  rule:   (none)
  reason: no rule matches
EOF
same 1 policy explain -f $d dana 10.31.0.12 5432 <<EOF
deny: dana -> 10.31.0.12 port 5432
  rule:   (none)
  reason: no rule matches
EOF
p=docs/examples/packer-ci.conf
same 0 policy explain -f $p packer-ci 10.50.12.34 22 <<EOF
allow: packer-ci -> 10.50.12.34 port 22
  rule:   $p:9
  reason: allowed by $p:9 (allow 10.50.0.0/16 port 22)
EOF
same 1 policy explain -f $p packer-ci 10.50.12.34 5986 <<EOF
deny: packer-ci -> 10.50.12.34 port 5986
  rule:   (none)
  reason: no rule matches
EOF
same 1 policy explain -f $p packer-ci 10.60.0.9 22 <<EOF
deny: packer-ci -> 10.60.0.9 port 22
  rule:   (none)
  reason: no rule matches
EOF
same 1 policy explain -f $p packer-ci 169.254.169.254 80 <<EOF
deny: packer-ci -> 169.254.169.254 port 80
  rule:   built-in
  reason: denied by the built-in deny list (169.254.0.0/16)
EOF

# docs/rampartctl.8, EXAMPLES (run inside docs/examples)
dir=docs/examples
same 0 policy check engineers.conf <<'EOF'
engineers.conf: OK
EOF
same 0 policy explain -f engineers.conf bob 10.2.3.4 22 <<'EOF'
allow: bob -> 10.2.3.4 port 22
  rule:   engineers.conf:7
  reason: allowed by engineers.conf:7 (allow 10.0.0.0/8 port 22)
EOF
same 1 policy explain -f engineers.conf bob 10.99.0.10 22 <<'EOF'
deny: bob -> 10.99.0.10 port 22
  rule:   engineers.conf:4
  reason: denied by engineers.conf:4 (deny 10.99.0.0/16 port any)
EOF
same 1 policy explain -f engineers.conf -a 2027-07-01 alice 10.2.3.4 22 <<'EOF'
deny: alice -> 10.2.3.4 port 22
  rule:   (none)
  reason: account expired (2027-06-30)
EOF
dir=$tmp
printf 'group engineers\n\tallow 10.0.0.0/8 port 22\n\tallow *.internal.example.com port 9000-8000\n' >"$tmp/policy.conf"
same 1 policy check policy.conf <<'EOF'
policy.conf:3: port range 9000-8000 is reversed
policy.conf: policy not loaded
EOF

summary
