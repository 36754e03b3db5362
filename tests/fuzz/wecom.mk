# The wecom_bot worker's parsers of what the WeCom server sends:
# workers/wecom_bot/frame.c (with handshake.c's answer check) and the
# attachment decryption, media.c.
noinst_PROGRAMS += tests/fuzz/fuzz_wecom_frame
tests_fuzz_fuzz_wecom_frame_SOURCES = tests/fuzz/fuzz_wecom_frame.c \
	workers/wecom_bot/frame.c workers/wecom_bot/handshake.c $(IPC_CODEC) \
	common/log.c common/xmalloc.c common/xreallocarray.c common/jsonalloc.c
tests_fuzz_fuzz_wecom_frame_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_wecom_frame_LDADD = $(DEPS_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_wecom_decrypt
tests_fuzz_fuzz_wecom_decrypt_SOURCES = tests/fuzz/fuzz_wecom_decrypt.c \
	workers/wecom_bot/media.c common/log.c common/xmalloc.c
tests_fuzz_fuzz_wecom_decrypt_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_wecom_decrypt_LDADD = $(DEPS_LIBS)
