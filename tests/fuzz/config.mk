# supervisor/config*.c on arbitrary file contents.
noinst_PROGRAMS += tests/fuzz/fuzz_config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c \
	$(CONFIG_SOURCES) policy/ratelimit.c policy/role.c $(IPC_CODEC) \
	common/log.c common/xmalloc.c common/jsonalloc.c common/tls_pem.c \
	common/sniff.c common/b64.c
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(DEPS_LIBS)
