/*
 * Unit test for sandbox/sigsys.c: a trapped syscall's handler sends one
 * sandbox.violation frame naming it, in the fixed form, and the process
 * dies of SIGSYS.  Compiled as root's wxgated is (IPC_PARENT_ONLY) and
 * linked with the parent's codec alone, so the frame is read as the
 * parent reads it, with no msgpack in sight.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "codec.h"
#include "sandbox.h"

/* The child: the handler, then a filter that traps getppid, then it. */
static void
child(int fd)
{
	struct rlimit no = { 0, 0 };
	scmp_filter_ctx ctx;

	/* SIGSYS dumps core by default: not in the build tree. */
	if (setrlimit(RLIMIT_CORE, &no) == -1 ||
	    (fd != IPC_FD && dup2(fd, IPC_FD) == -1))
		_exit(2);
	sandbox_sigsys_init();
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(getppid), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		_exit(3);
	syscall(SYS_getppid);
	_exit(4);
}

static void
test_violation_frame(void **state)
{
	uint8_t buf[64];
	struct ipc_msg m;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p), 0);
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		close(p[0]);
		child(p[1]);
	}
	close(p[1]);
	n = recv(p[0], buf, sizeof(buf), 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	assert_true(n > 0);
	assert_int_equal(buf[0], IPC_BIN_MARK);
	assert_int_equal(ipc_decode(buf, (size_t)n, &m), IPC_OK);
	assert_int_equal(m.type, IPC_VIOLATION);
	assert_int_equal(m.req_id, 0);
	assert_int_equal(m.b.violation.syscall, SYS_getppid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_violation_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
