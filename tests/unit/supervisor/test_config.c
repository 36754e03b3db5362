/*
 * Unit tests for supervisor/config*.c: the sample file loads, absent keys
 * take their defaults, and every bad value is refused with a message
 * that names the file, the line where there is one, and the field.
 * Each case writes its YAML to a temporary file; nothing else is touched.
 */
#include "config.h"
#include "ipc_msg.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hub.h"
#include "role.h"
#include "store.h"
#include "supervisor/config.h"

static struct config	*load_text(const char *, char *, size_t);
static void		 refused(const char *, const char *);
static void		 check_defaults(const struct config *);
static void		 sample_narrows_nothing(const struct cfg_policy *);
static void		 test_sample(void **);
static void		 test_defaults(void **);
static void		 test_derived_paths(void **);
static void		 test_ranges(void **);
static void		 test_cross_fields(void **);
static void		 test_unknown_key(void **);
static void		 test_listen(void **);
static void		 test_agents(void **);
static void		 test_not_numbers(void **);
static void		 test_syntax(void **);
static void		 test_missing_file(void **);
static void		 test_slices(void **);
static void		 test_openai(void **);
static void		 test_command(void **);
static void		 test_policy(void **);
static void		 test_channels(void **);
static void		 test_channels_max(void **);
static void		 test_groups_without_mention(void **);
static void		 test_public_url(void **);
static void		 test_bind_templates(void **);
static void		 test_page(void **);
static void		 test_page_refused(void **);
static void		 test_schedules(void **);
static void		 test_schedules_bad(void **);
static void		 test_schedules_limits(void **);
static void		 test_schedule_check(void **);
static void		 test_callback(void **);
static void		 test_metrics(void **);
static void		 test_console(void **);
static void		 test_relay(void **);
static void		 avatar_file(size_t, int);
static void		 avatar_refused(size_t, int, const char *);
static void		 console_refused(const char *, const char *,
			    const char *);

/* The path every case's YAML is written to; errors start with it. */
static char tmp_path[64];
/* avatar_file()'s. */
static char apath[64];

static struct config *
load_text(const char *yaml, char *err, size_t errlen)
{
	struct config *conf;
	size_t len = strlen(yaml);
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, yaml, len), (ssize_t)len);
	close(fd);
	conf = config_load(tmp_path, err, errlen);
	unlink(tmp_path);
	return conf;
}

/* yaml must be refused with an error containing want. */
static void
refused(const char *yaml, const char *want)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	conf = load_text(yaml, err, sizeof(err));
	if (conf != NULL || strstr(err, want) == NULL ||
	    strncmp(err, tmp_path, strlen(tmp_path)) != 0)
		fail_msg("yaml <<%s>>: want error containing \"%s\", got %s"
		    " \"%s\"", yaml, want, conf != NULL ? "success" : "",
		    err);
	config_free(conf);
}

static void
check_defaults(const struct config *c)
{
	assert_string_equal(c->state_dir, "./run");
	assert_string_equal(c->store, "./run/wxgate.db");
	assert_string_equal(c->control, "./run/control.sock");
	assert_string_equal(c->log_level, "info");
	assert_int_equal(c->log_syslog, 0);
	assert_int_equal(c->supervisor.heartbeat_ms, 1000);
	assert_int_equal(c->supervisor.heartbeat_timeout_ms, 3000);
	assert_int_equal(c->supervisor.restart_min_ms, 100);
	assert_int_equal(c->supervisor.restart_max_ms, 30000);
	assert_int_equal(c->supervisor.crashloop_count, 10);
	assert_int_equal(c->supervisor.crashloop_window_s, 60);
	assert_int_equal(c->supervisor.shutdown_grace_ms, 5000);
	assert_int_equal(c->supervisor.queue_max, 1024);
	assert_string_equal(c->webchat.listen, "127.0.0.1:8080");
	assert_int_equal(c->webchat.workers, 2);
	assert_string_equal(c->webchat.agent, "default");
	assert_int_equal(c->webchat.max_frame, 65536);
	assert_int_equal(c->webchat.max_text, 16384);
	assert_int_equal(c->webchat.max_header, 8192);
	assert_int_equal(c->webchat.max_conns, 1024);
	assert_int_equal(c->webchat.history_limit, 20);
	assert_int_equal(c->webchat.idle_timeout_s, 300);
	assert_null(c->webchat.page.title);
	assert_null(c->webchat.page.agent_name);
	assert_null(c->webchat.page.welcome);
	assert_int_equal(c->webchat.page.suggestions_count, 0);
	assert_null(c->webchat.page.accent);
	assert_null(c->webchat.page.footer);
	assert_null(c->webchat.page.lang);
	assert_int_equal(c->agents_count, 1);
	assert_string_equal(c->agents[0].name, "default");
	assert_string_equal(c->agents[0].type, "echo");
	assert_int_equal(c->agents[0].echo_chunks, 4);
	assert_int_equal(c->agents[0].echo_delay_ms, 20);
	assert_ptr_equal(config_agent(c, "default"), &c->agents[0]);
	assert_null(config_agent(c, "nope"));
	assert_string_equal(c->sandbox.user, "nobody");
	assert_string_equal(c->sandbox.group, "nogroup");
	assert_int_equal(c->sandbox.strict, 0);
	assert_int_equal(c->schedule.runs_max, 4);
	assert_int_equal(c->schedule.deadline_s, 300);
	assert_int_equal(c->schedule.history_days, 30);
	assert_int_equal(c->schedule.history_max, 1000);
	assert_int_equal(c->schedule.schedules_max, 1000);
	assert_null(c->schedule.notify);
	assert_int_equal(c->media.max_bytes, 20971520);
	assert_int_equal(c->media.retention_days, 7);
	assert_int_equal(c->media.stored_max_bytes, 268435456);
	assert_int_equal(c->schedules_count, 0);
	assert_null(c->schedules);
	assert_null(c->metrics_listen);
}

/* The shipped sample runs as is and spells out exactly the defaults. */
static void
test_sample(void **state)
{
	char path[1024], err[CFG_ERR_MAX];
	const char *srcdir = getenv("srcdir");
	struct config *conf;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/wxgate.yaml",
	    srcdir != NULL ? srcdir : ".");
	conf = config_load(path, err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->path, path);
	check_defaults(conf);
	sample_narrows_nothing(&conf->policy);
	config_free(conf);
}

/*
 * A roles.webchat the sample spells out must be every web chat method:
 * copied as is, a shorter list shuts a door (it once left out
 * bind.start, and binding invitations did not open).
 */
static void
sample_narrows_nothing(const struct cfg_policy *p)
{
	unsigned i, found;

	if (!p->webchat_narrowed)
		return;
#define X(name, num, str, role, flags, body)				\
	if ((role) == ROLE_WEBCHAT && role_is_method(num)) {		\
		for (found = 0, i = 0; i < p->webchat_methods_count; i++) \
			found |= p->webchat_methods[i] == (num);	\
		if (!found)						\
			fail_msg("etc/wxgate.yaml: roles.webchat leaves "	\
			    "out %s", str);				\
	}
	IPC_HUB_MESSAGES(X)
#undef X
}

static void
test_defaults(void **state)
{
	static const char *const minimal[] = {
		"",
		"# nothing but a comment\n",
		"{}\n",
		"log: {}\nsupervisor: {}\nwebchat: {}\n",
		"agents:\n  - {}\n",
	};
	char err[CFG_ERR_MAX];
	struct config *conf;
	size_t i;

	(void)state;
	config_free(NULL);
	for (i = 0; i < sizeof(minimal) / sizeof(minimal[0]); i++) {
		conf = load_text(minimal[i], err, sizeof(err));
		if (conf == NULL)
			fail_msg("<<%s>>: %s", minimal[i], err);
		check_defaults(conf);
		config_free(conf);
	}

	/* One key set, the rest untouched. */
	conf = load_text("webchat:\n  workers: 4\n  history_limit: 0\n"
	    "log:\n  level: debug\n  syslog: true\n", err, sizeof(err));
	assert_non_null(conf);
	assert_int_equal(conf->webchat.workers, 4);
	assert_int_equal(conf->webchat.history_limit, 0);
	assert_int_equal(conf->webchat.max_frame, 65536);
	assert_string_equal(conf->log_level, "debug");
	assert_int_equal(conf->log_syslog, 1);
	config_free(conf);
}

/* store and control follow state_dir unless given. */
static void
test_derived_paths(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	conf = load_text("state_dir: /var/db/wx\n", err, sizeof(err));
	assert_non_null(conf);
	assert_string_equal(conf->store, "/var/db/wx/wxgate.db");
	assert_string_equal(conf->control, "/var/db/wx/control.sock");
	config_free(conf);

	conf = load_text("state_dir: /a\nstore: /b/s.db\ncontrol: /c/s\n",
	    err, sizeof(err));
	assert_non_null(conf);
	assert_string_equal(conf->store, "/b/s.db");
	assert_string_equal(conf->control, "/c/s");
	config_free(conf);

	refused("state_dir: \"\"\n", ":1: state_dir: must not be empty");
	/* sun_path holds 107 bytes and a NUL. */
	refused("control: /0123456789012345678901234567890123456789"
	    "012345678901234567890123456789012345678901234567890123456789"
	    "0123456789\n", "control: path is longer than 107 bytes");
}

/* A shared PostgreSQL store: node, cluster, and what the URI may hold. */
static void
test_cluster(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	setenv("WX_TEST_PGPW", "s3cret", 1);
	conf = load_text("state_dir: /var/db/wx\n"
	    "store: postgresql://wx@127.0.0.1:5432/wx?sslmode=verify-full&"
	    "sslrootcert=/etc/ssl/certs/ca.pem\nnode: n-1\n"
	    "cluster:\n  pool: 4\n  password_env: WX_TEST_PGPW\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->store_pg, 1);
	assert_string_equal(conf->node, "n-1");
	assert_string_equal(conf->store, "/var/db/wx/node.db");
	assert_int_equal(conf->cluster.pool, 4);
	assert_int_equal(conf->cluster.lease_ttl_ms, 15000);
	assert_string_equal(conf->cluster.password, "s3cret");
	config_free(conf);
	/* An account pinned to a node, another free to go anywhere. */
	conf = load_text("store: postgresql://wx@127.0.0.1/wx\nnode: n1\n"
	    "cluster:\n  password_env: WX_TEST_PGPW\n"
	    "channels:\n  - name: a\n    type: wechat\n    node: n-2\n"
	    "  - name: b\n    type: wechat\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->channels[0].node, "n-2");
	assert_null(conf->channels[1].node);
	config_free(conf);
	/* Schedules on a cluster: one node runs them ("@schedules"). */
	conf = load_text("store: postgresql://wx@127.0.0.1/wx\nnode: n1\n"
	    "cluster:\n  password_env: WX_TEST_PGPW\n"
	    "channels:\n  - name: a\n    type: wechat\n"
	    "schedules:\n  - name: s\n    every: 1h\n    text: hi\n"
	    "    to: [\"a:p\"]\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->schedules_count, 1);
	config_free(conf);
	refused("channels:\n  - name: a\n    type: wechat\n    node: n1\n",
	    "channels[0].node: a pin to a node needs a postgresql");
	/* Bound accounts on a cluster: leased like the file's. */
	conf = load_text("store: postgresql://wx@127.0.0.1/wx\nnode: n1\n"
	    "cluster:\n  password_env: WX_TEST_PGPW\n"
	    "bind_templates:\n  - name: staff\n    wechat:\n"
	    "      login_url: http://127.0.0.1:1\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->store_pg, 1);
	assert_int_equal(conf->templates_count, 1);
	config_free(conf);
	refused("store: postgresql://127.0.0.1/wx\nnode: n1\n"
	    "channels:\n  - name: a\n    type: wechat\n    node: N/1\n",
	    "channels[0].node: must be 1 to 63");
	conf = load_text("store: /x.db\n", err, sizeof(err));
	assert_non_null(conf);
	assert_int_equal(conf->store_pg, 0);
	assert_null(conf->node);
	config_free(conf);

	refused("store: postgres://127.0.0.1/wx\n", "node: must name");
	refused("node: n1\n", "node: a cluster needs a postgresql");
	refused("cluster:\n  pool: 2\n", "cluster: a cluster needs");
	refused("store: postgresql://wx:pw@127.0.0.1/wx\nnode: n1\n",
	    "a password in the URI");
	refused("store: postgresql://127.0.0.1/wx?password=pw\nnode: n1\n",
	    "password= is refused");
	refused("store: postgresql://db.example/wx\nnode: n1\n",
	    "must be an IP address");
	refused("store: postgresql://[::1]:5432/wx?host=/tmp\nnode: n1\n",
	    "host= is refused");
	refused("store: postgresql://127.0.0.1/wx?sslrootcert=/root/ca\n"
	    "node: n1\n", "under /etc/ssl/certs/ only");
	refused("store: postgresql://127.0.0.1/wx\nnode: N1\n",
	    "node: must be 1 to 63");
	refused("store: postgresql://127.0.0.1/wx\nnode: n1\n"
	    "cluster:\n  lease_ttl_ms: 2999\n", "out of range 3000..600000");
	refused("store: postgresql://127.0.0.1/wx\nnode: n1\n"
	    "cluster:\n  password_env: WX_TEST_UNSET_PW\n", "is unset");
}

/* Each number one past each end of its range, and the ends themselves. */
static void
test_ranges(void **state)
{
	static const struct {
		const char	*section;
		const char	*key;
		unsigned long	 min, max;
	} nums[] = {
		{ "supervisor", "heartbeat_ms",		50, 60000 },
		{ "supervisor", "heartbeat_timeout_ms",	100, 600000 },
		{ "supervisor", "restart_min_ms",	10, 60000 },
		{ "supervisor", "restart_max_ms",	100, 3600000 },
		{ "supervisor", "crashloop_count",	1, 1000 },
		{ "supervisor", "crashloop_window_s",	1, 86400 },
		{ "supervisor", "shutdown_grace_ms",	0, 300000 },
		{ "supervisor", "queue_max",		16, 1048576 },
		{ "webchat",	"workers",		1, 64 },
		{ "webchat",	"max_frame",		1024, 1048576 },
		{ "webchat",	"max_text",		1, 32768 },
		{ "webchat",	"max_header",		1024, 65536 },
		{ "webchat",	"max_conns",		1, 65536 },
		{ "webchat",	"history_limit",	0, 100 },
		{ "webchat",	"idle_timeout_s",	5, 86400 },
		{ "schedule",	"runs_max",		1, 64 },
		{ "schedule",	"deadline_s",		10, 86400 },
		{ "schedule",	"history_days",		1, 3650 },
		{ "schedule",	"history_max",		10, 100000 },
		{ "schedule",	"schedules_max",	1, 10000 },
		{ "media",	"max_bytes",		1024, 20971520 },
		{ "media",	"retention_days",	1, 3650 },
		{ "media",	"stored_max_bytes",	1048576, 2147483647 },
	};
	char yaml[256], want[128], err[CFG_ERR_MAX];
	struct config *conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(want, sizeof(want), ":3: %s.%s: ", nums[i].section,
		    nums[i].key);
		if (nums[i].min > 0) {
			snprintf(yaml, sizeof(yaml), "# x\n%s:\n  %s: %lu\n",
			    nums[i].section, nums[i].key, nums[i].min - 1);
			refused(yaml, want);
			refused(yaml, "out of range");
		}
		snprintf(yaml, sizeof(yaml), "# x\n%s:\n  %s: %lu\n",
		    nums[i].section, nums[i].key, nums[i].max + 1);
		refused(yaml, want);
		refused(yaml, "out of range");
	}

	/* The ends are allowed where the cross-field rules permit. */
	conf = load_text("webchat:\n  workers: 64\n  history_limit: 100\n"
	    "  max_frame: 1048576\n  max_text: 32768\n"
	    "supervisor:\n  heartbeat_ms: 50\n  shutdown_grace_ms: 0\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	config_free(conf);

	refused("agents:\n  - name: a\n    echo:\n      chunks: 0\n",
	    ":4: agents[0].echo.chunks: 0 is out of range 1..64");
	refused("agents:\n  - name: a\n    echo:\n      chunks: 65\n",
	    "agents[0].echo.chunks: 65 is out of range");
	refused("agents:\n  - name: a\n    echo:\n      delay_ms: 10001\n",
	    "agents[0].echo.delay_ms: 10001 is out of range");
	refused("log:\n  level: loud\n",
	    ":2: log.level: unknown level \"loud\" (known: warn, info, debug)");
}

static void
test_cross_fields(void **state)
{
	(void)state;
	/* Against the other key's default: no line for that one. */
	refused("supervisor:\n  heartbeat_ms: 3000\n",
	    "supervisor.heartbeat_timeout_ms: 3000 must exceed "
	    "heartbeat_ms (3000)");
	refused("supervisor:\n  heartbeat_timeout_ms: 500\n",
	    ":2: supervisor.heartbeat_timeout_ms: 500 must exceed");
	refused("supervisor:\n  restart_min_ms: 500\n  restart_max_ms: 400\n",
	    ":2: supervisor.restart_min_ms: 500 exceeds restart_max_ms (400)");
	refused("webchat:\n  max_frame: 2048\n",
	    "webchat.max_text: 16384 exceeds max_frame (2048)");
	refused("webchat:\n  max_frame: 4096\n  max_text: 4097\n",
	    ":3: webchat.max_text: 4097 exceeds max_frame");
}

/* Unknown keys are errors at their own line, at any depth. */
static void
test_unknown_key(void **state)
{
	(void)state;
	refused("state_dir: ./run\n\nbogus: 1\n", ":3: bogus: unknown key");
	refused("webchat:\n  listen: 127.0.0.1:80\n  listn: 1\n",
	    ":3: webchat.listn: unknown key");
	refused("agents:\n  - name: a\n  - name: b\n    colour: red\n",
	    ":4: agents[1].colour: unknown key");
	refused("agents:\n  - name: a\n    echo:\n      chunk: 2\n",
	    ":4: agents[0].echo.chunk: unknown key");
	refused("log:\n  level: info\n  level: warn\n",
	    "log.level: key given twice");
}

static void
test_listen(void **state)
{
	static const char *const bad[] = {
		"localhost:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:+80", "127.0.0.1:0x50",
		"127.0.0.1:8o", "1.2.3:80", "256.1.1.1:80", "::1:80",
		"[::1]", "[::1]80", "[::1]:", "[127.0.0.1]:80", "[]:80",
		":80", "[::1]:123456", " 127.0.0.1:80", "127.0.0.1:80 ",
		"", "1.2.3.4:80:80",
	};
	static const char *const good[] = {
		"127.0.0.1:8080", "0.0.0.0:1", "\"[::1]:65535\"",
		"\"[::]:443\"", "\"[fe80::1]:80\"",
	};
	char yaml[128], err[CFG_ERR_MAX];
	struct config *conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "webchat:\n  listen: \"%s\"\n",
		    bad[i]);
		refused(yaml, ":2: webchat.listen: ");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml), "webchat:\n  listen: %s\n",
		    good[i]);
		conf = load_text(yaml, err, sizeof(err));
		if (conf == NULL)
			fail_msg("%s: %s", good[i], err);
		config_free(conf);
	}
}

static void
test_agents(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	conf = load_text("agents:\n  - name: a\n  - name: b-2_x\n"
	    "    echo: {chunks: 1, delay_ms: 0}\n"
	    "webchat:\n  agent: b-2_x\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->agents_count, 2);
	assert_string_equal(conf->agents[1].name, "b-2_x");
	assert_int_equal(conf->agents[1].echo_chunks, 1);
	assert_int_equal(conf->agents[1].echo_delay_ms, 0);
	assert_int_equal(conf->agents[0].echo_chunks, 4);
	assert_ptr_equal(config_agent(conf, "a"), &conf->agents[0]);
	config_free(conf);

	refused("agents:\n  - name: a\n  - name: b\n  - name: a\n",
	    ":4: agents[2].name: duplicate agent name \"a\" (also agents[0])");
	/* Two entries that both default to "default". */
	refused("agents:\n  - {}\n  - {}\n",
	    "agents[1].name: duplicate agent name \"default\"");
	refused("agents:\n  - name: a\n    type: gpt\n",
	    ":3: agents[0].type: unknown agent type \"gpt\" (known: echo, "
	    "openai, command, relay)");
	refused("agents:\n  - name: Alice\n", ":2: agents[0].name: \"Alice\"");
	refused("agents:\n  - name: \"\"\n", ":2: agents[0].name: ");
	refused("agents:\n  - name: a.b\n", "agents[0].name: ");
	refused("agents:\n  - name: abcdefghijabcdefghijabcdefghijabc\n",
	    "agents[0].name: ");
	refused("agents: []\n", ":1: agents: ");
	refused("agents:\n  - name: x\n",
	    "webchat.agent: no agent named \"default\"");
	refused("webchat:\n  agent: ghost\n",
	    ":2: webchat.agent: no agent named \"ghost\"");
}

/* libcyaml alone would read these as 1, 8, 16 and a boolean. */
static void
test_not_numbers(void **state)
{
	(void)state;
	refused("webchat:\n  workers: 1.5\n",
	    ":2: webchat.workers: \"1.5\" is not a decimal number");
	refused("webchat:\n  workers: 010\n", ":2: webchat.workers: ");
	refused("webchat:\n  workers: 0x10\n", ":2: webchat.workers: ");
	refused("webchat:\n  workers: -1\n", ":2: webchat.workers: ");
	refused("webchat:\n  workers:\n", ":2: webchat.workers: ");
	refused("webchat:\n  workers: 4294967296\n", ":2: webchat.workers: ");
	refused("webchat:\n  workers: [1]\n", ":2: webchat.workers: ");
	/* Inside channels[] too (a gap until the config split found it). */
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    history_limit: 010\n",
	    ":4: channels[0].history_limit: \"010\" is not a decimal number");
	refused("agents:\n  - name: default\n    max_inflight: 1.5\n",
	    ":3: agents[0].max_inflight: \"1.5\" is not a decimal number");
	/* A key that only looks like a list entry (found by fuzz_config). */
	refused("agents[ l:\n", ":1: agents[ l: unknown key");
	refused("channels[0:\n", ":1: channels[0: unknown key");
	refused("log:\n  syslog: maybe\n",
	    ":2: log.syslog: \"maybe\" is not true or false");
	refused("sandbox:\n  strict: yes\n",
	    ":2: sandbox.strict: \"yes\" is not true or false");
	refused("sandbox:\n  usr: x\n", ":2: sandbox.usr: unknown key");
	refused("state_dir: {a: 1}\n", ":1: state_dir: must be a string");
	refused("webchat: 5\n", ":1: webchat: must be a mapping");
}

static void
test_syntax(void **state)
{
	(void)state;
	refused("state_dir: a\nwebchat: b: c\n", ":2: syntax error: ");
	refused("state_dir: 'open\n", "syntax error: ");
	refused("\tstate_dir: a\n", ":1: syntax error: ");
	refused("- 1\n- 2\n", "must be a mapping");
	refused("state_dir: a\n---\nstate_dir: b\n",
	    ":2: only one YAML document is allowed");
	refused("webchat:\n  agent: &x default\n  listen: *x\n",
	    "webchat.listen: ");
}

static void
test_missing_file(void **state)
{
	char err[CFG_ERR_MAX];

	(void)state;
	assert_null(config_load("/nonexistent/wx.yaml", err, sizeof(err)));
	assert_string_equal(err,
	    "/nonexistent/wx.yaml: cannot open: No such file or directory");
	assert_null(config_load("/", err, sizeof(err)));
	assert_string_equal(err, "/: cannot open: Is a directory");
}

/* A slice holds its own part and nothing else. */
static void
test_slices(void **state)
{
	char err[CFG_ERR_MAX], *s;
	struct config *conf;
	json_error_t jerr;
	json_t *o;

	(void)state;
	conf = load_text("webchat:\n  max_frame: 2048\n  max_text: 100\n"
	    "  max_header: 4096\n  max_conns: 7\n  idle_timeout_s: 9\n"
	    "  head_timeout_s: 3\n  frame_timeout_s: 4\n"
	    "  max_out_total: 2097152\n"
	    "agents:\n  - name: bob\n    echo: {chunks: 3, delay_ms: 5}\n"
	    "  - name: default\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);

	s = config_slice_webchat(conf);
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 9);
	/* No webchat.page: an empty object, the page keeps its own. */
	assert_int_equal(json_object_size(json_object_get(o, "page")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "max_frame")),
	    2048);
	assert_int_equal(json_integer_value(json_object_get(o, "max_text")),
	    100);
	assert_int_equal(json_integer_value(json_object_get(o, "max_header")),
	    4096);
	assert_int_equal(json_integer_value(json_object_get(o, "max_conns")),
	    7);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "idle_timeout_s")), 9);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "head_timeout_s")), 3);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "frame_timeout_s")), 4);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "max_out_total")), 2097152);
	assert_null(strstr(s, "listen"));
	assert_null(strstr(s, "bob"));
	json_decref(o);
	free(s);

	s = config_slice_agent(conf, config_agent(conf, "bob"));
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 4);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "bob");
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "echo");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "echo_chunks")), 3);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "echo_delay_ms")), 5);
	assert_null(strstr(s, "default"));
	assert_null(strstr(s, "max_frame"));
	json_decref(o);
	free(s);
	config_free(conf);
}

/* webchat.page reaches the worker's slice as given, and only that. */
static void
test_page(void **state)
{
	char err[CFG_ERR_MAX], *s;
	struct config *conf;
	json_error_t jerr;
	json_t *o, *pg, *a;

	(void)state;
	conf = load_text("webchat:\n  page:\n    title: \"Ask <b>us</b>\"\n"
	    "    agent_name: \"\xe5\xb0\x8f\xe5\x8a\xa9\xe6\x89\x8b\"\n"
	    "    welcome: |\n      Hello.\n      Ask anything.\n"
	    "    suggestions: [\"What is this?\", \"Hours\", \"Price\","
	    " \"Help\"]\n"
	    "    accent: \"#0B5CAD\"\n    footer: \"No cookies.\"\n"
	    "    lang: en\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->webchat.page.title, "Ask <b>us</b>");
	assert_string_equal(conf->webchat.page.welcome,
	    "Hello.\nAsk anything.\n");
	assert_int_equal(conf->webchat.page.suggestions_count, 4);
	assert_string_equal(conf->webchat.page.accent, "#0B5CAD");
	s = config_slice_webchat(conf);
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	pg = json_object_get(o, "page");
	assert_int_equal(json_object_size(pg), 7);
	assert_string_equal(json_string_value(json_object_get(pg, "title")),
	    "Ask <b>us</b>");
	assert_string_equal(json_string_value(json_object_get(pg,
	    "agent_name")), "\xe5\xb0\x8f\xe5\x8a\xa9\xe6\x89\x8b");
	a = json_object_get(pg, "suggestions");
	assert_int_equal(json_array_size(a), 4);
	assert_string_equal(json_string_value(json_array_get(a, 3)), "Help");
	assert_string_equal(json_string_value(json_object_get(pg, "lang")),
	    "en");
	assert_string_equal(json_string_value(json_object_get(pg, "footer")),
	    "No cookies.");
	json_decref(o);
	free(s);
	config_free(conf);

	/*
	 * Every text at its limit, all of it quotes (escaped twice as
	 * long): the slice still fits a config frame, and the worker's
	 * 16 KiB /page.json.
	 */
	{
		static char yaml[16384];
		char q[2001];
		int n;

		memset(q, '"', sizeof(q) - 1);
		q[2000] = '\0';
		avatar_file(12 * 1024, 1);
		n = snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n"
		    "    title: '%.120s'\n    agent_name: '%.60s'\n"
		    "    welcome: '%.2000s'\n    footer: '%.1000s'\n"
		    "    suggestions: ['%.150s', '%.150s', '%.150s', "
		    "'%.150s']\n    accent: '#000000'\n    lang: zh\n"
		    "    avatar: %s\n", q, q, q, q, q, q, q, q, apath);
		assert_true(n > 0 && (size_t)n < sizeof(yaml));
		conf = load_text(yaml, err, sizeof(err));
		if (conf == NULL)
			fail_msg("%s", err);
		s = config_slice_webchat(conf);
		assert_true(strlen(s) < IPC_CONF_MAX);
		o = json_loads(s, 0, &jerr);
		assert_non_null(o);
		assert_true(json_dumpb(json_object_get(o, "page"), NULL, 0,
		    JSON_COMPACT) < 16384);
		assert_int_equal(strlen(json_string_value(json_object_get(
		    json_object_get(o, "page"), "welcome"))), 2000);
		/* The avatar beside them, base64 of its 12 KiB. */
		assert_int_equal(strlen(json_string_value(json_object_get(o,
		    "avatar"))), 16384);
		assert_int_equal(strncmp(json_string_value(json_object_get(o,
		    "avatar")), "iVBORw0KGgo", 11), 0);
		json_decref(o);
		free(s);
		config_free(conf);
		unlink(apath);
	}

	/* Only some keys: the others stay out of the slice. */
	conf = load_text("webchat:\n  page:\n    accent: \"#767676\"\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_null(conf->webchat.page.title);
	s = config_slice_webchat(conf);
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	pg = json_object_get(o, "page");
	assert_int_equal(json_object_size(pg), 1);
	assert_string_equal(json_string_value(json_object_get(pg, "accent")),
	    "#767676");
	assert_null(json_object_get(o, "avatar"));
	json_decref(o);
	free(s);
	config_free(conf);
}

/* Each refusal names its field and says what is wrong. */
static void
test_page_refused(void **state)
{
	char yaml[4096], big[3000];

	(void)state;
	/* Colours: the format, then contrast with the white label. */
	refused("webchat:\n  page:\n    accent: red\n",
	    ":3: webchat.page.accent: \"red\" is not a colour #rrggbb");
	refused("webchat:\n  page:\n    accent: \"#12345\"\n",
	    "webchat.page.accent: \"#12345\" is not a colour");
	refused("webchat:\n  page:\n    accent: \"#12345g\"\n",
	    "webchat.page.accent: \"#12345g\" is not a colour");
	refused("webchat:\n  page:\n    accent: \"#0b5cad; x\"\n",
	    "webchat.page.accent: ");
	/* WeChat's own green: 2.38:1, the reason for this check. */
	refused("webchat:\n  page:\n    accent: \"#07c160\"\n",
	    ":3: webchat.page.accent: #07c160 has contrast 2.38:1 with white "
	    "text, under WCAG AA's 4.5:1");
	/* #777777 is 4.48:1, #767676 (accepted above) 4.54:1. */
	refused("webchat:\n  page:\n    accent: \"#777777\"\n",
	    "webchat.page.accent: #777777 has contrast 4.48:1");
	refused("webchat:\n  page:\n    accent: \"#ffffff\"\n",
	    "has contrast 1.00:1");
	/* The avatar: an image by its bytes, 12 KiB at most, a file. */
	avatar_refused(64, 0, ":3: webchat.page.avatar: %s is not a PNG, "
	    "JPEG, GIF or WebP image");
	avatar_refused(12 * 1024 + 1, 1, "webchat.page.avatar: %s: larger "
	    "than 12288 bytes");
	refused("webchat:\n  page:\n    avatar: /nonexistent/a.png\n",
	    "webchat.page.avatar: /nonexistent/a.png: No such file");
	/* Suggestions: at most four, each one line. */
	refused("webchat:\n  page:\n    suggestions: [a, b, c, d, e]\n",
	    ":3: webchat.page.suggestions: 5 given, at most 4");
	refused("webchat:\n  page:\n    suggestions: [a, \"\"]\n",
	    "webchat.page.suggestions[1]: must not be empty");
	refused("webchat:\n  page:\n    suggestions: [a, \"x\\ny\"]\n",
	    "webchat.page.suggestions[1]: has a line break");
	memset(big, 'x', 151);
	big[151] = '\0';
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    suggestions:"
	    " [%s]\n", big);
	refused(yaml, "webchat.page.suggestions[0]: 151 bytes, at most 150");
	/* Lengths, in bytes. */
	memset(big, 'x', 121);
	big[121] = '\0';
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    title: %s\n",
	    big);
	refused(yaml, ":3: webchat.page.title: 121 bytes, at most 120");
	memset(big, 'x', 61);
	big[61] = '\0';
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    agent_name: "
	    "%s\n", big);
	refused(yaml, "webchat.page.agent_name: 61 bytes, at most 60");
	memset(big, 'x', 2001);
	big[2001] = '\0';
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    welcome: %s\n",
	    big);
	refused(yaml, "webchat.page.welcome: 2001 bytes, at most 2000");
	memset(big, 'x', 1001);
	big[1001] = '\0';
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    footer: %s\n",
	    big);
	refused(yaml, "webchat.page.footer: 1001 bytes, at most 1000");
	/* Empty and control characters; lines only in welcome and footer. */
	refused("webchat:\n  page:\n    title: \"\"\n",
	    ":3: webchat.page.title: must not be empty");
	refused("webchat:\n  page:\n    title: \"a\\nb\"\n",
	    "webchat.page.title: has a line break (byte 0x0a)");
	refused("webchat:\n  page:\n    agent_name: \"a\\tb\"\n",
	    "webchat.page.agent_name: has a control character (byte 0x09)");
	refused("webchat:\n  page:\n    welcome: \"a\\x1bb\"\n",
	    "webchat.page.welcome: has a control character (byte 0x1b)");
	/* lang and unknown keys. */
	refused("webchat:\n  page:\n    lang: fr\n",
	    ":3: webchat.page.lang: \"fr\" is not zh or en");
	refused("webchat:\n  page:\n    titel: x\n",
	    ":3: webchat.page.titel: unknown key");
	refused("webchat:\n  page: [x]\n", "webchat.page: ");
}

/* policy: narrowing only, rates, proxies, session TTLs. */
static void
test_policy(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	conf = load_text("", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->policy.webchat_narrowed, 0);
	assert_int_equal(conf->policy.session_rate.per, 30);
	assert_int_equal(conf->policy.session_rate.period_ms, 60000);
	assert_int_equal(conf->policy.session_rate.burst, 30);
	assert_int_equal(conf->policy.address_rate.per, 600);
	assert_int_equal(conf->policy.address_rate.burst, 300);
	assert_int_equal(conf->policy.conns_per_address, 256);
	assert_int_equal(conf->policy.conns_total, 4096);
	assert_int_equal(conf->policy.tcp_conns_per_peer, 256);
	assert_int_equal(conf->policy.tcp_conns_per_proxy, 2048);
	assert_int_equal(conf->policy.tcp_conns_total, 2000);
	assert_int_equal(conf->webchat.head_timeout_s, 20);
	assert_int_equal(conf->webchat.frame_timeout_s, 20);
	assert_int_equal(conf->webchat.max_out_total, 64 * 1024 * 1024);
	assert_int_equal(conf->policy.anonymous, 1);
	assert_int_equal(conf->policy.idle_ttl_s, 1800);
	assert_int_equal(conf->policy.absolute_ttl_s, 86400);
	assert_int_equal(conf->policy.trusted_proxies_count, 0);
	config_free(conf);

	conf = load_text("policy:\n  roles:\n    webchat: [session.open, "
	    "chat.send]\n  ratelimit:\n    session: {rate: 2/s, burst: 4}\n"
	    "  trusted_proxies: [10.0.0.1, \"::1\"]\n"
	    "  sessions: {anonymous: false, idle_ttl_s: 5,"
	    " absolute_ttl_s: 10}\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->policy.webchat_narrowed, 1);
	assert_int_equal(conf->policy.webchat_methods_count, 2);
	assert_int_equal(conf->policy.webchat_methods[1], IPC_CHAT_SEND);
	assert_int_equal(conf->policy.session_rate.per, 2);
	assert_int_equal(conf->policy.session_rate.period_ms, 1000);
	assert_int_equal(conf->policy.session_rate.burst, 4);
	assert_int_equal(conf->policy.trusted_proxies_count, 2);
	assert_string_equal(conf->policy.trusted_proxies[1], "::1");
	assert_int_equal(conf->policy.anonymous, 0);
	assert_int_equal(conf->policy.idle_ttl_s, 5);
	config_free(conf);

	refused("policy:\n  roles:\n    webchat: [chat.send, ctl.restart]\n",
	    "policy.roles.webchat[1]: \"ctl.restart\" is an operator method");
	refused("policy:\n  roles:\n    webchat: [pairing.approve]\n",
	    "\"pairing.approve\" is an operator method");
	refused("policy:\n  roles:\n    webchat: [state.put]\n",
	    "\"state.put\" is a channel method");
	refused("policy:\n  roles:\n    webchat: [agent.done]\n",
	    "\"agent.done\" is an agent method");
	refused("policy:\n  roles:\n    webchat: [conn.close]\n",
	    "unknown method \"conn.close\"");
	refused("policy:\n  ratelimit:\n    session: {rate: 5/sec}\n",
	    "policy.ratelimit.session.rate");
	refused("policy:\n  ratelimit:\n    address: {burst: 0}\n",
	    "policy.ratelimit.address.burst");
	refused("policy:\n  trusted_proxies: [proxy.example]\n",
	    "policy.trusted_proxies[0]");
	refused("policy:\n  sessions: {idle_ttl_s: 10, absolute_ttl_s: 5}\n",
	    "exceeds absolute_ttl_s");
	refused("policy:\n  sessions: {anonymous: maybe}\n",
	    "is not true or false");
}

/* channels: each refusal names its field; the slice keeps the policy. */
static void
test_channels(void **state)
{
	char err[CFG_ERR_MAX], *s;
	const struct cfg_channel *c;
	struct config *conf;
	json_error_t jerr;
	json_t *o;

	(void)state;
	conf = load_text("channels:\n"
	    "  - name: alice\n    type: wechat\n    dm_policy: allowlist\n"
	    "    allow_from: [a@im.wechat, \"*\"]\n"
	    "    ratelimit: {peer: {rate: 2/s, burst: 4}, account: "
	    "{rate: 100/hour, burst: 9}}\n"
	    "    text_chunk_limit: 500\n"
	    "    wechat: {login_url: \"http://127.0.0.1:9\", "
	    "cdn_url: \"http://127.0.0.1:10/c2c\", send_gap_ms: 0, stream_mode: block, block_min_chars: 50}\n"
	    "  - name: bob\n    type: wechat\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->channels_count, 2);
	c = config_channel(conf, "alice");
	assert_non_null(c);
	assert_int_equal(c->dm_policy, DM_POLICY_ALLOWLIST);
	assert_int_equal(c->allow_from_count, 2);
	assert_int_equal(c->peer_rate.per, 2);
	assert_int_equal(c->peer_rate.period_ms, 1000);
	assert_int_equal(c->peer_rate.burst, 4);
	assert_int_equal(c->account_rate.burst, 9);
	assert_int_equal(c->text_chunk_limit, 500);
	assert_int_equal(c->send_gap_ms, 0);
	assert_int_equal(c->stream_block, 1);
	assert_int_equal(c->block_min_chars, 50);
	assert_string_equal(c->agent, "default");
	c = config_channel(conf, "bob");
	assert_int_equal(c->dm_policy, DM_POLICY_PAIRING);
	assert_int_equal(c->text_chunk_limit, 2000);
	assert_int_equal(c->pairing_ttl_s, 3600);
	/* The answer at the end unless asked; blocks of 200 when asked. */
	assert_int_equal(c->stream_block, 0);
	assert_int_equal(c->block_min_chars, 200);
	assert_string_equal(c->login_url, "https://ilinkai.weixin.qq.com");
	assert_string_equal(c->cdn_url,
	    "https://novac2c.cdn.weixin.qq.com/c2c");
	assert_null(config_channel(conf, "carol"));

	/* The worker learns how to reach its platform, not who may talk. */
	s = config_slice_channel(conf, config_channel(conf, "alice"));
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "account")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(o,
	    "login_url")), "http://127.0.0.1:9");
	assert_string_equal(json_string_value(json_object_get(o,
	    "cdn_url")), "http://127.0.0.1:10/c2c");
	assert_null(json_object_get(o, "token"));
	assert_null(strstr(s, "allow"));
	assert_null(strstr(s, "a@im.wechat"));
	json_decref(o);
	free(s);
	config_free(conf);

	refused("channels:\n  - name: a\n    type: telegram\n",
	    "channels[0].type: unknown channel type \"telegram\"");
	refused("channels:\n  - type: wechat\n", "channels[0].name");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    dm_policy: friends\n",
	    "channels[0].dm_policy: unknown policy \"friends\"");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "  - name: a\n    type: wechat\n",
	    "channels[1].name: duplicate channel name");
	refused("channels:\n  - name: a\n    type: wechat\n    agent: x\n",
	    "channels[0].agent: no agent named \"x\"");
	/* A bot token never crosses the network in clear. */
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {login_url: \"http://example.org\"}\n",
	    "channels[0].wechat.login_url: must be an https:// URL");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {base_url: \"http://10.0.0.1:80\"}\n",
	    "channels[0].wechat.base_url");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {cdn_url: \"http://cdn.example.org/c2c\"}\n",
	    "channels[0].wechat.cdn_url: must be an https:// URL");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    text_chunk_limit: 10\n", "channels[0].text_chunk_limit");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    ratelimit: {peer: {rate: fast}}\n",
	    "channels[0].ratelimit.peer.rate");
	/* "off" unquoted is the word, not YAML 1.1's false. */
	conf = load_text("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {stream_mode: off}\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->channels[0].stream_block, 0);
	config_free(conf);
	/* Only iLink sends by blocks; wechat: on another type is inert. */
	setenv("WX_TEST_BOT_SECRET", "s3cret", 1);
	conf = load_text("channels:\n  - name: a\n    type: wecom_bot\n"
	    "    wecom_bot: {bot_id: b1, secret_env: WX_TEST_BOT_SECRET}\n"
	    "    wechat: {stream_mode: block}\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->channels[0].stream_block, 0);
	config_free(conf);
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {stream_mode: partial}\n",
	    "channels[0].wechat.stream_mode: unknown mode \"partial\" "
	    "(known: off, block)");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {block_min_chars: 0}\n",
	    "channels[0].wechat.block_min_chars");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {block_min_chars: 4001}\n",
	    "channels[0].wechat.block_min_chars");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {token_file: /nonexistent/token}\n",
	    "channels[0].wechat.token_file: /nonexistent/token");
}

/* A thousand accounts fit (issue #13); one more is refused. */
static void
test_channels_max(void **state)
{
	char err[CFG_ERR_MAX], last[16], *yaml;
	struct config *conf;
	size_t cap = 32 + (CFG_CHANNELS_MAX + 1) * 48, off;
	int i;

	(void)state;
	yaml = malloc(cap);
	assert_non_null(yaml);
	off = (size_t)snprintf(yaml, cap, "channels:\n");
	for (i = 0; i < CFG_CHANNELS_MAX; i++)
		off += (size_t)snprintf(yaml + off, cap - off,
		    "  - {name: a%04d, type: wechat}\n", i);
	conf = load_text(yaml, err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->channels_count, CFG_CHANNELS_MAX);
	snprintf(last, sizeof(last), "a%04d", CFG_CHANNELS_MAX - 1);
	assert_string_equal(conf->channels[CFG_CHANNELS_MAX - 1].name, last);
	config_free(conf);
	snprintf(yaml + off, cap - off, "  - {name: a%04d, type: wechat}\n",
	    CFG_CHANNELS_MAX);
	refused(yaml, "channels: has too many entries");
	free(yaml);
}

/*
 * groups_without_mention: the groups answered without a mention, each
 * one a chat the policy lets in, once; anything that could never
 * match is refused with its field.
 */
static void
test_groups_without_mention(void **state)
{
	char err[CFG_ERR_MAX], y[4096 + (CFG_ALLOW_MAX + 1) * 8];
	char long_id[IPC_PEER_MAX + 2], *p;
	const struct cfg_channel *c;
	struct config *conf;
	unsigned i;

	(void)state;
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	conf = load_text("channels:\n"
	    "  - name: a\n    type: wechat\n    group_policy: allowlist\n"
	    "    groups: [g1, g2, g3]\n"
	    "    groups_without_mention: [g2, g3]\n"
	    "  - name: b\n    type: wechat\n    group_policy: open\n"
	    "    groups_without_mention: [anywhere]\n"
	    "  - name: c\n    type: wechat\n    group_policy: allowlist\n"
	    "    groups: [\"*\"]\n    groups_without_mention: [x]\n"
	    "  - name: d\n    type: wechat\n    group_policy: open\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	c = config_channel(conf, "a");
	assert_int_equal(c->mention_free_count, 2);
	assert_int_equal(config_group_mention(c, "g1", 2), 1);
	assert_int_equal(config_group_mention(c, "g2", 2), 0);
	assert_int_equal(config_group_mention(c, "g3", 2), 0);
	/* Bytes, not a C string: a prefix is another chat. */
	assert_int_equal(config_group_mention(c, "g2x", 2), 0);
	assert_int_equal(config_group_mention(c, "g2x", 3), 1);
	assert_int_equal(config_group_mention(c, "g", 1), 1);
	c = config_channel(conf, "b");
	assert_int_equal(config_group_mention(c, "anywhere", 8), 0);
	assert_int_equal(config_group_mention(c, "other", 5), 1);
	c = config_channel(conf, "c");
	assert_int_equal(config_group_mention(c, "x", 1), 0);
	/* Unset: require_mention for every group, as before. */
	c = config_channel(conf, "d");
	assert_int_equal(c->mention_free_count, 0);
	assert_int_equal(config_group_mention(c, "g1", 2), 1);
	config_free(conf);
	conf = load_text("channels:\n"
	    "  - name: a\n    type: wechat\n    group_policy: open\n"
	    "    require_mention: false\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(config_group_mention(config_channel(conf, "a"),
	    "g1", 2), 0);
	config_free(conf);

#define GWM(list) "channels:\n  - name: a\n    type: wechat\n" \
	"    group_policy: allowlist\n    groups: [g1, g2]\n" \
	"    groups_without_mention: " list "\n"
	refused(GWM("[g1, g2, g1]"), "channels[0].groups_without_mention[2]: "
	    "\"g1\" is listed twice (also [0])");
	refused(GWM("[g1, g9]"), "channels[0].groups_without_mention[1]: "
	    "\"g9\" is not a group that group_policy and groups allow");
	refused(GWM("[\"*\"]"), "channels[0].groups_without_mention[0]: "
	    "must be one chat id");
	refused(GWM("[\"g1 \"]"), "channels[0].groups_without_mention[0]: "
	    "must be one chat id");
	refused(GWM("[\"g\\tx\"]"),
	    "channels[0].groups_without_mention[0]: must be one chat id");
	refused(GWM("[\"\"]"), "channels[0].groups_without_mention: is too "
	    "short");
	refused(GWM("g1"), "channels[0].groups_without_mention: must be a "
	    "list");
	refused(GWM("[[g1]]"), "channels[0].groups_without_mention: must be "
	    "a string");
#undef GWM
	/* The default group_policy lets no group in. */
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    groups_without_mention: [g1]\n",
	    "channels[0].groups_without_mention[0]: \"g1\" is not a group");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    group_policy: open\n    require_mention: false\n"
	    "    groups_without_mention: [g1]\n",
	    "channels[0].groups_without_mention: has no effect while "
	    "require_mention is false");
	/* At most CFG_ALLOW_MAX ids, as groups. */
	p = y;
	p += snprintf(p, sizeof(y), "channels:\n  - name: a\n    type: "
	    "wechat\n    group_policy: open\n"
	    "    groups_without_mention: [");
	for (i = 0; i <= CFG_ALLOW_MAX; i++)
		p += snprintf(p, sizeof(y) - (p - y), "%sg%u", i ? "," : "", i);
	snprintf(p, sizeof(y) - (p - y), "]\n");
	refused(y, "channels[0].groups_without_mention: has too many "
	    "entries");
	/* An id longer than a peer id could never match a chat. */
	snprintf(y, sizeof(y), "channels:\n  - name: a\n    type: wechat\n"
	    "    group_policy: open\n    groups_without_mention: [%.*s]\n",
	    IPC_PEER_MAX + 1, long_id);
	refused(y, "channels[0].groups_without_mention: is too long");
}

static void
test_public_url(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	conf = load_text("webchat:\n  listen: \"[::1]:9000\"\n", err,
	    sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->webchat.public_url, "http://[::1]:9000");
	config_free(conf);
	conf = load_text("webchat:\n  public_url: https://chat.example.org/w\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->webchat.public_url,
	    "https://chat.example.org/w");
	config_free(conf);
	refused("webchat:\n  public_url: https://chat.example.org/\n",
	    "webchat.public_url");
	refused("webchat:\n  public_url: ftp://x\n", "webchat.public_url");
}

/*
 * bind_templates: a template is a wechat channel entry; a bound account
 * is its copy under a name, found like the file's, freed with the rest.
 */
static void
test_bind_templates(void **state)
{
	char err[CFG_ERR_MAX];
	const struct cfg_template *t;
	const struct cfg_channel *c;
	struct config *conf;

	(void)state;
	conf = load_text("bind:\n  pending_max: 4\n"
	    "bind_templates:\n  - name: staff\n    dm_policy: allowlist\n"
	    "    allow_from: [boss]\n    max_accounts: 7\n"
	    "    wechat:\n      stream_mode: block\n"
	    "      login_url: http://127.0.0.1:1\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->bind.pending_max, 4);
	assert_int_equal(conf->bind.ttl_min_s, 60);
	assert_int_equal(conf->bind.login_timeout_s, 600);
	assert_non_null(t = config_template(conf, "staff"));
	assert_null(config_template(conf, "other"));
	assert_int_equal(t->max_accounts, 7);
	assert_string_equal(t->chan.type, "wechat");
	assert_int_equal(t->chan.stream_block, 1);
	assert_null(config_channel(conf, "b12345678"));
	assert_non_null(c = config_rt_add(conf, t, "b12345678"));
	assert_ptr_equal(config_channel(conf, "b12345678"), c);
	assert_int_equal(config_channels(conf), 1);
	assert_ptr_equal(config_channel_at(conf, 0), c);
	assert_string_equal(c->name, "b12345678");
	assert_string_equal(c->agent, "default");
	assert_int_equal(c->dm_policy, DM_POLICY_ALLOWLIST);
	assert_int_equal(c->allow_from_count, 1);
	assert_string_equal(c->allow_from[0], "boss");
	assert_ptr_not_equal(c->allow_from[0], t->chan.allow_from[0]);
	assert_string_equal(c->login_url, "http://127.0.0.1:1");
	assert_null(c->token);
	assert_true(config_rt_is(conf, "b12345678"));
	/* A name already in use is not taken twice. */
	assert_null(config_rt_add(conf, t, "b12345678"));
	assert_non_null(config_rt_add(conf, t, "b00000002"));
	config_rt_remove(conf, "b12345678");
	assert_null(config_channel(conf, "b12345678"));
	assert_false(config_rt_is(conf, "b12345678"));
	assert_non_null(config_channel(conf, "b00000002"));
	config_free(conf);
	refused("bind_templates:\n  - name: t\n    agent: nobody\n",
	    "bind_templates[0].agent");
	refused("bind_templates:\n  - name: t\n    max_accounts: 1001\n",
	    "bind_templates[0].max_accounts");
	refused("bind_templates:\n  - name: t\n    max_accounts: 01\n",
	    "bind_templates[0].max_accounts");
	refused("bind_templates:\n  - name: t\n    type: wechat\n",
	    "type");
	refused("bind:\n  login_timeout_s: 1\n", "bind.login_timeout_s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_bind_templates),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_derived_paths),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_cross_fields),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_agents),
		cmocka_unit_test(test_not_numbers),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_openai),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_channels_max),
		cmocka_unit_test(test_groups_without_mention),
		cmocka_unit_test(test_public_url),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_page_refused),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_schedules_bad),
		cmocka_unit_test(test_schedules_limits),
		cmocka_unit_test(test_schedule_check),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A key file with these contents and mode; its path in kpath. */
static char kpath[64];

/* An avatar file of len bytes, a PNG's by its magic numbers or not. */

static void
avatar_file(size_t len, int png)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r',
	    '\n', 0x1a, '\n' };
	unsigned char *b = calloc(1, len);
	int fd;

	assert_non_null(b);
	if (png)
		memcpy(b, magic, sizeof(magic));
	else
		memcpy(b, "GIF87", 5);	/* one byte short of a GIF */
	snprintf(apath, sizeof(apath), "/tmp/test_avatar.XXXXXX");
	fd = mkstemp(apath);
	assert_true(fd != -1);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
	free(b);
}

/* avatar_file(len, png) as webchat.page.avatar: want, %s its path. */
static void
avatar_refused(size_t len, int png, const char *want)
{
	char yaml[256], why[256];

	avatar_file(len, png);
	snprintf(yaml, sizeof(yaml), "webchat:\n  page:\n    avatar: %s\n",
	    apath);
	snprintf(why, sizeof(why), want, apath);
	refused(yaml, why);
	unlink(apath);
}

/* console: on listen, with two operators and extra lines, refused. */
#define LO	"127.0.0.1:8443"

static void
console_refused(const char *listen, const char *extra, const char *want)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml), "console:\n  listen: \"%s\"\n"
	    "  operators:\n    - {name: alice, scope: admin}\n"
	    "    - {name: bob}\n%s", listen, extra);
	refused(yaml, want);
}

static void
key_file(const char *text, mode_t mode)
{
	int fd;

	snprintf(kpath, sizeof(kpath), "/tmp/test_key.XXXXXX");
	fd = mkstemp(kpath);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)),
	    (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* type openai: required keys, ranges, the key and where it goes. */
static void
test_openai(void **state)
{
	char err[CFG_ERR_MAX], yaml[1024], *s;
	struct config *conf;
	json_t *o;

	(void)state;
	key_file("sk-test-123\n", 0600);
	snprintf(yaml, sizeof(yaml), "webchat:\n  agent: m\n"
	    "agents:\n  - name: e\n  - name: m\n    type: openai\n"
	    "    system_prompt: Be brief.\n"
	    "    openai:\n      url: http://127.0.0.1:9/v1/chat/completions\n"
	    "      model: tiny\n      api_key_file: %s\n"
	    "      temperature: 0.5\n      max_tokens: 64\n"
	    "      timeout_s: 5\n      stream: false\n"
	    "      headers: [\"X-Org: wx\"]\n", kpath);
	conf = load_text(yaml, err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->agents[1].api_key, "sk-test-123");
	assert_string_equal(conf->agents[1].system_prompt, "Be brief.");
	assert_int_equal(conf->agents[1].stream, 0);
	assert_int_equal(conf->agents[1].timeout_s, 5);
	s = config_slice_agent(conf, &conf->agents[1]);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "api_key")),
	    "sk-test-123");
	assert_string_equal(json_string_value(json_object_get(o, "model")),
	    "tiny");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "max_tokens")), 64);
	assert_true(json_is_false(json_object_get(o, "stream")));
	/* The prompt is the supervisor's; the key only in its own slice. */
	assert_null(json_object_get(o, "system_prompt"));
	json_decref(o);
	free(s);
	s = config_slice_agent(conf, &conf->agents[0]);
	assert_null(strstr(s, "sk-test"));
	free(s);
	s = config_slice_webchat(conf);
	assert_null(strstr(s, "sk-test"));
	free(s);
	config_free(conf);

	/* Readable by others: refused, as check_file_secrecy does. */
	assert_int_equal(chmod(kpath, 0640), 0);
	snprintf(yaml, sizeof(yaml), "agents:\n  - type: openai\n"
	    "    openai:\n      url: https://x.example/v1\n      model: m\n"
	    "      api_key_file: %s\n", kpath);
	refused(yaml, "group or others may access it");
	unlink(kpath);
	refused(yaml, "api_key_file: ");

	refused("agents:\n  - type: openai\n    openai:\n      model: m\n",
	    "agents[0].openai.url: must be an http:// or https:// URL");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: ftp://x/\n      model: m\n",
	    "agents[0].openai.url: must be");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n",
	    "agents[0].openai.model: must name the model");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n      temperature: 3\n",
	    "agents[0].openai.temperature: must be 0..2");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n      timeout_s: 0\n",
	    "agents[0].openai.timeout_s: 0 is out of range 1..3600");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n      stream: maybe\n",
	    "agents[0].openai.stream: \"maybe\" is not true or false");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n"
	    "      headers: [\"no colon\"]\n",
	    "agents[0].openai.headers[0]: must be \"Name: value\"");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n"
	    "      models: [a, b]\n",
	    "agents[0].openai.models: must list openai.model (m) too");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n"
	    "      models: [m, \"two words\"]\n",
	    "agents[0].openai.models[1]: a model name is one word");
	refused("policy:\n  commands:\n    channel: [new, \"/stop\"]\n",
	    "policy.commands.channel[1]: unknown command \"/stop\" (help, "
	    "new, stop, model, unbind; no slash)");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n      vision: maybe\n",
	    "agents[0].openai.vision: \"maybe\" is not true or false");
	refused("agents:\n  - type: openai\n    openai:\n"
	    "      url: https://x/\n      model: m\n"
	    "      api_key_env: WXGATE_TEST_UNSET_KEY\n",
	    "environment variable WXGATE_TEST_UNSET_KEY is not set");
	refused("agents:\n  - name: a\n    openai:\n      model: m\n",
	    "agents[0].openai: only for type openai");
}

/* type command: an absolute, executable argv[0]. */
static void
test_command(void **state)
{
	char err[CFG_ERR_MAX], *s;
	struct config *conf;
	json_t *o;

	(void)state;
	conf = load_text("agents:\n  - type: command\n    command:\n"
	    "      argv: [/bin/cat, -u]\n      timeout_s: 7\n", err,
	    sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->agents[0].argv_count, 2);
	assert_int_equal(conf->agents[0].cmd_timeout_s, 7);
	s = config_slice_agent(conf, &conf->agents[0]);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "argv"), 1)), "-u");
	json_decref(o);
	free(s);
	config_free(conf);

	refused("agents:\n  - type: command\n",
	    "agents[0].command.argv: must start with an absolute path");
	refused("agents:\n  - type: command\n    command:\n"
	    "      argv: [cat]\n", "must start with an absolute path");
	refused("agents:\n  - type: command\n    command:\n"
	    "      argv: [/nonexistent/agent]\n",
	    "/nonexistent/agent: No such file or directory");
	refused("agents:\n  - name: a\n    command:\n      argv: [/bin/cat]\n",
	    "agents[0].command: only for type command");
}

/*
 * What schedules name: two agents, a WeCom group robot "ops" (read as
 * the hub does, so its key file need not exist) and an iLink account
 * "wx".  SCHED_BASE_LINES lines; the schedules follow.
 */
#define SCHED_BASE \
	"agents:\n  - name: default\n  - name: writer\n" \
	"channels:\n  - name: ops\n    type: wecom_webhook\n" \
	"    wecom_webhook: {key_file: /nonexistent/ops.key}\n" \
	"  - name: wx\n    type: wechat\n"
#define SCHED_PATH	"sched.yaml"

static struct config *
sched_parse(const char *tail, char *err, size_t errlen)
{
	struct config *conf;
	char *text;

	if (asprintf(&text, "%s%s", SCHED_BASE, tail) == -1)
		fail_msg("asprintf");
	conf = config_parse(SCHED_PATH, text, strlen(text), CFG_F_HUB, err,
	    errlen);
	free(text);
	return conf;
}

/* The base plus tail must be refused with an error containing want. */
static void
sched_refused(const char *tail, const char *want)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	conf = sched_parse(tail, err, sizeof(err));
	if (conf != NULL || strstr(err, want) == NULL ||
	    strncmp(err, SCHED_PATH ":", strlen(SCHED_PATH) + 1) != 0)
		fail_msg("yaml <<%.512s>>: want error containing \"%s\", "
		    "got %s \"%s\"", tail, want,
		    conf != NULL ? "success" : "", err);
	config_free(conf);
}

/* One schedule: "schedules:\n  - name: s\n" (lines 10, 11) and keys. */
static void
sched_one_refused(const char *keys, const char *want)
{
	char *tail;

	if (asprintf(&tail, "schedules:\n  - name: s\n%s", keys) == -1)
		fail_msg("asprintf");
	sched_refused(tail, want);
	free(tail);
}

/* A good file with two schedules: every key, and the defaults. */
static void
test_schedules(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;
	const struct cfg_schedule *s;

	(void)state;
	conf = sched_parse("schedule:\n  runs_max: 8\n"
	    "  notify: \"ops:group\"\n"
	    "schedules:\n"
	    "  - name: morning\n    cron: \"0 8 * * 1-5\"\n"
	    "    tz: Europe/Berlin\n    text: \"Good morning\"\n"
	    "    to: [\"ops:group\", \"wx:o9cq8abc@im.wechat\"]\n"
	    "    hold_until_contact: 24h\n"
	    "  - name: brief.daily-2\n    every: 30m\n    agent: writer\n"
	    "    prompt: Write the briefing\n    to: [\"ops:@all\"]\n"
	    "    catch_up: none\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->schedule.runs_max, 8);
	assert_int_equal(conf->schedule.deadline_s, 300);
	assert_int_equal(conf->schedule.history_days, 30);
	assert_int_equal(conf->schedule.history_max, 1000);
	assert_int_equal(conf->schedule.schedules_max, 1000);
	assert_string_equal(conf->schedule.notify, "ops:group");
	assert_int_equal(conf->schedules_count, 2);
	s = &conf->schedules[0];
	assert_string_equal(s->name, "morning");
	assert_string_equal(s->cron, "0 8 * * 1-5");
	assert_null(s->every);
	assert_string_equal(s->tz, "Europe/Berlin");
	assert_null(s->agent);
	assert_string_equal(s->text, "Good morning");
	assert_string_equal(s->targets, "ops:group\nwx:o9cq8abc@im.wechat");
	assert_int_equal(s->hold_s, 86400);
	assert_int_equal(s->catch_up_none, 0);
	s = &conf->schedules[1];
	assert_string_equal(s->name, "brief.daily-2");
	assert_null(s->cron);
	assert_string_equal(s->every, "30m");
	/* The defaults: UTC, no hold, catch up the latest slot. */
	assert_string_equal(s->tz, "UTC");
	assert_string_equal(s->agent, "writer");
	assert_string_equal(s->text, "Write the briefing");
	assert_string_equal(s->targets, "ops:@all");
	assert_int_equal(s->hold_s, 0);
	assert_int_equal(s->catch_up_none, 1);
	config_free(conf);

	/* The ends of hold_until_contact; an empty list of schedules. */
	conf = sched_parse("schedules:\n  - name: a\n    every: 1d\n"
	    "    text: hi\n    to: [\"wx:p\"]\n    hold_until_contact: 7d\n"
	    "  - name: b\n    every: 1d\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    hold_until_contact: 0\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->schedules[0].hold_s, 7 * 86400);
	assert_int_equal(conf->schedules[1].hold_s, 0);
	config_free(conf);
	conf = sched_parse("schedules: []\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->schedules_count, 0);
	config_free(conf);
}

/* Each bad input names its field, at its line (or its entry's). */
static void
test_schedules_bad(void **state)
{
	char *tail, *p;
	size_t i;

	(void)state;
	sched_refused("schedules:\n  - name: Morning\n    every: 1h\n"
	    "    text: hi\n    to: [\"wx:p\"]\n",
	    ":11: schedules[0].name: must be 1..32 characters of a-z, 0-9, "
	    "_, . and -");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "  - name: s\n    every: 2h\n    text: hi\n    to: [\"wx:p\"]\n",
	    ":15: schedules[1].name: duplicate schedule name \"s\" "
	    "(also schedules[0])");
	sched_refused("schedules:\n  - name: "
	    "abcdefghijabcdefghijabcdefghijabc\n    every: 1h\n"
	    "    text: hi\n    to: [\"wx:p\"]\n", "schedules[0].name: must be");

	/* When: exactly one of cron and every, each in its syntax. */
	sched_one_refused("    cron: \"60 8 * * *\"\n    text: hi\n"
	    "    to: [\"wx:p\"]\n",
	    ":12: schedules[0].cron: minute: 60 is out of range 0-59");
	sched_one_refused("    cron: \"0 8 * *\"\n    text: hi\n"
	    "    to: [\"wx:p\"]\n", ":12: schedules[0].cron: ");
	sched_one_refused("    cron: \"@daily\"\n    every: 1h\n"
	    "    text: hi\n    to: [\"wx:p\"]\n",
	    ":12: schedules[0].cron: give cron or every, not both");
	sched_one_refused("    text: hi\n    to: [\"wx:p\"]\n",
	    ":11: schedules[0].cron: give cron (\"0 8 * * 1-5\") or every");
	sched_one_refused("    every: 30s\n    text: hi\n    to: [\"wx:p\"]\n",
	    ":12: schedules[0].every: seconds are not a unit");
	sched_one_refused("    every: 367d\n    text: hi\n    to: [\"wx:p\"]\n",
	    ":12: schedules[0].every: longer than 366d");
	/* The wire holds 64 bytes of it; zeros would pass the parser. */
	sched_one_refused("    every: 00000000000000001h\n    text: hi\n"
	    "    to: [\"wx:p\"]\n",
	    ":12: schedules[0].every: longer than 16 bytes");
	sched_one_refused("    every: 1h\n    tz: Europe/Nowhere\n"
	    "    text: hi\n    to: [\"wx:p\"]\n",
	    ":13: schedules[0].tz: unknown time zone \"Europe/Nowhere\"");
	sched_one_refused("    every: 1h\n    tz: ../etc/passwd\n"
	    "    text: hi\n    to: [\"wx:p\"]\n", ":13: schedules[0].tz: ");

	/* What: text, or agent and prompt. */
	sched_one_refused("    every: 1h\n    agent: nope\n    prompt: hi\n"
	    "    to: [\"wx:p\"]\n",
	    ":13: schedules[0].agent: no agent named \"nope\"");
	sched_one_refused("    every: 1h\n    text: hi\n    agent: writer\n"
	    "    to: [\"wx:p\"]\n",
	    ":14: schedules[0].agent: give text, or agent and prompt, not "
	    "both");
	sched_one_refused("    every: 1h\n    to: [\"wx:p\"]\n",
	    ":11: schedules[0].text: give text, or agent and prompt");
	sched_one_refused("    every: 1h\n    agent: writer\n"
	    "    to: [\"wx:p\"]\n",
	    ":11: schedules[0].prompt: agent writer needs a prompt");
	sched_one_refused("    every: 1h\n    prompt: hi\n    to: [\"wx:p\"]\n",
	    ":11: schedules[0].agent: a prompt needs an agent");
	sched_one_refused("    every: 1h\n    text: \" \\n \"\n"
	    "    to: [\"wx:p\"]\n",
	    ":13: schedules[0].text: must not be empty");
	sched_one_refused("    every: 1h\n    agent: writer\n    prompt: \"\"\n"
	    "    to: [\"wx:p\"]\n",
	    ":14: schedules[0].prompt: must not be empty");

	/* To whom: 1..16 "channel:target", each a configured channel. */
	sched_one_refused("    every: 1h\n    text: hi\n",
	    ":11: schedules[0].to: give 1 to 16 targets");
	sched_one_refused("    every: 1h\n    text: hi\n    to: []\n",
	    ":14: schedules[0].to: give 1 to 16 targets");
	sched_one_refused("    every: 1h\n    text: hi\n"
	    "    to: [\"wx:1\", \"wx:2\", \"wx:3\", \"wx:4\", \"wx:5\","
	    " \"wx:6\", \"wx:7\", \"wx:8\", \"wx:9\", \"wx:10\", \"wx:11\","
	    " \"wx:12\", \"wx:13\", \"wx:14\", \"wx:15\", \"wx:16\","
	    " \"wx:17\"]\n",
	    ":14: schedules[0].to: 17 targets, at most 16");
	sched_one_refused("    every: 1h\n    text: hi\n"
	    "    to:\n      - \"wx:p\"\n      - \"foo:bar\"\n",
	    ":16: schedules[0].to[1]: no channel named \"foo\"");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [ops]\n",
	    "schedules[0].to[0]: \"ops\" is not \"channel:target\"");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"ops:\"]\n",
	    "schedules[0].to[0]: the target after \"ops:\" is empty");
	sched_one_refused("    every: 1h\n    text: hi\n"
	    "    to: [\"ops:a\\tb\"]\n",
	    "schedules[0].to[0]: control character in \"channel:target\"");
	sched_one_refused("    every: 1h\n    text: hi\n"
	    "    to: [\"ops:a\\nb\"]\n",
	    "schedules[0].to[0]: must be one line");
	sched_one_refused("    every: 1h\n    text: hi\n"
	    "    to: [\"ops:g\", \"wx:p\", \"ops:g\"]\n",
	    "schedules[0].to[2]: given twice (also to[0])");
	if (asprintf(&tail, "    every: 1h\n    text: hi\n"
	    "    to: [\"wx:%0257d\"]\n", 0) == -1)
		fail_msg("asprintf");
	sched_one_refused(tail, "schedules[0].to[0]: the target is longer "
	    "than 256 bytes");
	free(tail);

	/* Hold and catch_up. */
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    hold_until_contact: 8d\n",
	    ":15: schedules[0].hold_until_contact: 691200 seconds, over 7d");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    hold_until_contact: soon\n",
	    ":15: schedules[0].hold_until_contact: \"soon\" is not a duration");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    hold_until_contact: 12\n",
	    "schedules[0].hold_until_contact: \"12\" is not a duration");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    catch_up: all\n",
	    ":15: schedules[0].catch_up: unknown catch_up \"all\" (known: "
	    "latest, none)");
	sched_one_refused("    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n"
	    "    colour: red\n", ":15: schedules[0].colour: unknown key");

	/*
	 * Length: 16 messages of the channel's text_chunk_limit (2000 for
	 * wx), of its bytes where it counts bytes (ops: 2048), and one
	 * message's bytes on the wire.
	 */
	tail = malloc(70000 + 128);
	assert_non_null(tail);
	p = tail + sprintf(tail, "    every: 1h\n    text: \"");
	memset(p, 'a', 70000);
	sprintf(p + 70000, "\"\n    to: [\"ops:g\", \"wx:p\"]\n");
	sched_one_refused(tail, ":13: schedules[0].text: 70000 characters, "
	    "over what channel ops carries (16 messages of 2048)");
	/* The first target's channel that cannot carry it is named. */
	sprintf(p + 70000, "\"\n    to: [\"wx:p\", \"ops:g\"]\n");
	sched_one_refused(tail, ":13: schedules[0].text: 70000 characters, "
	    "over what channel wx carries (16 messages of 2000)");
	free(tail);
	tail = malloc(11000 * 3 + 128);
	assert_non_null(tail);
	p = tail + sprintf(tail, "    every: 1h\n    text: \"");
	for (i = 0; i < 11000; i++)
		p += sprintf(p, "\xe4\xb8\xad");
	sprintf(p, "\"\n    to: [\"ops:g\"]\n");
	sched_one_refused(tail, ":13: schedules[0].text: 33000 bytes, over "
	    "what channel ops carries (16 messages of 2048 bytes)");
	free(tail);
	tail = malloc(40000 + 128);
	assert_non_null(tail);
	p = tail + sprintf(tail, "    every: 1h\n    agent: writer\n"
	    "    prompt: \"");
	memset(p, 'a', 40000);
	sprintf(p + 40000, "\"\n    to: [\"ops:g\"]\n");
	sched_one_refused(tail, ":14: schedules[0].prompt: 40000 bytes, over "
	    "the 32768 one message may hold");
	free(tail);
}

/* The schedule: block, and schedules_max over the list. */
static void
test_schedules_limits(void **state)
{
	(void)state;
	sched_refused("schedule:\n  notify: \"nochan:x\"\n",
	    ":11: schedule.notify: no channel named \"nochan\"");
	sched_refused("schedule:\n  notify: \"ops\"\n",
	    ":11: schedule.notify: \"ops\" is not \"channel:target\"");
	sched_refused("schedule:\n  runs_max: 010\n",
	    ":11: schedule.runs_max: \"010\" is not a decimal number");
	sched_refused("schedule:\n  runs_max: 65\n",
	    ":11: schedule.runs_max: 65 is out of range 1..64");
	sched_refused("schedule:\n  schedules_max: 1\n"
	    "schedules:\n  - name: a\n    every: 1h\n    text: hi\n"
	    "    to: [\"wx:p\"]\n"
	    "  - name: b\n    every: 1h\n    text: hi\n    to: [\"wx:p\"]\n",
	    ":12: schedules: 2 schedules, over schedule.schedules_max (1)");
	sched_refused("schedule:\n  size: 1\n",
	    ":11: schedule.size: unknown key");
}

/* The shared rule on its own, as the hub calls it for wxgatectl. */
static void
test_schedule_check(void **state)
{
	char err[CFG_ERR_MAX];
	struct store_sched sc;
	struct config *conf;

	(void)state;
	conf = sched_parse("", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	memset(&sc, 0, sizeof(sc));
	sc.name = "nightly";
	sc.cron = "30 2 * * *";
	sc.every = "";
	sc.tz = NULL;			/* UTC, as "" is */
	sc.agent = "";			/* a fixed text */
	sc.body = "good night";
	sc.targets = "ops:group\nwx:p";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), 0);
	sc.tz = "";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), 0);

	/* Errors name the field as the file does, with no prefix. */
	sc.cron = "60 2 * * *";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "cron: minute: 60 is out of range 0-59");
	sc.cron = "30 2 * * *";
	sc.tz = "Europe/Nowhere";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "tz: unknown time zone \"Europe/Nowhere\" "
	    "(not in /usr/share/zoneinfo)");
	sc.tz = "Asia/Shanghai";
	sc.targets = "ops:group\nfoo:x";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "to[1]: no channel named \"foo\"");
	sc.targets = "ops:group\n";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "to[1]: \"\" is not \"channel:target\"");
	sc.targets = "wx:p";
	sc.agent = "writer";
	sc.body = "";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "prompt: must not be empty");
	sc.body = "summarise the day";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), 0);
	sc.hold = -1;
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "hold_until_contact: must not be negative");
	sc.hold = 7 * 86400 + 1;
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "hold_until_contact: 604801 seconds, over "
	    "7d");
	sc.hold = 0;
	sc.name = "a/b";
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);
	assert_string_equal(err, "name: must be 1..32 characters of a-z, "
	    "0-9, _, . and -");
	sc.name = NULL;
	assert_int_equal(schedule_check(conf, &sc, err, sizeof(err)), -1);

	/* The same target rule for schedule.notify. */
	assert_int_equal(schedule_check_target(conf, "wx:o9cq8@im.wechat",
	    err, sizeof(err)), 0);
	assert_int_equal(schedule_check_target(conf, ":x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "no channel named \"\"");
	config_free(conf);
}

/*
 * wechat_mp and wecom_app (config_callback.c): the three secret files
 * read and only in the account's slice, the EncodingAESKey's shape
 * (C.2), the Token's, the listen address its own, each error naming
 * its field.
 */
static void
test_callback(void **state)
{
	char err[CFG_ERR_MAX], yaml[2048], tok[64], aes[64], sec[64], *s;
	const struct cfg_channel *c;
	struct config *conf;
	json_t *o;

	(void)state;
	key_file("FakeToken123\n", 0600);
	snprintf(tok, sizeof(tok), "%s", kpath);
	key_file("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 0600);
	snprintf(aes, sizeof(aes), "%s", kpath);
	key_file("app-secret-xyz\n", 0600);
	snprintf(sec, sizeof(sec), "%s", kpath);
	snprintf(yaml, sizeof(yaml), "channels:\n"
	    "  - name: mp\n    type: wechat_mp\n"
	    "    wechat_mp: {app_id: wxFAKEAPPID00001, token_file: %s, "
	    "encoding_aes_key_file: %s, secret_file: %s, "
	    "listen: \"127.0.0.1:8081\", mode: plain}\n"
	    "  - name: app\n    type: wecom_app\n"
	    "    wecom_app: {corp_id: wwFAKECORPID0001, agent_id: 1000002, "
	    "token_file: %s, encoding_aes_key_file: %s, "
	    "listen: \"[::1]:8082\", reply_budget_ms: 3000}\n",
	    tok, aes, sec, tok, aes);
	if ((conf = load_text(yaml, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	c = config_channel(conf, "mp");
	assert_string_equal(c->cb_token, "FakeToken123");
	assert_string_equal(c->cb_secret, "app-secret-xyz");
	assert_int_equal(c->cb_plain, 1);
	assert_int_equal(c->cb_budget_ms, 4000);
	assert_int_equal(c->cb_body_max, 65536);
	assert_string_equal(c->cb_api_url, "https://api.weixin.qq.com");
	s = config_slice_callback(conf, c);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "aes_key")),
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	assert_string_equal(json_string_value(json_object_get(o, "listen")),
	    "127.0.0.1:8081");
	json_decref(o);
	free(s);
	c = config_channel(conf, "app");
	assert_int_equal(c->cb_agent_id, 1000002);
	assert_int_equal(c->cb_budget_ms, 3000);
	assert_null(c->cb_secret);
	assert_string_equal(c->cb_api_url, "https://qyapi.weixin.qq.com");
	/* The other channels' slices hold none of it. */
	s = config_slice_webchat(conf);
	assert_null(strstr(s, "FakeToken"));
	free(s);
	config_free(conf);

	/* Each field named in its error. */
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: mp\n"
	    "    type: wechat_mp\n    wechat_mp: {token_file: %s, "
	    "encoding_aes_key_file: %s, listen: \"127.0.0.1:1\"}\n", tok, aes);
	refused(yaml, "channels[0].wechat_mp.app_id: the AppID");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: mp\n"
	    "    type: wechat_mp\n    wechat_mp: {app_id: wx1, token_file: "
	    "%s, encoding_aes_key_file: %s}\n", tok, aes);
	refused(yaml, "channels[0].wechat_mp.listen: the callback needs");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: mp\n"
	    "    type: wechat_mp\n    wechat_mp: {app_id: wx1, token_file: "
	    "%s, encoding_aes_key_file: %s, listen: \"127.0.0.1:1\"}\n",
	    tok, tok);
	refused(yaml, "channels[0].wechat_mp.encoding_aes_key_file: ");
	refused(yaml, "does not hold an EncodingAESKey (exactly 43");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: mp\n"
	    "    type: wechat_mp\n    wechat_mp: {app_id: wx1, token_file: "
	    "%s, encoding_aes_key_file: %s, listen: \"127.0.0.1:1\"}\n",
	    aes, aes);
	refused(yaml, "channels[0].wechat_mp.token_file: ");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
	    "    type: wecom_app\n    wecom_app: {corp_id: ww1, token_file: "
	    "%s, encoding_aes_key_file: %s, listen: \"127.0.0.1:1\"}\n",
	    tok, aes);
	refused(yaml, "channels[0].wecom_app.agent_id: the app's AgentId");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
	    "    type: wecom_app\n    wecom_app: {corp_id: ww1, agent_id: 2, "
	    "token_file: %s, encoding_aes_key_file: %s, "
	    "listen: \"127.0.0.1:1\", reply_budget_ms: 5000}\n", tok, aes);
	refused(yaml, "channels[0].wecom_app.reply_budget_ms: 5000 is out "
	    "of range 100..4500");
	snprintf(yaml, sizeof(yaml), "channels:\n  - name: a\n"
	    "    type: wecom_app\n    wecom_app: {corp_id: ww1, agent_id: 2, "
	    "token_file: %s, encoding_aes_key_file: %s, "
	    "listen: \"127.0.0.1:1\"}\n  - name: b\n    type: wechat_mp\n"
	    "    wechat_mp: {app_id: wx1, token_file: %s, "
	    "encoding_aes_key_file: %s, listen: \"127.0.0.1:1\"}\n",
	    tok, aes, tok, aes);
	refused(yaml, "channels[1].wechat_mp.listen: 127.0.0.1:1 is also "
	    "channels[0]'s");
	refused("webchat: {listen: \"127.0.0.1:7\"}\nchannels:\n"
	    "  - name: a\n    type: wechat\n"
	    "    wecom_app: {corp_id: ww1}\n",
	    "channels[0].wecom_app: is for channels of type wecom_app only");
	/* The wecom_app block does not take OA's keys. */
	refused("channels:\n  - name: a\n    type: wecom_app\n"
	    "    wecom_app: {app_id: wx1}\n", "app_id");
	unlink(tok);
	unlink(aes);
	unlink(sec);
}

/* metrics.listen: loopback only, and no other listener's address. */
static void
test_metrics(void **state)
{
	static const char *const bad[] = {
		"0.0.0.0:9464", "192.0.2.1:9464", "[::]:9464",
		"[::ffff:127.0.0.1]:9464", "[fe80::1]:9464", "128.0.0.1:1",
		"localhost:9464", "127.0.0.1",
	};
	static const char *const good[] = {
		"127.0.0.1:9464", "127.1.2.3:1", "[::1]:65535",
	};
	char yaml[256], err[CFG_ERR_MAX];
	struct config *conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "metrics:\n  listen: \"%s\"\n",
		    bad[i]);
		refused(yaml, ":2: metrics.listen: ");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml), "metrics:\n  listen: \"%s\"\n",
		    good[i]);
		if ((conf = load_text(yaml, err, sizeof(err))) == NULL)
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(conf->metrics_listen, good[i]);
		config_free(conf);
	}
	refused("webchat:\n  listen: \"127.0.0.1:8080\"\nmetrics:\n"
	    "  listen: \"127.0.0.1:8080\"\n", "metrics.listen: "
	    "127.0.0.1:8080 is webchat.listen");
}

/*
 * console: loopback only, no TLS yet, operators required with listen,
 * scopes admin or viewer (viewer by default), lifetimes checked.
 */
static void
test_console(void **state)
{
	static const char ops[] = "  operators:\n"
	    "    - {name: alice, scope: admin}\n    - {name: bob}\n";
	char yaml[512], err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	/* Absent: no console, the defaults still set. */
	if ((conf = load_text("log:\n  level: info\n", err,
	    sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_null(conf->console.listen);
	assert_int_equal(conf->console.operators_count, 0);
	assert_int_equal(conf->console.idle_timeout_s, CFG_CONSOLE_IDLE_S);
	config_free(conf);
	snprintf(yaml, sizeof(yaml), "console:\n  listen: \"[::1]:8443\"\n%s"
	    "  idle_timeout_s: 60\n  session_max_s: 120\n  link_ttl_s: 30\n",
	    ops);
	if ((conf = load_text(yaml, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->console.listen, "[::1]:8443");
	assert_int_equal(conf->console.operators_count, 2);
	assert_non_null(config_operator(conf, "alice"));
	assert_true(config_operator(conf, "alice")->admin);
	assert_false(config_operator(conf, "bob")->admin);
	assert_null(config_operator(conf, "carol"));
	assert_int_equal(conf->console.idle_timeout_s, 60);
	assert_int_equal(conf->console.session_max_s, 120);
	assert_int_equal(conf->console.link_ttl_s, 30);
	/* Login links name the listen address unless told otherwise. */
	assert_string_equal(conf->console.public_url, "http://[::1]:8443");
	config_free(conf);
	snprintf(yaml, sizeof(yaml), "console:\n  listen: \"127.0.0.1:8443\"\n"
	    "%s  public_url: http://localhost:9000\n", ops);
	if ((conf = load_text(yaml, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->console.public_url,
	    "http://localhost:9000");
	config_free(conf);
	/* The console's own scheme, no trailing slash, no blanks. */
	console_refused(LO, "  public_url: https://gw.example.org\n",
	    "console.public_url: must be an http:// URL without a "
	    "trailing /, at most 176 bytes (the console has no tls_cert)");
	console_refused(LO, "  public_url: http://localhost:9000/\n",
	    "console.public_url: must be an http:// URL");
	console_refused(LO, "  public_url: \"http://a b\"\n",
	    "console.public_url: must be an http:// URL");
	refused("console:\n  public_url: http://localhost:9000\n",
	    "console.public_url: set without console.listen");

	console_refused("0.0.0.0:8443", "",
	    "console.listen: 0.0.0.0:8443 is not a loopback");
	console_refused(LO, "  tls_cert: /nonexistent/c\n  tls_key: /k\n",
	    "console.tls_cert: /nonexistent/c: No such file");
	console_refused("0.0.0.0:8443", "  tls_cert: /c\n",
	    "console.tls_key: missing: tls_cert and tls_key go together");
	refused("console:\n  listen: \"127.0.0.1:8443\"\n",
	    "console.operators: none");
	refused("console:\n  listen: \"127.0.0.1:8443\"\n  operators:\n"
	    "    - {name: a, scope: root}\n", "scope must be admin or viewer");
	refused("console:\n  listen: \"127.0.0.1:8443\"\n  operators:\n"
	    "    - {name: a}\n    - {name: a}\n", "\"a\" twice");
	refused("console:\n  listen: \"127.0.0.1:8443\"\n  operators:\n"
	    "    - {name: \"a b\"}\n", "name must be");
	console_refused(LO, "  idle_timeout_s: 100\n  session_max_s: 50\n",
	    "idle_timeout_s: 100 exceeds session_max_s");
	console_refused(LO, "  link_ttl_s: 0\n", "must be at least 1");
	snprintf(yaml, sizeof(yaml), "webchat:\n  listen: \"127.0.0.1:8080\"\n"
	    "console:\n  listen: \"127.0.0.1:8080\"\n%s", ops);
	refused(yaml, "127.0.0.1:8080 is already webchat's");
}

/* agents[].relay: listen required for type relay, nowhere else, unshared. */
static void
test_relay(void **state)
{
	char err[CFG_ERR_MAX];
	struct config *conf;

	(void)state;
	conf = load_text("agents:\n  - name: default\n    type: relay\n"
	    "    relay:\n      listen: \"0.0.0.0:8765\"\n", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_string_equal(conf->agents[0].relay_listen, "0.0.0.0:8765");
	assert_non_null(config_relay_agent(conf, "default"));
	assert_int_equal(conf->agents[0].relay_e2e, 0);
	config_free(conf);
	/* Sealed console threads: a relay's, and only a relay's. */
	conf = load_text("agents:\n  - name: default\n    type: relay\n"
	    "    relay:\n      listen: \"127.0.0.1:8765\"\n      e2e: true\n",
	    err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf->agents[0].relay_e2e, 1);
	config_free(conf);
	refused("agents:\n  - name: default\n    type: echo\n    relay:\n"
	    "      e2e: true\n", "agents[0].relay: only for type relay");
	refused("agents:\n  - name: default\n    type: relay\n",
	    "agents[0].relay.listen: must be IPv4:port");
	refused("agents:\n  - name: default\n    type: relay\n    relay:\n"
	    "      listen: \"localhost:1\"\n",
	    "agents[0].relay.listen: must be IPv4:port");
	refused("agents:\n  - name: default\n    type: echo\n    relay:\n"
	    "      listen: \"127.0.0.1:1\"\n",
	    "agents[0].relay: only for type relay");
	refused("webchat:\n  listen: \"127.0.0.1:8080\"\nagents:\n"
	    "  - name: default\n    type: relay\n    relay:\n"
	    "      listen: \"127.0.0.1:8080\"\n",
	    "agents[0].relay.listen: 127.0.0.1:8080 is already");
	refused("agents:\n  - name: default\n    type: relay\n    relay:\n"
	    "      listen: \"127.0.0.1:9\"\n  - name: b\n    type: relay\n"
	    "    relay:\n      listen: \"127.0.0.1:9\"\n",
	    "agents[1].relay.listen: 127.0.0.1:9 is also agents[0]'s");
}
