/*
 * libFuzzer harness for ipc/codec.c with every message known, both
 * forms (codec_mp.c, codec_bin.c): arbitrary bytes as one frame from a
 * worker.  A frame that decodes must re-encode, and the re-encoding must
 * decode to the same type and req_id: the supervisor may forward what it
 * accepted, so acceptance and encoding must agree on every limit.  The
 * fixed form is canonical: it re-encodes to its own bytes.
 * Built again as fuzz_parent_frame with IPC_PARENT_ONLY: the root
 * parent's codec alone (codec.c, codec_bin.c, catalogue_parent.c, no
 * msgpack linked), as root's wxgated compiles it, which must accept
 * its own form and nothing else.
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
	struct ipc_msg m, m2;
	uint8_t *copy;
	size_t len;

	if (size > FUZZER_MAXLEN)
		return 0;
	/* An exact-size heap copy lets ASan catch any overread. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (ipc_decode(copy, size, &m) == IPC_OK) {
		len = ipc_encode(m.type, m.req_id, &m.b, out, sizeof(out));
		if (len == 0)
			abort();
		if (ipc_decode(out, len, &m2) != IPC_OK ||
		    m2.type != m.type || m2.req_id != m.req_id)
			abort();
		if (copy[0] == IPC_BIN_MARK &&
		    (len != size || memcmp(out, copy, size) != 0))
			abort();
#ifdef IPC_PARENT_ONLY
		if (copy[0] != IPC_BIN_MARK)
			abort();
#endif
	}
	free(copy);
	return 0;
}
