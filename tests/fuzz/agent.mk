# The agent worker's parser of model output: workers/agent/sse.c.
noinst_PROGRAMS += tests/fuzz/fuzz_sse
tests_fuzz_fuzz_sse_SOURCES = tests/fuzz/fuzz_sse.c workers/agent/sse.c \
	common/log.c common/xmalloc.c common/xreallocarray.c
tests_fuzz_fuzz_sse_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sse_LDADD = $(DEPS_LIBS)
# The relay agent's frames from relays: workers/agent/relay_frame.c.
noinst_PROGRAMS += tests/fuzz/fuzz_relay_frame
tests_fuzz_fuzz_relay_frame_SOURCES = tests/fuzz/fuzz_relay_frame.c \
	workers/agent/relay_frame.c common/log.c common/xmalloc.c \
	common/jsonalloc.c
tests_fuzz_fuzz_relay_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_relay_frame_LDADD = $(DEPS_LIBS)
# wxgate-relay's reader of end-to-end envelopes: ctl/relay/e2e.c.
noinst_PROGRAMS += tests/fuzz/fuzz_e2e_envelope
tests_fuzz_fuzz_e2e_envelope_SOURCES = tests/fuzz/fuzz_e2e_envelope.c \
	ctl/relay/e2e.c common/log.c common/xmalloc.c common/jsonalloc.c \
	common/b64.c
tests_fuzz_fuzz_e2e_envelope_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ctl/relay
tests_fuzz_fuzz_e2e_envelope_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_e2e_envelope_LDADD = $(DEPS_LIBS)
# wxgate-relay's reader of wrapped-key records: ctl/relay/e2e_key.c.
noinst_PROGRAMS += tests/fuzz/fuzz_e2e_record
tests_fuzz_fuzz_e2e_record_SOURCES = tests/fuzz/fuzz_e2e_record.c \
	ctl/relay/e2e.c ctl/relay/e2e_key.c common/log.c common/xmalloc.c \
	common/jsonalloc.c common/b64.c
tests_fuzz_fuzz_e2e_record_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ctl/relay
tests_fuzz_fuzz_e2e_record_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_e2e_record_LDADD = $(DEPS_LIBS)
