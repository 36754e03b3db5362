/*
 * Roles: which message types a channel may send.  The role is fixed by the
 * supervisor when it creates the channel; it is never read from a frame.
 */
#ifndef WX_ROLE_H
#define WX_ROLE_H

#include <stdint.h>

const char	*role_name(int role);
/* 1 if a peer of this role may send this type, else 0. */
int		 role_may_send(int role, uint32_t type);

#endif
