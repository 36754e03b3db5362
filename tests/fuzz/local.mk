# libFuzzer harnesses, built only by ./configure --enable-fuzz with
# CC=clang and CFLAGS containing -fsanitize=fuzzer-no-link (see .ci/run).
# Each harness caps its input size and ships a .dict beside it.
if FUZZ
FUZZ_LDFLAGS = -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz_ipc_frame
tests_fuzz_fuzz_ipc_frame_SOURCES = tests/fuzz/fuzz_ipc_frame.c $(IPC_CODEC) \
	common/log.c common/xmalloc.c
tests_fuzz_fuzz_ipc_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ipc_frame_LDADD = $(DEPS_LIBS)
# The same harness on the root parent's codec as root's wxgated builds
# it: IPC_PARENT_ONLY, its fixed form alone, no msgpack linked
# (PARENT_DEPS).
noinst_PROGRAMS += tests/fuzz/fuzz_parent_frame
tests_fuzz_fuzz_parent_frame_SOURCES = tests/fuzz/fuzz_ipc_frame.c \
	$(PARENT_CODEC) common/log.c common/xmalloc.c
tests_fuzz_fuzz_parent_frame_CPPFLAGS = $(AM_CPPFLAGS) -DIPC_PARENT_ONLY
tests_fuzz_fuzz_parent_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_parent_frame_LDADD = $(PARENT_DEPS)
include tests/fuzz/webchat.mk
include tests/fuzz/config.mk
include tests/fuzz/agent.mk
include tests/fuzz/wechat.mk
include tests/fuzz/webhook.mk
include tests/fuzz/net.mk
include tests/fuzz/wecom.mk
include tests/fuzz/callback.mk
include tests/fuzz/policy.mk
include tests/fuzz/console.mk
include tests/fuzz/store.mk
endif
# The dictionaries ship whether or not this build fuzzes: an EXTRA_DIST
# inside "if FUZZ" left every one of them out of the tarball.
EXTRA_DIST += tests/fuzz/fuzz_ipc_frame.dict tests/fuzz/fuzz_parent_frame.dict \
	tests/fuzz/seeds \
	tests/fuzz/fuzz_http_request.dict \
	tests/fuzz/fuzz_webchat_rpc.dict tests/fuzz/fuzz_ws_frame.dict \
	tests/fuzz/fuzz_config.dict tests/fuzz/fuzz_ilink.dict \
	tests/fuzz/fuzz_sse.dict tests/fuzz/fuzz_xff.dict \
	tests/fuzz/fuzz_webhook.dict \
	tests/fuzz/fuzz_wecom_frame.dict tests/fuzz/fuzz_wecom_decrypt.dict \
	tests/fuzz/fuzz_cron.dict tests/fuzz/fuzz_e2e_envelope.dict \
	tests/fuzz/fuzz_e2e_record.dict \
	tests/fuzz/fuzz_wxcrypt.dict tests/fuzz/fuzz_xmlmsg.dict \
	tests/fuzz/fuzz_videourl.dict \
	tests/fuzz/fuzz_ilink_media.dict tests/fuzz/fuzz_ilink_cdn.dict \
	tests/fuzz/fuzz_cdisp.dict tests/fuzz/fuzz_relay_frame.dict \
	tests/fuzz/fuzz_invite.dict tests/fuzz/fuzz_console_cookie.dict \
	tests/fuzz/fuzz_pgload.dict
