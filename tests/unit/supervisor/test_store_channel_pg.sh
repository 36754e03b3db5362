#!/bin/sh
# test_store_channel_pg (test_store_channel.c shipped to PostgreSQL)
# against a PostgreSQL of its own (make check runs it from the build
# folder).
exec sh "$(dirname "$0")/../../pgserver.sh" run \
    ./tests/unit/supervisor/test_store_channel_pg
