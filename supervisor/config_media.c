/*
 * The media: block of the configuration, see wxgate.yaml(5), MEDIA:
 * what one inbound message's attachments may weigh and how long the
 * store keeps them.  Numbers only; the worker gets max_bytes in its
 * slice (config_channel.c), the supervisor holds it to the same.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_int.h"
#include "ipc_msg.h"

#define MED(f)	offsetof(struct raw_config, media.f), \
		offsetof(struct config, media.f)

const struct cfg_num cfg_media_nums[] = {
	/*
	 * A worker holds one message's parts in memory while it decrypts
	 * them, and the hub reads them whole: the IPC bound is the ceiling.
	 */
	{ "media.max_bytes",		MED(max_bytes),
	    20971520, 1024, IPC_FILE_MAX },
	/* Long enough for an agent to look again; not an archive. */
	{ "media.retention_days",	MED(retention_days),
	    7, 1, 3650 },
	/*
	 * The store's media area: past it the oldest answered messages'
	 * parts go first, and a new message that still does not fit waits
	 * (busy) rather than push out one not answered yet.
	 */
	{ "media.stored_max_bytes",	MED(stored_max_bytes),
	    268435456, 1048576, 2147483647 },
	{ NULL,				0, 0, 0, 0, 0 }
};

/*
 * What one message may carry in fact: a message's parts go in one
 * commit, so a third of the WAL's bound at most, as an operator's file
 * (control_send.c), lest one message alone push the WAL past it.
 */
uint32_t
config_media_max(const struct config *conf)
{
	uint64_t wal = conf->supervisor.wal_max_bytes / 3;

	return wal < conf->media.max_bytes ? (uint32_t)wal :
	    conf->media.max_bytes;
}
