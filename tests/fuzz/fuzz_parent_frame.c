/*
 * libFuzzer harness for the root parent's codec alone (ipc/codec.c,
 * codec_bin.c, catalogue_parent.c, compiled IPC_PARENT_ONLY as root's
 * wxgated compiles them, with no msgpack linked): arbitrary bytes as
 * one frame from the hub, the configuration reader or a zygote.  The
 * fixed form is canonical, so a frame that decodes must re-encode to
 * exactly its own bytes: acceptance and encoding agree on every limit,
 * and no two frames mean the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* One frame never exceeds this; larger inputs are rejected by size. */
#define FUZZER_MAXLEN	(IPC_FRAME_MAX + 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	out[IPC_FRAME_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	uint8_t *copy;
	size_t len;

	if (size > FUZZER_MAXLEN)
		return 0;
	/* An exact-size heap copy lets ASan catch any overread. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (ipc_decode(copy, size, &m) == IPC_OK) {
		/* The parent reads its own form, and nothing else. */
		if (copy[0] != IPC_BIN_MARK || ipc_msginfo(m.type) == NULL)
			abort();
		len = ipc_encode(m.type, m.req_id, &m.b, out, sizeof(out));
		if (len != size || memcmp(out, copy, size) != 0)
			abort();
	}
	free(copy);
	return 0;
}
