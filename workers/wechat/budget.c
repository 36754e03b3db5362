/*
 * The messages a context token has carried (§7.2: at most 10 bot
 * messages per user message; the 11th is refused with ret -2, which
 * also feeds the burst throttle).  send.c notes each message the server
 * took and asks before the next, text or attachment: one past the
 * budget is not sent but handed back as refused, and goes again, under
 * the newest token, once the person has written (the hub's rows carry
 * the peer's newest context, KC_LATEST_CTX).
 *
 * The hub keeps a stream of blocks within the same budget (router_block
 * .c); this catches whatever else would pass it (a long reply's chunks
 * with its files).  Tokens are credentials: only a hash of one is kept.
 *
 * The server's count outlives us (a SIGKILL, a hub restart, the account
 * taken over by another node), and we have no store to keep ours in:
 * each row comes with the hub's count for its token (outbound.spent,
 * the rows its store has as sent on it), and a peer's count is the
 * larger of that and ours.  Ours runs ahead by the rows sent but not
 * acked yet; the hub's by those a predecessor sent.  A predecessor's
 * last send whose ack it took with it, the server counted and the hub
 * did not: its resend under the same key is dropped by the server as
 * seen (§3.4) but taken as sent here, so it is counted once all told.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_msg.h"
#include "wechat.h"

/* Peers remembered; the least recently used one makes room. */
#define BUDGET_PEERS	256

struct budget {
	char		 peer[IPC_PEER_MAX + 1];
	uint64_t	 ctx;		/* FNV-1a of the token */
	unsigned	 sent;
	uint64_t	 used;		/* for the LRU */
};

static struct budget	bt[BUDGET_PEERS];
static uint64_t		bt_clock;

static uint64_t
budget_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* peer's slot, or NULL (make: the least recently used one, cleared). */
static struct budget *
budget_find(const char *peer, int make)
{
	struct budget *b, *old = &bt[0];
	size_t i;

	for (i = 0; i < BUDGET_PEERS; i++) {
		b = &bt[i];
		if (b->used != 0 && strcmp(b->peer, peer) == 0)
			return b;
		if (b->used < old->used)
			old = b;
	}
	if (!make || strlen(peer) >= sizeof(old->peer))
		return NULL;
	memset(old, 0, sizeof(*old));
	strcpy(old->peer, peer);
	return old;
}

/*
 * May one more message go to peer on ctx, which has carried spent by
 * the hub's count?  No token: nothing counted.
 */
int
budget_left(const char *peer, const char *ctx, uint64_t spent)
{
	struct budget *b;
	uint64_t h;

	if (ctx == NULL || *ctx == '\0')
		return 1;
	h = budget_hash(ctx);
	if (spent > WECHAT_TURN_MAX)
		spent = WECHAT_TURN_MAX;
	if ((b = budget_find(peer, spent > 0)) == NULL)
		return 1;
	if (b->ctx != h) {
		if (spent == 0)
			return 1;
		b->ctx = h;
		b->sent = 0;
	}
	if (b->sent < spent)
		b->sent = (unsigned)spent;
	b->used = ++bt_clock;
	return b->sent < WECHAT_TURN_MAX;
}

/* The server took a message to peer on ctx. */
void
budget_note(const char *peer, const char *ctx)
{
	struct budget *b;
	uint64_t h;

	if (ctx == NULL || *ctx == '\0' || (b = budget_find(peer, 1)) == NULL)
		return;
	h = budget_hash(ctx);
	if (b->ctx != h) {
		b->ctx = h;
		b->sent = 0;
	}
	b->sent++;
	b->used = ++bt_clock;
}
