#!/bin/sh
# wxgate-light (issue #17) runs the web chat pool, the agents and the
# metrics listener: it needs none of the libraries only the hub, the
# configuration or the other kinds use, so those processes map none of
# them; and it carries those kinds and no other (kinds_light.c).  make
# check sets WXLIGHT.
set -eu
: "${WXLIGHT:?}"
exec sh "$(dirname "$0")/program_needs.sh" wxgate-light "$WXLIGHT" \
    -L 'libsqlite3*' -L 'libcrypto*' -L 'libssl*' -L 'libevent_openssl*' \
    -L 'libyaml*' -L 'libcyaml*' -L 'libcurl*' -L 'libm.*' \
    -S hub_main -S reader_main -S store_open -S wk_console -S wk_wechat \
    -s worker_kinds -s wk_webchat -s wk_agent -s wk_metrics
