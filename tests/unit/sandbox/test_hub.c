/*
 * Unit tests for the hub's sandbox: sandbox/nsdirs.c (the state
 * directory bound into the empty root), landlock.c and profile_hub.c.
 * A forked child enters the sandbox as the hub would, with a fresh
 * state directory under /tmp (inside NS_ROOT, the case the binds must
 * survive) and /usr/share/zoneinfo read-only, then does what the hub
 * does (files, SQLite in WAL mode, the store and its checkpointer
 * thread) and what it must not (sockets, exec, fork: SIGSYS).  The
 * child sends its sandbox report and the line of its first failed
 * check, 0 when all passed, through the fd the sandbox keeps (IPC_FD,
 * sbchild.c).
 */
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ipc_msg.h"
#include "log.h"
#include "sandbox.h"
#include "sbchild.h"
#include "store.h"
#include "store_int.h"

#define NOBODY		65534
#define ZONEINFO	"/usr/share/zoneinfo"
#define UTC		ZONEINFO "/UTC"

/* The line of the first failed check; the child's result. */
#define CHECK(x)	do { if (!(x)) return __LINE__; } while (0)

typedef int	(*body_fn)(const char *);

static char	 dir[64];
/* A missing read-only directory is skipped without a word. */
static const char *const ro_dirs[] = {
	ZONEINFO, "/nonexistent-wxgate", NULL
};
static struct sandbox_spec spec = {
	"hub", "hub", SB_S_NONET | SB_S_THREADS | SB_S_OWNUID, dir, ro_dirs
};
static const struct sandbox_conf conf = { NOBODY, NOBODY, 0, 0 };

/* Which forbidden call body_forbidden makes. */
static int	 forbid;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	/* A test that failed half-way may have left its own. */
	spec.rw_dir = dir;
	spec.ro_dirs = ro_dirs;
	snprintf(dir, sizeof(dir), "/tmp/wxhub.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* The sandbox drops root to nobody, who must own its state. */
	if (geteuid() == 0 && chown(dir, NOBODY, NOBODY) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
have_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0,
	    1U /* LANDLOCK_CREATE_RULESET_VERSION */) > 0;
}

/*
 * Fork a child that enters the sandbox (all of it, or with full 0 only
 * no_new_privs and Landlock) and runs body.  Returns its wait status;
 * *r and *line are what it sent.
 */
static int
run(body_fn body, int full, struct sandbox_report *r, int *line)
{
	struct sandbox_report rep;
	int fd, status, l;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	*line = -1;
	if ((pid = sbchild_fork(&fd)) == 0) {
		memset(&rep, 0, sizeof(rep));
		if (full)
			sandbox_enter(&spec, &conf, &rep);
		else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    sandbox_landlock(&spec, &rep) == -1)
			_exit(3);
		if (write(IPC_FD, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(4);
		l = body(dir);
		if (write(IPC_FD, &l, sizeof(l)) != (ssize_t)sizeof(l))
			_exit(5);
		_exit(l != 0);
	}
	/* A child that died early sent less; its status tells why. */
	if (read(fd, r, sizeof(*r)) == (ssize_t)sizeof(*r) &&
	    read(fd, line, sizeof(*line)) != (ssize_t)sizeof(*line))
		*line = -1;
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* The child ran body to its end and every check held. */
static void
run_ok(body_fn body, int full, struct sandbox_report *r)
{
	int status, line;

	status = run(body, full, r, &line);
	if (line != 0)
		print_message("child failed at line %d (status 0x%x)\n", line,
		    status);
	assert_int_equal(line, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
body_nothing(const char *d)
{
	(void)d;
	return 0;
}

static int
body_files(const char *d)
{
	char path[128], buf[8];
	int fd;

	snprintf(path, sizeof(path), "%s/state", d);
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) != -1);
	CHECK(write(fd, "hub\n", 4) == 4);
	CHECK(fsync(fd) == 0 && ftruncate(fd, 4) == 0);
	CHECK(close(fd) == 0);
	snprintf(path, sizeof(path), "%s/gone", d);
	CHECK((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) != -1);
	close(fd);
	CHECK(unlink(path) == 0);

	/* Nothing of the host but what was kept. */
	CHECK(open("/etc/passwd", O_RDONLY | O_CLOEXEC) == -1);
	CHECK(open("/tmp/wxhub-escape", O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600) == -1);
	CHECK(open(ZONEINFO "/wxhub", O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600) == -1);
	if (access(UTC, F_OK) == 0) {
		CHECK((fd = open(UTC, O_RDONLY | O_CLOEXEC)) != -1);
		CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "TZif", 4) == 0);
		close(fd);
	}
	return 0;
}

static int
sql_count(sqlite3 *db, int *n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* A second connection in a thread, as the checkpointer has. */
static void *
sql_thread(void *arg)
{
	sqlite3 *db;
	int logged, done, bad;

	if (sqlite3_open_v2(arg, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return arg;
	bad = sqlite3_busy_timeout(db, 2000) != SQLITE_OK ||
	    sqlite3_exec(db, "INSERT INTO t VALUES (2)", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    &logged, &done) != SQLITE_OK;
	sqlite3_close(db);
	return bad ? arg : NULL;
}

static int
body_sqlite(const char *d)
{
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	pthread_t t;
	void *res;
	int wal, n;

	snprintf(path, sizeof(path), "%s/t.db", d);
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) == SQLITE_OK);
	wal = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	CHECK(wal);
	CHECK(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)",
	    NULL, NULL, NULL) == SQLITE_OK);
	CHECK(pthread_create(&t, NULL, sql_thread, path) == 0);
	CHECK(pthread_join(t, &res) == 0);
	CHECK(res == NULL);
	CHECK(sql_count(db, &n) == 0 && n == 2);
	CHECK(sqlite3_close(db) == SQLITE_OK);
	return 0;
}

static int
body_store(const char *d)
{
	struct store_stats st;
	struct store *s;
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/wxgate.db", d);
	CHECK((s = store_open(path, err, sizeof(err))) != NULL);
	store_touch(s);
	CHECK(store_audit(s, 1700000000, "webchat", "webchat:0", 0,
	    "chat.send", "sandboxed") == 0);
	CHECK(store_flush(s) == 0);
	/* 0: the checkpointer thread runs, and the checkpoint is its. */
	CHECK(store_ckpt_ask(s) == 0);
	store_ckpt_wait(s);
	store_wal_stats(s, &st);
	CHECK(st.checkpoints > 0);
	store_close(s);
	return 0;
}

static void
sig_ignore(int sig)
{
	(void)sig;
}

static int
body_signals(const char *d)
{
	struct sigaction sa;

	(void)d;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_ignore;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK(sigaction(SIGUSR1, NULL, &sa) == 0);
	return 0;
}

static const char *const forbidden_names[] = {
	"socket(AF_INET)", "socket(AF_UNIX)", "socketpair", "connect",
	"bind", "listen", "execve", "fork", "clone (a process)", "ptrace",
	"mount", "setuid", "kill", "mkdir", "rt_sigaction(SIGSYS)",
};

static int
body_forbidden(const char *d)
{
	char *const argv[] = { "true", NULL };
	struct sigaction sa;
	char path[128];
	int sv[2];

	switch (forbid) {
	case 0:
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case 1:
		syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		break;
	case 2:
		syscall(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, 0, sv);
		break;
	case 3:
		syscall(SYS_connect, IPC_FD, NULL, 0);
		break;
	case 4:
		syscall(SYS_bind, IPC_FD, NULL, 0);
		break;
	case 5:
		syscall(SYS_listen, IPC_FD, 1);
		break;
	case 6:
		syscall(SYS_execve, "/bin/true", argv, NULL);
		break;
	case 7:
		syscall(SYS_fork);
		break;
	case 8:
		syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		break;
	case 9:
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case 10:
		syscall(SYS_mount, "none", d, "tmpfs", 0, NULL);
		break;
	case 11:
		syscall(SYS_setuid, 0);
		break;
	case 12:
		syscall(SYS_kill, getppid(), 0);
		break;
	case 13:
		snprintf(path, sizeof(path), "%s/sub", d);
		syscall(SYS_mkdir, path, 0700);
		break;
	case 14:
		/* Replacing the handler would make violations survivable. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGSYS, &sa, NULL);
		break;
	}
	/* Still here: the call was let through. */
	return __LINE__;
}

/* The state and a read-only directory, one inside the other. */
static char	 nest_rw[128], nest_ro[128];

static int
body_nested(const char *d)
{
	char path[160];
	int fd;

	(void)d;
	snprintf(path, sizeof(path), "%s/new", nest_rw);
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1);
	close(fd);
	snprintf(path, sizeof(path), "%s/new", nest_ro);
	CHECK(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) == -1);
	snprintf(path, sizeof(path), "%s/old", nest_ro);
	CHECK(open(path, O_WRONLY | O_CLOEXEC) == -1);
	CHECK((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1);
	close(fd);
	return 0;
}

static void
test_report(void **state)
{
	struct sandbox_report r;
	char want[160];

	(void)state;
	run_ok(body_nothing, 1, &r);
	assert_true(r.on[SB_SECCOMP]);
	assert_true(r.on[SB_NNP]);
	if (geteuid() == 0) {
		assert_true(r.on[SB_MOUNTNS]);
		assert_true(r.on[SB_CREDS]);
		/* Root dropped first; its own uid mapped (SB_S_OWNUID). */
		assert_true(r.on[SB_USERNS]);
		snprintf(want, sizeof(want), "uid %u mapped to itself, "
		    "capabilities dropped", (unsigned)NOBODY);
		assert_string_equal(r.why[SB_USERNS], want);
	}
	if (r.on[SB_MOUNTNS]) {
		/* zoneinfo is kept, the missing one skipped. */
		snprintf(want, sizeof(want), "empty read-only root + %s (rw)%s",
		    dir, access(ZONEINFO, F_OK) == 0 ? " + 1 dir (ro)" : "");
		assert_string_equal(r.why[SB_MOUNTNS], want);
	}
	if (have_landlock()) {
		assert_true(r.on[SB_LANDLOCK]);
		assert_non_null(strstr(r.why[SB_LANDLOCK], dir));
	} else {
		assert_false(r.on[SB_LANDLOCK]);
		assert_non_null(strstr(r.why[SB_LANDLOCK],
		    "kernel has no Landlock"));
	}
}

static void
test_files(void **state)
{
	struct sandbox_report r;
	struct stat sb;
	char path[128], buf[8];
	int fd;

	(void)state;
	run_ok(body_files, 1, &r);
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(stat(path, &sb), 0);
	if (geteuid() == 0)
		assert_int_equal(sb.st_uid, NOBODY);
	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "hub\n", 4);
	close(fd);
	snprintf(path, sizeof(path), "%s/gone", dir);
	assert_int_equal(access(path, F_OK), -1);
}

static int
body_files_rw(const char *d)
{
	(void)d;
	return body_files(spec.rw_dir);
}

/*
 * A state directory below one only root may walk (as pytest's /tmp
 * is): the hub drops root before it builds its namespaces, and binds
 * it all the same (ns.c: sandbox_ns_open).
 */
static void
test_rw_below_root_only(void **state)
{
	struct sandbox_report r;
	char inner[96], want[160];

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(inner, sizeof(inner), "%s/state", dir);
	assert_int_equal(mkdir(inner, 0700), 0);
	assert_int_equal(chown(inner, NOBODY, NOBODY), 0);
	assert_int_equal(chown(dir, 0, 0), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	spec.rw_dir = inner;
	run_ok(body_files_rw, 1, &r);
	assert_true(r.on[SB_MOUNTNS]);
	snprintf(want, sizeof(want), "empty read-only root + %s (rw)", inner);
	assert_non_null(strstr(r.why[SB_MOUNTNS], want));
}

/* Landlock alone, without the namespaces, still confines the files. */
static void
test_landlock_alone(void **state)
{
	struct sandbox_report r;

	(void)state;
	if (!have_landlock())
		skip();
	run_ok(body_files, 0, &r);
	assert_true(r.on[SB_LANDLOCK]);
	assert_false(r.on[SB_MOUNTNS]);
}

/* mkdir -p below dir, everything nobody's as the hub's state is. */
static void
mkdirs(char *path)
{
	char *p = path + strlen(dir);
	int last;

	for (;;) {
		p += 1 + strcspn(p + 1, "/");
		last = *p == '\0';
		*p = '\0';
		if (mkdir(path, 0755) == -1)
			assert_int_equal(errno, EEXIST);
		if (geteuid() == 0)
			assert_int_equal(chown(path, NOBODY, NOBODY), 0);
		if (last)
			return;
		*p = '/';
	}
}

/*
 * Each kept as the spec says whichever contains the other: nsdirs.c
 * binds the outer one first, rw_dir first in the spec or not.
 */
static void
nested(const char *rw, const char *ro)
{
	static const char *ros[2] = { nest_ro, NULL };
	struct sandbox_report r;
	char path[160];
	int fd;

	snprintf(nest_rw, sizeof(nest_rw), "%s/%s", dir, rw);
	snprintf(nest_ro, sizeof(nest_ro), "%s/%s", dir, ro);
	mkdirs(nest_rw);
	mkdirs(nest_ro);
	/* nobody could write it but for the read-only bind. */
	snprintf(path, sizeof(path), "%s/old", nest_ro);
	assert_int_not_equal(fd = open(path, O_WRONLY | O_CREAT, 0644), -1);
	close(fd);
	if (geteuid() == 0)
		assert_int_equal(chown(path, NOBODY, NOBODY), 0);
	spec.rw_dir = nest_rw;
	spec.ro_dirs = ros;
	run_ok(body_nested, 1, &r);
	if (geteuid() == 0)
		assert_true(r.on[SB_MOUNTNS]);
}

static void
test_ro_in_rw(void **state)
{
	(void)state;
	nested("a/b/c/d/e/f/state", "a/b/c/d/e/f/state/ro");
}

static void
test_rw_in_ro(void **state)
{
	(void)state;
	nested("top/x/state", "top");
}

static void
test_landlock_not_used(void **state)
{
	struct sandbox_spec none = { "webchat", "webchat", SB_S_NONET,
	    NULL, NULL };
	struct sandbox_report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	/* Restricts nothing: safe in the test process itself. */
	assert_int_equal(sandbox_landlock(&none, &r), 0);
	assert_false(r.on[SB_LANDLOCK]);
	assert_string_equal(r.why[SB_LANDLOCK],
	    "not used: this kind opens no files");
}

static void
test_sqlite(void **state)
{
	struct sandbox_report r;
	char path[128];
	sqlite3 *db;
	int n;

	(void)state;
	run_ok(body_sqlite, 1, &r);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sql_count(db, &n), 0);
	assert_int_equal(n, 2);
	sqlite3_close(db);
}

static void
test_store(void **state)
{
	struct sandbox_report r;

	(void)state;
	run_ok(body_store, 1, &r);
}

static void
test_signals(void **state)
{
	struct sandbox_report r;

	(void)state;
	run_ok(body_signals, 1, &r);
}

static void
test_forbidden(void **state)
{
	struct sandbox_report r;
	size_t i, n = sizeof(forbidden_names) / sizeof(forbidden_names[0]);
	int status, line, bad = 0;

	(void)state;
	for (i = 0; i < n; i++) {
		forbid = (int)i;
		status = run(body_forbidden, 1, &r, &line);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS) {
			print_message("%s: not killed by SIGSYS (status "
			    "0x%x)\n", forbidden_names[i], status);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* --check-sandbox with a state directory not made yet: a stand-in. */
static void
test_check(void **state)
{
	struct sandbox_spec s = spec;
	struct sandbox_report r;
	char out[] = "/tmp/wxhub-check.XXXXXX", buf[8192], tmp[64];
	ssize_t n;
	int fd, saved, status;
	pid_t pid;

	(void)state;
	s.rw_dir = "/nonexistent-wxgate/state";
	sandbox_check_standin(&s, tmp, sizeof(tmp));
	assert_string_equal(s.rw_dir, tmp);
	assert_int_not_equal(fd = mkstemp(out), -1);
	unlink(out);
	fflush(stdout);
	assert_int_not_equal(saved = dup(STDOUT_FILENO), -1);
	assert_int_not_equal(dup2(fd, STDOUT_FILENO), -1);
	/* As wxgate-child does: the drop first, the layers as that user. */
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		sandbox_drop(&s, &conf, &r);
		_exit(sandbox_check(&s, 1, &conf, &r));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rmdir(tmp);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(buf, "hub      seccomp       in force"));
	if (have_landlock())
		assert_non_null(strstr(buf,
		    "hub      landlock      in force       ABI "));
	if (geteuid() == 0)
		assert_non_null(strstr(buf, "hub      mountns       in force"
		    "       empty read-only root + /tmp/wxgate-check."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_landlock_alone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rw_below_root_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ro_in_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_in_ro, setup, teardown),
		cmocka_unit_test(test_landlock_not_used),
		cmocka_unit_test_setup_teardown(test_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
