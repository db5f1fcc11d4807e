#!/bin/sh
# Nothing but forwarding: a shell request gets a short text and exit
# status 1; pty, exec, sftp, x11, agent forwarding and -R are refused, and
# every refusal is audited.  The session survives each refusal.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
start_gateway

out=$(cssh alice@$GW </dev/null 2>&1)
rc=$?
expect_rc 1 $rc "shell exit status"
case "$out" in
*"You are alice"*"allow 10.77.2.0/24 port 22,80,5000-5100"*"ssh -J alice@"*)
	ok ;;
*) not_ok "shell text: $out" ;;
esac
expect_audit "shell audited" event.action=request-refused \
    rampart.request=shell

out=$(cssh -tt alice@$GW true </dev/null 2>&1)
case "$out" in
*"PTY allocation request failed"*) ok ;;
*) not_ok "pty: $out" ;;
esac
expect_audit "pty audited" event.action=request-refused rampart.request=pty

out=$(cssh alice@$GW 'cat /etc/passwd' </dev/null 2>&1)
rc=$?
if [ $rc -ne 0 ] && ! echo "$out" | grep -q root:; then ok; else
	not_ok "exec ran: rc $rc $out"; fi
expect_audit "exec audited" event.action=request-refused \
    rampart.request=exec "event.reason=cat /etc/passwd"

out=$(cssh -s alice@$GW sftp </dev/null 2>&1)
case "$out" in
*"subsystem request failed"*) ok ;;
*) not_ok "sftp subsystem: $out" ;;
esac
expect_audit "sftp audited" event.action=request-refused \
    rampart.request=subsystem event.reason=sftp
out=$(in_ns "$NS_C" timeout 30 sftp -F "$T/ssh_config" -b /dev/null \
    alice@$GW 2>&1)
rc=$?
if [ $rc -ne 0 ]; then ok; else not_ok "sftp client connected: $out"; fi

out=$(DISPLAY=:0 cssh -X alice@$GW true </dev/null 2>&1)
case "$out" in
*"X11 forwarding request failed"*) ok ;;
*) not_ok "x11: $out" ;;
esac
expect_audit "x11 audited" event.action=request-refused rampart.request=x11

# Agent forwarding: a real agent holding alice's key.
eval "$(in_ns "$NS_C" ssh-agent -s -a "$T/agent.sock")" >/dev/null
PIDS="$PIDS $SSH_AGENT_PID"
in_ns "$NS_C" env SSH_AUTH_SOCK="$T/agent.sock" ssh-add -q "$T/alice"
out=$(in_ns "$NS_C" env SSH_AUTH_SOCK="$T/agent.sock" timeout 30 \
    ssh -F "$T/ssh_config" -v -A alice@$GW true </dev/null 2>&1)
# libssh answers auth-agent-req@openssh.com itself (failure, and nothing
# for the audit to see); what matters is that the agent is never used:
# the gateway never opens an agent channel back to the client.
case "$out" in
*"Requesting authentication agent forwarding"*) ok ;;
*) not_ok "agent forwarding was not even requested: $out" ;;
esac
case "$out" in
*"auth-agent@openssh.com"*) not_ok "gateway opened an agent channel" ;;
*) ok ;;
esac
n=$(audit event.action=request-refused --count)
if [ "$n" -ge 6 ]; then ok; else not_ok "only $n refusals audited"; fi

out=$(cssh -N -o ExitOnForwardFailure=yes -R 9000:$TGT:80 alice@$GW 2>&1)
rc=$?
case "$out" in
*"remote port forwarding failed"*) ok ;;
*) not_ok "-R: rc $rc $out" ;;
esac
expect_audit "-R audited" event.action=request-refused \
    rampart.request=tcpip-forward

# After all that the same user still forwards.
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W $TGT:80 alice@$GW 2>&1)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "forwarding after refusals: $out" ;;
esac

summary
