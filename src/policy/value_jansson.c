/* Values to and from jansson, for APIs that speak jansson: objects keep
 * string keys one way, and other keys become their JSON text the other. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

struct rv *rv_from_json(const json_t *json)
{
	struct rv *v;

	if (!json)
		return NULL;

	switch (json_typeof(json)) {
	case JSON_NULL:
		return rv_null();
	case JSON_TRUE:
		return rv_bool(true);
	case JSON_FALSE:
		return rv_bool(false);
	case JSON_INTEGER:
		return rv_int(json_integer_value(json));
	case JSON_REAL:
		return rv_double(json_real_value(json));
	case JSON_STRING:
		return rv_string(json_string_value(json), json_string_length(json));
	case JSON_ARRAY: {
		size_t n = json_array_size(json);

		v = rv_array_new(n);
		if (!v)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			if (rv_array_push(v, rv_from_json(json_array_get(json, i))) < 0) {
				rv_unref(v);
				return NULL;
			}
		}
		return v;
	}
	case JSON_OBJECT: {
		const char *key;
		size_t key_len;
		json_t *value;

		v = rv_object_new(json_object_size(json));
		if (!v)
			return NULL;
		json_object_keylen_foreach((json_t *)json, key, key_len, value) {
			if (rv_object_put(v, rv_string(key, key_len), rv_from_json(value)) < 0) {
				rv_unref(v);
				return NULL;
			}
		}
		return v;
	}
	default:
		return NULL;
	}
}

/* jansson holds int64 and finite doubles only: larger magnitudes become the
 * largest double of their sign (rv_write_json keeps them exact). */
static json_t *number_to_json(const struct rv *v)
{
	int64_t i;
	double d;

	if (rv_number_to_i64(v, &i))
		return json_integer(i);
	d = rv_number_to_double(v);
	if (isinf(d))
		d = d < 0 ? -DBL_MAX : DBL_MAX;
	return json_real(d);
}

/* An object key as OPA writes it: strings as they are, anything else as its
 * compact JSON text. */
static char *key_text(const struct rv *key, size_t *ret_len)
{
	struct wd_buf buf;
	char *s;

	wd_buf_init(&buf, 64, SIZE_MAX / 2);
	if (rv_write_json(key, &buf) < 0) {
		wd_buf_free(&buf);
		return NULL;
	}
	s = wd_buf_take(&buf, ret_len);
	wd_buf_free(&buf);
	return s;
}

json_t *rv_to_json(const struct rv *v)
{
	json_t *out;

	if (!v)
		return NULL;

	switch (v->kind) {
	case RV_NULL:
		return json_null();
	case RV_BOOL:
		return json_boolean(v->u.boolean);
	case RV_NUMBER:
		return number_to_json(v);
	case RV_STRING:
		return json_stringn_nocheck(v->u.str.data, v->u.str.len);
	case RV_ARRAY:
		out = json_array();
		for (size_t i = 0; out && i < v->u.arr.len; i++) {
			if (json_array_append_new(out, rv_to_json(v->u.arr.items[i])) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case RV_SET:
		out = json_array();
		for (size_t i = 0; out && i < rv_len(v); i++) {
			struct rv *member;

			rv_map_sorted_at(v, i, &member, NULL);
			if (json_array_append_new(out, rv_to_json(member)) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	default:
		out = json_object();
		/* Sorted order, so that when two keys write the same text the
		 * later one wins as in OPA's conversion. */
		for (size_t i = 0; out && i < rv_len(v); i++) {
			struct rv *key, *value;
			json_t *jv;
			int rc;

			rv_map_sorted_at(v, i, &key, &value);
			jv = rv_to_json(value);
			if (!jv) {
				json_decref(out);
				return NULL;
			}
			if (key->kind == RV_STRING) {
				rc = json_object_setn_new_nocheck(out, key->u.str.data, key->u.str.len,
								  jv);
			} else {
				size_t len;
				char *text = key_text(key, &len);

				if (!text) {
					json_decref(jv);
					json_decref(out);
					return NULL;
				}
				rc = json_object_setn_new_nocheck(out, text, len, jv);
				free(text);
			}
			if (rc < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
}
