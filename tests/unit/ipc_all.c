/*
 * Linked into the tests and fuzzers that speak the hub's messages: they
 * know every message from the start, as the hub and workers do once
 * they call ipc_catalogue_all().
 */
#include "codec.h"

static void __attribute__((constructor))
ipc_all(void)
{
	ipc_catalogue_all();
}
