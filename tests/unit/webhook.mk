# The webhook worker's pure wire: workers/wecom_webhook/hook_proto.c.
check_PROGRAMS += tests/unit/workers/webhook/test_hook
TESTS += tests/unit/workers/webhook/test_hook
tests_unit_workers_webhook_test_hook_SOURCES = \
	tests/unit/workers/webhook/test_hook.c \
	workers/wecom_webhook/hook_proto.c workers/wecom_webhook/hook.h \
	$(UNIT_COMMON)
tests_unit_workers_webhook_test_hook_CFLAGS = $(UNIT_CFLAGS)
tests_unit_workers_webhook_test_hook_LDADD = $(UNIT_LDADD)
