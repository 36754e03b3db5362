# The wecom_webhook channel worker: one process per WeCom group robot,
# outbound only.  hook_proto.c is the pure wire (unit tests in
# tests/unit/workers, fuzzing in tests/fuzz/webhook.mk); hook.c runs it.
libwxworkers_a_SOURCES += \
	workers/wecom_webhook/hook.c workers/wecom_webhook/hook.h \
	workers/wecom_webhook/hook_proto.c
