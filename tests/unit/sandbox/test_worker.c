/*
 * Unit tests for the sandbox as a worker enters it (sandbox/sandbox.c):
 * sandbox_drop, then what a worker does before sandbox_confine (its
 * config, files of the host, fds of its own), then sandbox_confine.
 * A forked child does each step and sends its report and the line of
 * its first failed check, 0 when all passed, through IPC_FD
 * (sbchild.c), then waits there while the parent looks at its root and
 * namespaces in /proc.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc_msg.h"
#include "sandbox.h"
#include "sbchild.h"

#define NOBODY		65534

/* The line of the first failed check; the child's result. */
#define CHECK(x)	do { if (!(x)) return __LINE__; } while (0)

static struct sandbox_spec spec = { "webchat", "webchat", SB_S_NONET,
    NULL, NULL };
static struct sandbox_conf conf = { NOBODY, NOBODY, 0, 0 };
static int	kept, loose;

static int
cap_eff_zero(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) == -1)
		return 0;
	return data[0].effective == 0 && data[1].effective == 0 &&
	    data[0].permitted == 0 && data[1].permitted == 0;
}

/* After sandbox_drop: the user, with the host's files in sight. */
static int
between(const struct sandbox_report *r)
{
	int fd, sig = 0;

	/* Still dies with its parent. */
	CHECK(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGKILL);

	if (r->on[SB_CREDS]) {
		CHECK(geteuid() == NOBODY && getgid() == NOBODY);
		CHECK(setuid(0) == -1 && seteuid(0) == -1);
		/* /proc/self is root's: nothing of its uid may attach. */
		CHECK(prctl(PR_GET_DUMPABLE) == 0);
		CHECK(cap_eff_zero());
		CHECK(open("/etc/shadow", O_RDONLY | O_CLOEXEC) == -1 &&
		    errno == EACCES);
	}
	CHECK((fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC)) != -1);
	close(fd);
	/* One fd of its own kept, one left behind by a library. */
	CHECK((kept = open("/dev/null", O_RDONLY)) != -1);
	sandbox_keep_fd(kept);
	CHECK((loose = open("/dev/null", O_RDONLY)) != -1);
	return 0;
}

/* After sandbox_confine. */
static int
after(const struct sandbox_report *r)
{
	CHECK(r->on[SB_FDS] && r->on[SB_RLIMITS] && r->on[SB_NNP] &&
	    r->on[SB_SECCOMP]);
	CHECK(fcntl(kept, F_GETFD) != -1);
	CHECK(fcntl(loose, F_GETFD) == -1 && errno == EBADF);
	if (r->on[SB_USERNS])
		CHECK(r->on[SB_MOUNTNS] && r->on[SB_NETNS] &&
		    r->on[SB_IPCNS] && r->on[SB_UTSNS]);
	return 0;
}

/* What the parent sees of a confined child: an empty root, own userns. */
static int
seen(pid_t pid, const struct sandbox_report *r)
{
	char path[64], ours[64], its[64];
	ssize_t n;
	DIR *d;
	struct dirent *de;
	int entries = 0;

	if (!r->on[SB_USERNS])
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	CHECK((n = readlink(path, its, sizeof(its) - 1)) > 0);
	its[n] = '\0';
	CHECK((n = readlink("/proc/self/ns/user", ours, sizeof(ours) - 1)) > 0);
	ours[n] = '\0';
	CHECK(strcmp(its, ours) != 0);
	snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
	CHECK((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			entries++;
	closedir(d);
	CHECK(entries == 0);
	return 0;
}

/* body: 0 runs the checks, 1 a forbidden socket(AF_INET) at the end. */
static int
run(int body, struct sandbox_report *r, int *line)
{
	struct sandbox_report rep;
	int fd, status, l;
	pid_t pid;
	char c;

	memset(r, 0, sizeof(*r));
	*line = -1;
	if ((pid = sbchild_fork(&fd)) == 0) {
		/* As spawn.c asks; a change of ids clears it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			_exit(3);
		sandbox_drop(&spec, &conf, &rep);
		l = between(&rep);
		if (l == 0) {
			sandbox_confine(&spec, &conf, &rep);
			l = after(&rep);
		}
		if (write(IPC_FD, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) ||
		    write(IPC_FD, &l, sizeof(l)) != (ssize_t)sizeof(l))
			_exit(4);
		/* Until the parent has looked. */
		if (read(IPC_FD, &c, 1) == -1)
			_exit(5);
		if (body == 1)
			syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		_exit(l != 0);
	}
	if (read(fd, r, sizeof(*r)) != (ssize_t)sizeof(*r) ||
	    read(fd, line, sizeof(*line)) != (ssize_t)sizeof(*line))
		*line = -1;
	else if (*line == 0)
		*line = seen(pid, r);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_phases(void **state)
{
	struct sandbox_report r;
	int status, line;

	(void)state;
	status = run(0, &r, &line);
	if (line != 0)
		print_message("child failed at line %d (status 0x%x)\n", line,
		    status);
	assert_int_equal(line, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (geteuid() == 0) {
		assert_true(r.on[SB_CREDS]);
		/* Root dropped first: an unmapped user namespace, or why not. */
		if (r.on[SB_USERNS])
			assert_non_null(strstr(r.why[SB_USERNS],
			    "uid 65534 unmapped"));
		else
			assert_non_null(strstr(r.why[SB_USERNS],
			    "CLONE_NEWUSER"));
	}
}

static void
test_forbidden(void **state)
{
	struct sandbox_report r;
	int status, line;

	(void)state;
	status = run(1, &r, &line);
	assert_int_equal(line, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/*
 * Unmapped, a worker could not make a kept directory's path in its own
 * tmpfs: such a spec is refused up front, and strict makes it fatal.
 */
static void
test_rw_dir_refused(void **state)
{
	struct sandbox_report r;
	int status, line;

	(void)state;
	if (geteuid() != 0)
		skip();
	spec.rw_dir = "/tmp";
	conf.strict = 1;
	status = run(0, &r, &line);
	spec.rw_dir = NULL;
	conf.strict = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(line, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_rw_dir_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
