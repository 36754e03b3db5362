# The webchat worker: public chat pool (HTTP, WebSocket, JSON RPC) and
# its page.  assets.c is generated from assets/ with od and awk (xxd is
# not always installed), so the page ships inside wxgated.
WEBCHAT_ASSETS = \
	workers/webchat/assets/index.html \
	workers/webchat/assets/chat.js \
	workers/webchat/assets/chat.css \
	workers/webchat/assets/bind.html \
	workers/webchat/assets/bind.js \
	workers/webchat/assets/bind.css \
	workers/webchat/assets/favicon.svg

libwxworkers_a_SOURCES += \
	workers/webchat/webchat.c \
	workers/webchat/http.c workers/webchat/http.h \
	workers/webchat/ws.c workers/webchat/ws.h \
	workers/webchat/rpc.c workers/webchat/rpc.h \
	workers/webchat/page.c workers/webchat/page.h
nodist_libwxworkers_a_SOURCES = workers/webchat/assets.c
BUILT_SOURCES += workers/webchat/assets.c
CLEANFILES += workers/webchat/assets.c
EXTRA_DIST += $(WEBCHAT_ASSETS)

# One array and one length per file, named asset_<file with . as _>.
workers/webchat/assets.c: $(WEBCHAT_ASSETS) $(srcdir)/workers/webchat/local.mk
	$(AM_V_GEN)$(MKDIR_P) workers/webchat && { \
	  echo '/* Generated from workers/webchat/assets/ by local.mk. */'; \
	  echo '#include <stddef.h>'; \
	  echo '#include "webchat/page.h"'; \
	  for f in $(WEBCHAT_ASSETS); do \
	    n=`echo "$$f" | sed 's|.*/||; s|[^A-Za-z0-9]|_|g'`; \
	    test -f "$$f" || f="$(srcdir)/$$f"; \
	    echo "const unsigned char asset_$$n[] = {"; \
	    od -An -v -tu1 "$$f" | \
	      awk '{ l = ""; for (i = 1; i <= NF; i++) l = l $$i ","; \
	        if (l != "") print "\t" l }'; \
	    echo "};"; \
	    echo "const size_t asset_$${n}_len = sizeof(asset_$$n);"; \
	  done; } > $@-t && mv $@-t $@
