#!/bin/sh
# wxgate-hub (issue #17) runs the hub alone: it maps SQLite and the
# configuration's YAML but no OpenSSL (its hashes are common/sha.c's,
# its random numbers getrandom's) and no libcurl; and it carries the
# hub and none of the kinds' code.  make check sets WXHUB.
set -eu
: "${WXHUB:?}"
exec sh "$(dirname "$0")/program_needs.sh" wxgate-hub "$WXHUB" \
    -L 'libcrypto*' -L 'libssl*' -L 'libevent_openssl*' -L 'libcurl*' \
    -l libsqlite3 \
    -S worker_main -S reader_main -S zygote_main -S worker_kinds \
    -S wk_console -S wk_wechat -S wk_webchat -S tls_pem_server \
    -s hub_main -s store_open
