# The bench's scripts, by name: the directory itself would ship a build's
# objects too when one is made in the tree (make distcheck then links
# those stale names and fails).
EXTRA_DIST += \
	tests/bench/bench_accounts.py \
	tests/bench/bench_callback.py \
	tests/bench/bench_cluster.py \
	tests/bench/bench_conns.py \
	tests/bench/bench_flood.py \
	tests/bench/bench_idle_ws.py \
	tests/bench/bench_openai.py \
	tests/bench/bench_relay.py \
	tests/bench/bench_wechat.py \
	tests/bench/bench_wecom.py \
	tests/bench/benchgate.py \
	tests/bench/chaos_bench.sh \
	tests/bench/lib.sh \
	tests/bench/run.sh \
	tests/bench/run_accounts.sh \
	tests/bench/run_c10k.sh \
	tests/bench/run_callback.sh \
	tests/bench/run_cluster.sh \
	tests/bench/run_conns.sh \
	tests/bench/run_flood.sh \
	tests/bench/run_idle_ws.sh \
	tests/bench/run_openai.sh \
	tests/bench/run_relay.sh \
	tests/bench/run_wechat.sh \
	tests/bench/run_wecom.sh \
	tests/bench/soak.py

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

# End-to-end encryption's C side (ctl/relay/e2e.c): seal, open, unwrap.
noinst_PROGRAMS += tests/bench/bench_e2e
tests_bench_bench_e2e_SOURCES = tests/bench/bench_e2e.c ctl/relay/e2e.c \
	ctl/relay/e2e_key.c ctl/relay/e2e.h common/log.c common/xmalloc.c \
	common/jsonalloc.c common/b64.c
tests_bench_bench_e2e_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/ctl/relay
tests_bench_bench_e2e_LDADD = $(DEPS_LIBS)

# The store's commit on SQLite and PostgreSQL (tests/bench/run_store.sh
# starts the PostgreSQL).
noinst_PROGRAMS += tests/bench/bench_store_commit
tests_bench_bench_store_commit_SOURCES = tests/bench/bench_store_commit.c \
	supervisor/pgpool.c supervisor/pgpool.h
tests_bench_bench_store_commit_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
tests_bench_bench_store_commit_LDADD = libwxsup.a libwxutil.a \
	libwxcommon.a $(DEPS_LIBS) $(PQ_LIBS)
EXTRA_DIST += tests/bench/run_store.sh

# Failover at the lease layer (tests/bench/run_failover.sh starts the
# PostgreSQL).
noinst_PROGRAMS += tests/bench/bench_failover
tests_bench_bench_failover_SOURCES = tests/bench/bench_failover.c \
	supervisor/lease.c supervisor/lease.h supervisor/pgpool.c \
	supervisor/pgpool.h
tests_bench_bench_failover_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
tests_bench_bench_failover_LDADD = libwxutil.a libwxcommon.a $(DEPS_LIBS) \
	$(PQ_LIBS)
EXTRA_DIST += tests/bench/run_failover.sh
