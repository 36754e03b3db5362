# The round-trip benchmark: WebSocket clients against a running wxgated
# (tests/bench/run.sh starts one).  Built by default, never run by
# "make check": a benchmark is not a test.
noinst_PROGRAMS += tests/bench/bench_roundtrip
tests_bench_bench_roundtrip_SOURCES = tests/bench/bench_roundtrip.c \
	tests/bench/wsc.c tests/bench/wsc.h
tests_bench_bench_roundtrip_LDADD = $(DEPS_LIBS) -lm

# C10K: 10,000 sessions each sending every 10 s (tests/bench/run_c10k.sh).
noinst_PROGRAMS += tests/bench/bench_c10k
tests_bench_bench_c10k_SOURCES = tests/bench/bench_c10k.c \
	tests/bench/wsc.c tests/bench/wsc.h
tests_bench_bench_c10k_LDADD = $(DEPS_LIBS) -lm
