/*
 * The policy: slice of the configuration, see wxgate.yaml(5): what the
 * public chat may call, its rate limits, connection caps, trusted
 * proxies and anonymous sessions.
 *
 * Called by cfg_build() in config.c; cfg_policy_rate() also reads a
 * channel's rates.  No worker receives this slice: policy is decided
 * in the supervisor (policy/, supervisor/admit.c).
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"
#include "ratelimit.h"
#include "role.h"
#include "xmalloc.h"

#define POL(f)	offsetof(struct raw_config, policy.f), \
		offsetof(struct config, policy.f)
#define POL2(f, o) offsetof(struct raw_config, policy.f), \
		offsetof(struct config, policy.o)

/* Applied by cfg_build() before any slice, as one with the top level's. */
const struct cfg_num cfg_policy_nums[] = {
	/* Enough for a person typing; a script is held to it. */
	{ "policy.ratelimit.session.burst", POL2(ratelimit.session.burst,
	    session_rate.burst),
	    30, 1, 1000000 },
	/* Many people may share one NAT address. */
	{ "policy.ratelimit.address.burst", POL2(ratelimit.address.burst,
	    address_rate.burst),
	    300, 1, 1000000 },
	/* Each bucket is about 150 bytes; the default bounds 10 MB. */
	{ "policy.ratelimit.buckets_max",  POL2(ratelimit.buckets_max,
	    buckets_max),
	    65536, 16, 4194304 },
	/* Tabs of one browser, or a school behind one NAT address. */
	{ "policy.conns_per_address",	   POL(conns_per_address),
	    256, 1, 65536 },
	{ "policy.conns_total",		   POL(conns_total),
	    4096, 1, 4194304 },
	/*
	 * Counted from accept(), before a byte is read, so idle sockets
	 * from one address cannot fill the pool; the same NAT allowance
	 * as conns_per_address, as without a proxy the peer is the client.
	 */
	{ "policy.tcp_conns_per_peer",	   POL(tcp_conns_per_peer),
	    256, 1, 65536 },
	/* A proxy carries many clients; conns_per_address still splits them. */
	{ "policy.tcp_conns_per_proxy",	   POL(tcp_conns_per_proxy),
	    2048, 1, 4194304 },
	/*
	 * Below workers * max_conns, so the pool answers 503 before a full
	 * worker stops accepting and clients queue unanswered.
	 */
	{ "policy.tcp_conns_total",	   POL(tcp_conns_total),
	    2000, 1, 4194304 },
	/* A second is for tests; past a year a session is not anonymous. */
	{ "policy.sessions.idle_ttl_s",	   POL2(sessions.idle_ttl_s,
	    idle_ttl_s),
	    1800, 1, 31536000 },
	{ "policy.sessions.absolute_ttl_s", POL2(sessions.absolute_ttl_s,
	    absolute_ttl_s),
	    86400, 1, 31536000 },
	/*
	 * Audit rows are a few hundred bytes: the default bounds the table
	 * at tens of MB.  Fewer than 100 would hide an attack in progress;
	 * a hundred million is past what `wxgatectl audit` can page.
	 */
	{ "policy.audit_max_rows",	   POL(audit_max_rows),
	    100000, 100, 100000000 },
	/* A day at least, to be read the morning after; ten years at most. */
	{ "policy.audit_max_age_days",	   POL(audit_max_age_days),
	    90, 1, 3650 },
	{ NULL,				   0, 0, 0, 0, 0 }
};

/*
 * policy: narrowing a role may only take away.  A name that belongs to
 * any other role (operator, channel, agent) is refused by name, so a
 * copied line cannot quietly hand the public chat an operator method.
 */
/*
 * policy.commands.SURFACE: the chat commands it may use, words without
 * the slash; absent: all of them.  An empty list allows none.
 */
static int
cfg_policy_commands(struct cfg_ctx *ctx, const char *surface,
    char *const *words, unsigned n, uint32_t *mask)
{
	char field[CFG_KEYPATH_MAX], known[64];
	uint32_t bit;
	unsigned i;

	if (words == NULL) {
		*mask = role_commands_all();
		return 0;
	}
	*mask = 0;
	for (i = 0; i < n; i++) {
		if ((bit = role_command_bit(words[i], strlen(words[i]))) == 0) {
			snprintf(field, sizeof(field),
			    "policy.commands.%s[%u]", surface, i);
			role_commands_list(known, sizeof(known));
			cfg_error(ctx, field, "unknown command \"%s\" (%s; no "
			    "slash)", words[i], known);
			return -1;
		}
		*mask |= bit;
	}
	return 0;
}

int
cfg_policy_build(struct cfg_ctx *ctx, const struct raw_policy *rp,
    struct cfg_policy *p)
{
	struct in6_addr a6;
	struct in_addr a4;
	char field[CFG_KEYPATH_MAX];
	const char *name;
	uint32_t type;
	unsigned i;
	int role;

	if (rp->roles.webchat != NULL) {
		p->webchat_narrowed = 1;
		for (i = 0; i < rp->roles.webchat_count; i++) {
			name = rp->roles.webchat[i];
			snprintf(field, sizeof(field),
			    "policy.roles.webchat[%u]", i);
			role = role_of_method(name, strlen(name), &type);
			if (role == 0) {
				cfg_error(ctx, field, "unknown method \"%s\"",
				    name);
				return -1;
			}
			if (role != ROLE_WEBCHAT) {
				cfg_error(ctx, field, "\"%s\" is %s %s "
				    "method; webchat may not be granted it",
				    name, strchr("aeiou", role_name(role)[0]) ?
				    "an" : "a", role_name(role));
				return -1;
			}
			p->webchat_methods[p->webchat_methods_count++] = type;
		}
	}
	if (cfg_policy_commands(ctx, "webchat", rp->commands.webchat,
	    rp->commands.webchat_count, &p->webchat_commands) == -1 ||
	    cfg_policy_commands(ctx, "channel", rp->commands.channel,
	    rp->commands.channel_count, &p->channel_commands) == -1 ||
	    cfg_policy_commands(ctx, "console", rp->commands.console,
	    rp->commands.console_count, &p->console_commands) == -1)
		return -1;
	if (cfg_policy_rate(ctx, "policy.ratelimit.session.rate",
	    rp->ratelimit.session.rate, "30/min", &p->session_rate) == -1 ||
	    cfg_policy_rate(ctx, "policy.ratelimit.address.rate",
	    rp->ratelimit.address.rate, "600/min", &p->address_rate) == -1)
		return -1;
	p->trusted_proxies = xcalloc(rp->trusted_proxies_count + 1,
	    sizeof(char *));
	for (i = 0; i < rp->trusted_proxies_count; i++) {
		name = rp->trusted_proxies[i];
		/* Addresses only: the check is a string compare per request. */
		if (inet_pton(AF_INET, name, &a4) != 1 &&
		    inet_pton(AF_INET6, name, &a6) != 1) {
			snprintf(field, sizeof(field),
			    "policy.trusted_proxies[%u]", i);
			cfg_error(ctx, field, "\"%s\" is not an IPv4 or IPv6 "
			    "address", name);
			return -1;
		}
		p->trusted_proxies[i] = xstrdup(name);
		p->trusted_proxies_count = i + 1;
	}
	p->anonymous = rp->sessions.anonymous == NULL ||
	    *rp->sessions.anonymous;
	if (p->idle_ttl_s > p->absolute_ttl_s) {
		cfg_error(ctx, "policy.sessions.idle_ttl_s",
		    "%u exceeds absolute_ttl_s (%u)", p->idle_ttl_s,
		    p->absolute_ttl_s);
		return -1;
	}
	return 0;
}

/* "N/s", "N/min" or "N/hour" (policy/ratelimit.c), def when absent. */
int
cfg_policy_rate(struct cfg_ctx *ctx, const char *field, const char *v,
    const char *def, struct cfg_rate *out)
{
	struct rl_rate r;

	if (ratelimit_parse(v != NULL ? v : def, &r) == -1) {
		cfg_error(ctx, field, "\"%s\" is not N/s, N/min or N/hour "
		    "with N in 1..%d", v, RL_RATE_MAX);
		return -1;
	}
	out->per = r.per;
	out->period_ms = r.period_ms;
	return 0;
}
