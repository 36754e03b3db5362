# The webhook worker's wire: a robot's answers and message bodies
# (workers/wecom_webhook/hook_proto.c).
noinst_PROGRAMS += tests/fuzz/fuzz_webhook
tests_fuzz_fuzz_webhook_SOURCES = tests/fuzz/fuzz_webhook.c \
	workers/wecom_webhook/hook_proto.c common/log.c common/xmalloc.c \
	common/jsonalloc.c
tests_fuzz_fuzz_webhook_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_webhook_LDADD = $(DEPS_LIBS)
