# The workers' shared network library: workers/net/cdisp.c, the
# Content-Disposition parser of what a media host sends.
noinst_PROGRAMS += tests/fuzz/fuzz_cdisp
tests_fuzz_fuzz_cdisp_SOURCES = tests/fuzz/fuzz_cdisp.c workers/net/cdisp.c \
	common/hex.c
tests_fuzz_fuzz_cdisp_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_cdisp_LDADD = $(DEPS_LIBS)
