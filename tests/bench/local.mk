# The round-trip benchmark: WebSocket clients against a running wxgated
# (tests/bench/run.sh starts one).  Built by default, never run by
# "make check": a benchmark is not a test.
noinst_PROGRAMS += tests/bench/bench_roundtrip
tests_bench_bench_roundtrip_SOURCES = tests/bench/bench_roundtrip.c
tests_bench_bench_roundtrip_LDADD = $(DEPS_LIBS) -lm
