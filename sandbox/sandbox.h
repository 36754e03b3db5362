/*
 * The worker sandbox: entered once, after the worker has read its config
 * and before it touches untrusted input.
 */
#ifndef WX_SANDBOX_H
#define WX_SANDBOX_H

struct wk_kind;

/* Dies (fatalx) if a mandatory layer cannot be applied. */
void	sandbox_enter(const struct wk_kind *);

#endif
