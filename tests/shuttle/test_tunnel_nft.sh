#!/bin/sh
# sshuttle 1.1.1 through the gateway, --method nft: see tunnel.sh.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tunnel_suite nft
