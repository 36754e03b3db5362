/*
 * Roles: which message types a channel may send.  The role is fixed by the
 * supervisor when it creates the channel; it is never read from a frame.
 */
#ifndef WX_ROLE_H
#define WX_ROLE_H

#include <stddef.h>
#include <stdint.h>

const char	*role_name(int role);
/* 1 if a peer of this role may send this type, else 0. */
int		 role_may_send(int role, uint32_t type);
/* 1 if the type is a request of one role (grantable, narrowable). */
int		 role_is_method(uint32_t type);
/*
 * The role owning a method name (catalogue or reserved), 0 if none;
 * *type gets its message type, IPC_NONE for a reserved name.
 */
int		 role_of_method(const char *name, size_t len, uint32_t *type);
/*
 * Chat commands (supervisor/command.c) are granted like methods: a bit
 * per word ("help", "new", "stop", "model"), 0 for none of them.
 */
uint32_t	 role_command_bit(const char *word, size_t len);
uint32_t	 role_commands_all(void);
void		 role_commands_list(char *, size_t);
/* Denial counters, per role, for the life of the process. */
void		 role_deny(int role);
uint64_t	 role_denied(int role);

#endif
