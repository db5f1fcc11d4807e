/*
 * knock_agent: the ssh-agent client of rampart-knock
 * (draft-miller-ssh-agent; docs/PROTOCOL.knock section 7.2).
 *
 * Only what a knock needs: list the agent's keys and keep the
 * ssh-ed25519 ones, and have one of them sign the knock's signed_data.
 * Replies are read whole (a length, then at most KNOCK_AGENT_MSG_MAX
 * bytes) and parsed through a bounded cursor; every length is checked
 * and nothing may be left over.  A signature is verified with the public
 * key before it is used, so an agent that signed something else is
 * caught here, not at knockd.  Every error is a sentence in err.
 */
#ifndef RAMPART_KNOCK_AGENT_H
#define RAMPART_KNOCK_AGENT_H

#include <stddef.h>
#include <stdint.h>

#define KNOCK_AGENT_MSG_MAX	(256 * 1024)	/* as OpenSSH's agent */
#define KNOCK_AGENT_KEYS_MAX	2048		/* identities in a reply */
#define KNOCK_AGENT_TIMEOUT	120	/* seconds: ssh-add -c asks a human */

/* Message numbers (draft-miller-ssh-agent section 5.1). */
#define KNOCK_AGENT_FAILURE		5
#define KNOCK_AGENT_REQUEST_IDENTITIES	11
#define KNOCK_AGENT_IDENTITIES_ANSWER	12
#define KNOCK_AGENT_SIGN_REQUEST	13
#define KNOCK_AGENT_SIGN_RESPONSE	14

/*
 * Connect to the agent at sockpath (the caller passes SSH_AUTH_SOCK; NULL
 * or empty means there is no agent).  *fd is the connection, with send
 * and receive timeouts of KNOCK_AGENT_TIMEOUT.  0 or -1 with err.
 */
int	knock_agent_connect(const char *sockpath, int *fd, char *err,
	    size_t errlen);

/*
 * The ssh-ed25519 keys the agent holds, in its order, up to max into pks;
 * *n how many.  Other key types are skipped.  -1 with err if the agent
 * fails or answers badly, or holds no ssh-ed25519 key at all.
 */
int	knock_agent_ed25519_keys(int fd, uint8_t (*pks)[32], size_t max,
	    size_t *n, char *err, size_t errlen);

/*
 * Sign data with the ssh-ed25519 key pk (SSH_AGENTC_SIGN_REQUEST, flags
 * 0) and verify the answer: sig gets the 64 bytes.  0, or -1 with err
 * ("ssh-agent refused to sign", a malformed answer, a signature that does
 * not verify).
 */
int	knock_agent_sign(int fd, const uint8_t pk[32], const uint8_t *data,
	    size_t len, uint8_t sig[64], char *err, size_t errlen);

/*
 * Parse a reply body (without its length): for the tests and the fuzzer.
 * The same checks as the two calls above.
 */
int	knock_agent_parse_identities(const uint8_t *msg, size_t len,
	    uint8_t (*pks)[32], size_t max, size_t *n, size_t *others,
	    char *err, size_t errlen);
int	knock_agent_parse_sign(const uint8_t *msg, size_t len, uint8_t sig[64],
	    char *err, size_t errlen);

#endif /* RAMPART_KNOCK_AGENT_H */
