/* Placeholder until the barrier lands. */
#include <stdlib.h>
#include "secrets/barrier.h"
#include "common/error.h"
#define NOT_BUILT(err) wd_error_set((err), WD_EUNSUPPORTED, "not built yet")
int barrier_open(struct store *s, struct barrier **r, struct wd_error *err) { (void)s; *r = NULL; return NOT_BUILT(err); }
void barrier_free(struct barrier *b) { (void)b; }
void barrier_status(const struct barrier *b, struct barrier_status *r) { (void)b; *r = (struct barrier_status){ .sealed = true }; }
bool barrier_sealed(const struct barrier *b) { (void)b; return true; }
int barrier_init(struct barrier *b, unsigned n, unsigned t, uint8_t ***r, struct wd_error *err) { (void)b; (void)n; (void)t; *r = NULL; return NOT_BUILT(err); }
void barrier_shares_free(uint8_t **s, unsigned c) { (void)s; (void)c; }
int barrier_unseal(struct barrier *b, const uint8_t *s, size_t l, bool reset, bool *r, struct wd_error *err) { (void)b; (void)s; (void)l; (void)reset; *r = false; return NOT_BUILT(err); }
int barrier_unseal_key(struct barrier *b, const uint8_t *k, size_t l, struct wd_error *err) { (void)b; (void)k; (void)l; return NOT_BUILT(err); }
void barrier_seal(struct barrier *b) { (void)b; }
int barrier_reset(struct barrier *b, struct wd_error *err) { (void)b; return NOT_BUILT(err); }
int barrier_put(struct barrier *b, const char *p, const void *v, size_t l, struct wd_error *err) { (void)b; (void)p; (void)v; (void)l; return NOT_BUILT(err); }
int barrier_get(struct barrier *b, const char *p, uint8_t **r, size_t *rl, struct wd_error *err) { (void)b; (void)p; *r = NULL; *rl = 0; return NOT_BUILT(err); }
void barrier_value_free(uint8_t *v, size_t l) { (void)l; free(v); }
int barrier_delete(struct barrier *b, const char *p, struct wd_error *err) { (void)b; (void)p; return NOT_BUILT(err); }
int barrier_put_json(struct barrier *b, const char *p, const json_t *v, struct wd_error *err) { (void)b; (void)p; (void)v; return NOT_BUILT(err); }
int barrier_get_json(struct barrier *b, const char *p, json_t **r, struct wd_error *err) { (void)b; (void)p; *r = NULL; return NOT_BUILT(err); }
int barrier_list(struct barrier *b, const char *p, bool c, barrier_list_fn f, void *x, struct wd_error *err) { (void)b; (void)p; (void)c; (void)f; (void)x; return NOT_BUILT(err); }
int barrier_delete_prefix(struct barrier *b, const char *p, struct wd_error *err) { (void)b; (void)p; return NOT_BUILT(err); }
int barrier_begin(struct barrier *b, struct wd_error *err) { (void)b; return NOT_BUILT(err); }
int barrier_commit(struct barrier *b, struct wd_error *err) { (void)b; return NOT_BUILT(err); }
void barrier_rollback(struct barrier *b) { (void)b; }
int shamir_split(const uint8_t *s, size_t l, unsigned n, unsigned t, uint8_t **r) { (void)s; (void)l; (void)n; (void)t; (void)r; return WD_EUNSUPPORTED; }
int shamir_combine(const uint8_t *const *s, size_t c, size_t l, uint8_t *r) { (void)s; (void)c; (void)l; (void)r; return WD_EUNSUPPORTED; }
