# Unit tests (cmocka): tests/unit/<dir>/test_<file>.c covers <dir>/<file>.c.
# Each test names the sources it exercises, so it links without the rest.
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = $(CMOCKA_LIBS) $(DEPS_LIBS)
UNIT_COMMON = common/log.c common/xmalloc.c common/xreallocarray.c \
	common/clock.c common/jsonalloc.c common/b64.c common/sha.c common/hex.c
include tests/unit/ipc.mk
include tests/unit/store.mk
include tests/unit/pg.mk
include tests/unit/admit.mk
include tests/unit/pace.mk
include tests/unit/logring.mk
include tests/unit/block.mk
include tests/unit/config.mk
include tests/unit/webchat.mk
include tests/unit/agent.mk
include tests/unit/wechat.mk
include tests/unit/webhook.mk
include tests/unit/net.mk
include tests/unit/wecom.mk
include tests/unit/callback.mk
include tests/unit/policy.mk
include tests/unit/common.mk
include tests/unit/parent.mk
include tests/unit/sandbox/sandbox.mk
endif
