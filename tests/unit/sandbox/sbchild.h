/*
 * The forked child the sandbox tests run in (sbchild.c): its end of a
 * socketpair on IPC_FD, the one fd the sandbox keeps.
 */
#ifndef WX_TEST_SBCHILD_H
#define WX_TEST_SBCHILD_H

#include <sys/types.h>

/* 0 in the child; in the parent the child's pid, *fd the other end. */
pid_t	sbchild_fork(int *fd);

#endif
