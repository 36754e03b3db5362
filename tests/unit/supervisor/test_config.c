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

#include "supervisor/config.h"

static struct config	*load_text(const char *, char *, size_t);
static void		 refused(const char *, const char *);
static void		 check_defaults(const struct config *);
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
static void		 test_public_url(void **);

/* The path every case's YAML is written to; errors start with it. */
static char tmp_path[64];

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
	config_free(conf);
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
	    "openai, command)");
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
	assert_int_equal(json_object_size(o), 8);
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
	    "send_gap_ms: 0}\n"
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
	assert_string_equal(c->agent, "default");
	c = config_channel(conf, "bob");
	assert_int_equal(c->dm_policy, DM_POLICY_PAIRING);
	assert_int_equal(c->text_chunk_limit, 2000);
	assert_int_equal(c->pairing_ttl_s, 3600);
	assert_string_equal(c->login_url, "https://ilinkai.weixin.qq.com");
	assert_null(config_channel(conf, "carol"));

	/* The worker learns how to reach its platform, not who may talk. */
	s = config_slice_channel(conf, config_channel(conf, "alice"));
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "account")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(o,
	    "login_url")), "http://127.0.0.1:9");
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
	    "    text_chunk_limit: 10\n", "channels[0].text_chunk_limit");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    ratelimit: {peer: {rate: fast}}\n",
	    "channels[0].ratelimit.peer.rate");
	refused("channels:\n  - name: a\n    type: wechat\n"
	    "    wechat: {token_file: /nonexistent/token}\n",
	    "channels[0].wechat.token_file: /nonexistent/token");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_derived_paths),
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
		cmocka_unit_test(test_public_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A key file with these contents and mode; its path in kpath. */
static char kpath[64];

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
