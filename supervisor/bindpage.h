/*
 * The binding page's side in the hub (bindpage.c): GET /bind/<token>
 * and bind.start from the web chat, and the login states of a pending
 * bound account relayed back to the page that started it.
 */
#ifndef WX_BINDPAGE_H
#define WX_BINDPAGE_H

struct worker;
struct ipc_msg;

int	 sup_bind_check(struct worker *, struct ipc_msg *);
int	 sup_bind_start(struct worker *, struct ipc_msg *);
/* The web chat connection closed: its pending binding is abandoned. */
void	 bindpage_conn_closed(struct worker *, uint64_t conn);
/* A web chat worker died: its connections' bindings are abandoned. */
void	 bindpage_worker_down(struct worker *);
/* From channel.c: account's worker said login.qr status (url for scan). */
void	 bindpage_login(const char *account, const char *status,
	    const char *url);
/* From channel.c: the scanner's id (state.put owner) or "scanned". */
void	 bindpage_owner(const char *account, const char *owner);
void	 bindpage_scanned(const char *account);
/* account.c: the account went another way (removed): its page is told. */
void	 bindpage_gone(const char *account);

#endif
