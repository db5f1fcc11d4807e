/*
 * hostkey: the gateway's host keys, loaded as root before the privilege
 * drop.  A missing default Ed25519 key is generated on first start (and
 * logged with its fingerprint); an RSA key must have at least 3072 bits.
 */
#ifndef RAMPART_HOSTKEY_H
#define RAMPART_HOSTKEY_H

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "config.h"

/*
 * Load every HostKey of c into bind, generating the default one if it is
 * missing.  Also sets the algorithm lists that depend on the key types.
 * Returns 0, or -1 after logging why.
 */
int	hostkey_load(ssh_bind bind, const struct config *c);

#endif /* RAMPART_HOSTKEY_H */
