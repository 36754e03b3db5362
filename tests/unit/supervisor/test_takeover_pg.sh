#!/bin/sh
# test_takeover_pg against a PostgreSQL of its own (make check runs it from
# the build folder).
exec sh "$(dirname "$0")/../../pgserver.sh" run \
    ./tests/unit/supervisor/test_takeover_pg
