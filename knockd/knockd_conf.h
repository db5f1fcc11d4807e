/*
 * knockd_conf: knockd.conf, sshd_config style like gateway.conf ("Keyword
 * value", keywords case-insensitive, '#' comments).  Loaded whole or not
 * at all, every error as "file:line: message"; see knockd.conf(5).
 */
#ifndef RAMPART_KNOCKD_CONF_H
#define RAMPART_KNOCKD_CONF_H

#include <limits.h>
#include <stdio.h>

#include "addr.h"
#include "diag.h"
#include "knock_nft.h"
#include "spa_budget.h"

#define KNOCKD_CONF_DEFAULT_PATH	"/etc/rampart/knockd.conf"
#define KNOCKD_CONF_MAX_LISTEN		16
#define KNOCKD_CONF_MAX_KEYS		2	/* the new key and the old one */
#define KNOCKD_CONF_SUN_MAX		108	/* sizeof(sun_path) */

/* AddressMode, a bit mask: which address modes a knock may use. */
#define KNOCKD_MODE_SOURCE	0x1
#define KNOCKD_MODE_EXPLICIT	0x2
#define KNOCKD_MODE_BOTH	(KNOCKD_MODE_SOURCE | KNOCKD_MODE_EXPLICIT)

struct knockd_conf {
	struct addr	listen[KNOCKD_CONF_MAX_LISTEN];	/* ListenAddress */
	size_t		nlisten;	/* 0: 0.0.0.0 and :: */
	unsigned int	listen_port;	/* ListenPort, 62022 */
	char		server_keys[KNOCKD_CONF_MAX_KEYS][PATH_MAX];
	size_t		nserver_keys;	/* ServerKey: required, newest first */
	char		policy[PATH_MAX];	/* Policy */
	unsigned int	ports[KNOCK_NFT_MAX_PORTS];	/* Ports, 22 */
	size_t		nports;
	int		address_mode;	/* AddressMode, KNOCKD_MODE_BOTH */
	unsigned long	window;		/* KnockWindow, s: 30, 5..120 */
	unsigned long	open_time;	/* OpenTime, s: 30 */
	struct spa_budget_conf budget;	/* the rates, bursts and tables */
	size_t		seen_cache;	/* SeenCacheSize, 262144 */
	size_t		replay_cache;	/* ReplayCacheSize, 65536 */
	char		bind_socket[KNOCKD_CONF_SUN_MAX];	/* "" = none */
	char		user[33];	/* User, "rampart" */
	char		audit_log[PATH_MAX];	/* AuditLog */
	char		metrics_file[PATH_MAX];	/* MetricsFile, "" = none */
	unsigned long	metrics_interval;	/* MetricsInterval, s: 15 */
	char		nft_table[KNOCK_NFT_NAME_MAX];	/* NftTable, rampart */
	char		nft_set4[KNOCK_NFT_NAME_MAX];	/* NftSet4, knock4 */
	char		nft_set6[KNOCK_NFT_NAME_MAX];	/* NftSet6, knock6 */
	int		nft_create;	/* NftCreate, no */
	int		log_level;	/* enum log_level; info */
};

/* The built-in defaults (what a file with no lines means, ServerKey aside). */
void	knockd_conf_defaults(struct knockd_conf *c);

/* Load path over the defaults.  0, or -1 after reporting through fn. */
int	knockd_conf_load(const char *path, struct knockd_conf *c, diag_fn *fn,
	    void *ctx);

/* Parse from a buffer (for tests and the fuzzer). */
int	knockd_conf_load_buf(const char *name, const char *buf, size_t len,
	    struct knockd_conf *c, diag_fn *fn, void *ctx);

/* Print every setting, defaults included, as lower-case "keyword value". */
void	knockd_conf_dump(const struct knockd_conf *c, FILE *f);

/* The nftables door's settings, from the configuration. */
void	knockd_conf_nft(const struct knockd_conf *c, struct knock_nft_conf *n);

#endif /* RAMPART_KNOCKD_CONF_H */
