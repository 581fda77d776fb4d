/*
 * Parameters: definitions, validation of parameter messages (all keys valid or nothing
 * changes), canonical JSON texts of values, and the persisted "params" record.
 *
 * Values are kept as canonical JSON text: integers re-printed, numbers as the sender
 * wrote them (the core cannot print doubles: no printf on the MCU), booleans as
 * true/false, strings re-escaped. Replies, the record, the apply file and the status
 * message are then plain concatenations.
 */
#include <string.h>

#include "agent_int.h"

#define P_NUM_TEXT_MAX 40u /* longest number text accepted for a NUMBER parameter */

static void p_why(char *why, size_t cap, const char *a, const char *b, const char *c, const char *d)
{
    struct mk_sb sb;
    mk_sb_init(&sb, why, cap);
    const char *parts[4] = {a, b, c, d};
    for (int i = 0; i < 4 && parts[i]; i++)
        mk_sb_puts(&sb, parts[i]);
}

static bool p_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MK_AGENT_PNAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Parses a JSON number text (a bound from the configuration) as int64 or double. */
static bool p_parse_bound(const char *text, enum mk_agent_ptype type, int64_t *i, double *d)
{
    struct mk_json_tok t[2];
    struct mk_json doc;
    size_t len = strlen(text);
    if (mk_json_parse(&doc, text, len, t, 2) != MK_OK || t[0].type != MK_JSON_NUMBER)
        return false;
    if (type == MK_AGENT_PT_INT)
        return mk_json_int(&doc, 0, i) == MK_OK;
    return mk_json_num(&doc, 0, d) == MK_OK;
}

static const char *p_type_name(enum mk_agent_ptype t)
{
    switch (t) {
    case MK_AGENT_PT_INT:
        return "an integer";
    case MK_AGENT_PT_NUMBER:
        return "a number";
    case MK_AGENT_PT_BOOL:
        return "true or false";
    case MK_AGENT_PT_STRING:
        return "a string";
    }
    return "?";
}

static const char *p_json_type_name(enum mk_json_type t)
{
    switch (t) {
    case MK_JSON_OBJECT:
        return "an object";
    case MK_JSON_ARRAY:
        return "an array";
    case MK_JSON_STRING:
        return "a string";
    case MK_JSON_NUMBER:
        return "a number";
    case MK_JSON_TRUE:
    case MK_JSON_FALSE:
        return "a boolean";
    case MK_JSON_NULL:
        return "null";
    }
    return "?";
}

static size_t p_max_len(const struct mk_agent_param_def *d)
{
    return d->max_len && d->max_len <= MK_AGENT_PSTR_MAX ? d->max_len : MK_AGENT_PSTR_MAX;
}

enum mk_err mk_agent_param_check(const struct mk_agent *a, size_t i, const struct mk_json *doc,
                                 int tok, struct mk_agent_pval *out, char *why, size_t why_cap)
{
    const struct mk_agent_param_def *d = &a->cfg.params[i];
    const struct mk_json_tok *t = &doc->toks[tok];
    const char *text = doc->text + t->start;
    char num[P_NUM_TEXT_MAX + 1];
    struct mk_sb sb;
    mk_sb_init(&sb, out->text, sizeof out->text);
    bool type_ok;
    switch (d->type) {
    case MK_AGENT_PT_INT: {
        int64_t v;
        type_ok = t->type == MK_JSON_NUMBER && mk_json_int(doc, tok, &v) == MK_OK;
        if (!type_ok)
            break;
        size_t n = t->len < P_NUM_TEXT_MAX ? t->len : P_NUM_TEXT_MAX;
        memcpy(num, text, n);
        num[n] = '\0';
        if (d->min && v < a->pmin_i[i]) {
            p_why(why, why_cap, d->name, ": ", num, " is below the minimum ");
            mk_strlcpy(why + strlen(why), d->min, why_cap - strlen(why));
            return MK_E_INVAL;
        }
        if (d->max && v > a->pmax_i[i]) {
            p_why(why, why_cap, d->name, ": ", num, " is above the maximum ");
            mk_strlcpy(why + strlen(why), d->max, why_cap - strlen(why));
            return MK_E_INVAL;
        }
        mk_sb_puti(&sb, v);
        break;
    }
    case MK_AGENT_PT_NUMBER: {
        double v;
        type_ok = t->type == MK_JSON_NUMBER && mk_json_num(doc, tok, &v) == MK_OK;
        if (!type_ok)
            break;
        if (t->len > P_NUM_TEXT_MAX) {
            p_why(why, why_cap, d->name, ": the number is written with too many digits", NULL,
                  NULL);
            return MK_E_INVAL;
        }
        memcpy(num, text, t->len);
        num[t->len] = '\0';
        if (d->min && v < a->pmin_d[i]) {
            p_why(why, why_cap, d->name, ": ", num, " is below the minimum ");
            mk_strlcpy(why + strlen(why), d->min, why_cap - strlen(why));
            return MK_E_INVAL;
        }
        if (d->max && v > a->pmax_d[i]) {
            p_why(why, why_cap, d->name, ": ", num, " is above the maximum ");
            mk_strlcpy(why + strlen(why), d->max, why_cap - strlen(why));
            return MK_E_INVAL;
        }
        mk_sb_puts(&sb, num);
        break;
    }
    case MK_AGENT_PT_BOOL:
        type_ok = t->type == MK_JSON_TRUE || t->type == MK_JSON_FALSE;
        if (type_ok)
            mk_sb_puts(&sb, t->type == MK_JSON_TRUE ? "true" : "false");
        break;
    case MK_AGENT_PT_STRING: {
        type_ok = t->type == MK_JSON_STRING;
        if (!type_ok)
            break;
        char s[MK_AGENT_PSTR_MAX + 1];
        size_t max = p_max_len(d);
        if (mk_json_str(doc, tok, s, max + 1) != MK_OK) {
            char lim[24];
            struct mk_sb lb;
            mk_sb_init(&lb, lim, sizeof lim);
            mk_sb_putu(&lb, max);
            p_why(why, why_cap, d->name, ": the string is longer than ", lim, " bytes");
            return MK_E_INVAL;
        }
        for (const char *p = s; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                p_why(why, why_cap, d->name, ": control characters are not allowed", NULL, NULL);
                return MK_E_INVAL;
            }
        }
        mk_agent_put_jstr(&sb, s);
        break;
    }
    default:
        type_ok = false;
        break;
    }
    if (!type_ok) {
        p_why(why, why_cap, d->name, ": expected ", p_type_name(d->type), ", got ");
        const char *got = p_json_type_name(t->type);
        if (d->type == MK_AGENT_PT_INT && t->type == MK_JSON_NUMBER)
            got = "a number that is not an integer";
        mk_strlcpy(why + strlen(why), got, why_cap - strlen(why));
        return MK_E_INVAL;
    }
    if (mk_sb_err(&sb) != MK_OK) {
        p_why(why, why_cap, d->name, ": value too long", NULL, NULL);
        return MK_E_INVAL;
    }
    out->set = true;
    return MK_OK;
}

/* Validates a JSON text (a default from the configuration) for parameter i. */
static enum mk_err p_check_text(struct mk_agent *a, size_t i, const char *text,
                                struct mk_agent_pval *out, char *why, size_t why_cap)
{
    struct mk_json doc;
    struct mk_json_tok t[2];
    if (mk_json_parse(&doc, text, strlen(text), t, 2) != MK_OK) {
        p_why(why, why_cap, a->cfg.params[i].name, ": \"", text, "\" is not a JSON value");
        return MK_E_INVAL;
    }
    return mk_agent_param_check(a, i, &doc, 0, out, why, why_cap);
}

enum mk_err mk_agent_params_init(struct mk_agent *a, char *why, size_t why_cap)
{
    if (a->cfg.n_params > MK_AGENT_MAX_PARAMS) {
        p_why(why, why_cap, "too many parameters (at most 16)", NULL, NULL, NULL);
        return MK_E_CONFIG;
    }
    for (size_t i = 0; i < a->cfg.n_params; i++) {
        const struct mk_agent_param_def *d = &a->cfg.params[i];
        if (!d->name || !p_name_ok(d->name) || strcmp(d->name, "id") == 0) {
            p_why(why, why_cap, "parameter name \"", d->name ? d->name : "",
                  "\" must be 1..31 letters, digits, '_', '-', '.' and not \"id\"", NULL);
            return MK_E_CONFIG;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(a->cfg.params[j].name, d->name) == 0) {
                p_why(why, why_cap, "parameter \"", d->name, "\" is defined twice", NULL);
                return MK_E_CONFIG;
            }
        }
        if (d->type < MK_AGENT_PT_INT || d->type > MK_AGENT_PT_STRING) {
            p_why(why, why_cap, d->name, ": unknown type", NULL, NULL);
            return MK_E_CONFIG;
        }
        bool numeric = d->type == MK_AGENT_PT_INT || d->type == MK_AGENT_PT_NUMBER;
        if (!numeric && (d->min || d->max)) {
            p_why(why, why_cap, d->name, ": min and max apply to int and number parameters", NULL,
                  NULL);
            return MK_E_CONFIG;
        }
        if ((d->min && !p_parse_bound(d->min, d->type, &a->pmin_i[i], &a->pmin_d[i])) ||
            (d->max && !p_parse_bound(d->max, d->type, &a->pmax_i[i], &a->pmax_d[i]))) {
            p_why(why, why_cap, d->name, ": min and max must be ", p_type_name(d->type), NULL);
            return MK_E_CONFIG;
        }
        if (d->min && d->max &&
            (d->type == MK_AGENT_PT_INT ? a->pmin_i[i] > a->pmax_i[i]
                                        : a->pmin_d[i] > a->pmax_d[i])) {
            p_why(why, why_cap, d->name, ": min is above max", NULL, NULL);
            return MK_E_CONFIG;
        }
        if (strcmp(d->name, MK_AGENT_PARAM_INTERVAL) == 0 &&
            (d->type != MK_AGENT_PT_INT || !d->min || a->pmin_i[i] < 1)) {
            p_why(why, why_cap, MK_AGENT_PARAM_INTERVAL,
                  " must be an int parameter with a min of at least 1", NULL, NULL);
            return MK_E_CONFIG;
        }
        a->pv[i].set = false;
        if (d->def) {
            char w[MK_AGENT_TEXT_CAP];
            if (p_check_text(a, i, d->def, &a->pv[i], w, sizeof w) != MK_OK) {
                p_why(why, why_cap, "default of ", w, NULL, NULL);
                return MK_E_CONFIG;
            }
        }
    }
    return MK_OK;
}

int mk_agent_param_index(const struct mk_agent *a, const char *name)
{
    for (size_t i = 0; i < a->cfg.n_params; i++)
        if (strcmp(a->cfg.params[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Index of the parameter named by key token k, or -1. */
static int p_find_tok(const struct mk_agent *a, const struct mk_json *doc, int k)
{
    for (size_t i = 0; i < a->cfg.n_params; i++)
        if (mk_json_streq(doc, k, a->cfg.params[i].name))
            return (int)i;
    return -1;
}

/* The key of token k, printable, for a message ("unknown parameter \"x\""). */
static void p_key_text(const struct mk_json *doc, int k, char *out, size_t cap)
{
    if (mk_json_str(doc, k, out, cap) != MK_OK) {
        mk_strlcpy(out, "(a long key)", cap);
        return;
    }
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"')
            *p = '?';
}

enum mk_err mk_agent_params_validate(struct mk_agent *a, size_t len, struct mk_json *doc,
                                     int *id_tok, uint32_t *changed, uint32_t *mentioned, char *why,
                                     size_t why_cap)
{
    *id_tok = -1;
    *changed = 0;
    *mentioned = 0;
    enum mk_err e = mk_json_parse(doc, a->msg, len, a->toks, MK_AGENT_JSON_TOKS);
    if (e != MK_OK) {
        p_why(why, why_cap,
              e == MK_E_NOSPC ? "the message has too many JSON values"
                              : "the message is not valid JSON",
              NULL, NULL, NULL);
        return MK_E_FORMAT;
    }
    if (a->toks[0].type != MK_JSON_OBJECT) {
        p_why(why, why_cap, "the message must be a JSON object", NULL, NULL, NULL);
        return MK_E_FORMAT;
    }
    memcpy(a->cand, a->pv, sizeof a->cand);
    uint32_t n = a->toks[0].count;
    int k = 1;
    for (uint32_t m = 0; m < n; m++) {
        int v = k + 1;
        char key[MK_AGENT_PNAME_MAX + 8];
        if (mk_json_streq(doc, k, "id")) {
            const struct mk_json_tok *t = &a->toks[v];
            if (*id_tok >= 0 || (t->type != MK_JSON_STRING && t->type != MK_JSON_NUMBER) ||
                t->len >= MK_AGENT_ID_CAP) {
                p_why(why, why_cap,
                      "\"id\" must appear once, as a string or number of up "
                      "to 64 characters",
                      NULL, NULL, NULL);
                *id_tok = -1;
                return MK_E_INVAL;
            }
            *id_tok = v;
        } else {
            int i = p_find_tok(a, doc, k);
            if (i < 0) {
                p_key_text(doc, k, key, sizeof key);
                p_why(why, why_cap, "unknown parameter \"", key, "\"", NULL);
                return MK_E_INVAL;
            }
            uint32_t bit = 1u << i;
            if (*mentioned & bit) {
                p_why(why, why_cap, "parameter \"", a->cfg.params[i].name, "\" appears twice",
                      NULL);
                return MK_E_INVAL;
            }
            *mentioned |= bit;
            if (mk_agent_param_check(a, (size_t)i, doc, v, &a->cand[i], why, why_cap) != MK_OK)
                return MK_E_INVAL;
            if (!a->pv[i].set || strcmp(a->pv[i].text, a->cand[i].text) != 0)
                *changed |= bit;
        }
        k = (int)a->toks[v].next;
    }
    if (!*mentioned) {
        p_why(why, why_cap, "no parameter in the message", NULL, NULL, NULL);
        return MK_E_INVAL;
    }
    return MK_OK;
}

enum mk_err mk_agent_params_json(const struct mk_agent *a, const struct mk_agent_pval *pv,
                                 uint32_t mask, char *buf, size_t cap, size_t *len)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    mk_sb_putc(&sb, '{');
    bool first = true;
    for (size_t i = 0; i < a->cfg.n_params; i++) {
        if (!pv[i].set || !(mask & (1u << i)))
            continue;
        mk_agent_put_key(&sb, a->cfg.params[i].name, first);
        mk_sb_puts(&sb, pv[i].text);
        first = false;
    }
    mk_sb_putc(&sb, '}');
    if (len)
        *len = sb.len;
    return mk_sb_err(&sb);
}

enum mk_err mk_agent_param_text(const struct mk_agent *a, const struct mk_agent_pval *values,
                                size_t i, char *out, size_t cap)
{
    if (!values)
        values = a->pv;
    if (i >= a->cfg.n_params || !values[i].set)
        return MK_E_NOENT;
    const char *t = values[i].text;
    if (a->cfg.params[i].type != MK_AGENT_PT_STRING)
        return mk_strlcpy(out, t, cap);
    struct mk_json doc;
    struct mk_json_tok tok[2];
    enum mk_err e = mk_json_parse(&doc, t, strlen(t), tok, 2);
    if (e != MK_OK)
        return e;
    return mk_json_str(&doc, 0, out, cap);
}

enum mk_err mk_agent_params_save(struct mk_agent *a)
{
    const struct mk_agent_storage *st = a->cfg.storage;
    size_t len;
    enum mk_err e = mk_agent_params_json(a, a->pv, UINT32_MAX, a->rec, sizeof a->rec, &len);
    if (e != MK_OK)
        return e;
    return st->save(st->ctx, "params", a->rec, len);
}

void mk_agent_params_load(struct mk_agent *a)
{
    const struct mk_agent_storage *st = a->cfg.storage;
    size_t len = 0;
    if (!st->load || a->cfg.n_params == 0)
        return;
    enum mk_err e = st->load(st->ctx, "params", a->rec, sizeof a->rec, &len);
    if (e == MK_E_NOENT)
        return;
    struct mk_json doc;
    if (e != MK_OK || mk_json_parse(&doc, a->rec, len, a->toks, MK_AGENT_JSON_TOKS) != MK_OK ||
        a->toks[0].type != MK_JSON_OBJECT) {
        mk_agent_log(a, MK_AGENT_LOG_WARN, "the stored parameters cannot be read (",
                     e != MK_OK ? mk_strerror(e) : "not a JSON object", "); using the defaults");
        return;
    }
    int k = 1;
    for (uint32_t m = 0; m < a->toks[0].count; m++) {
        int v = k + 1;
        int i = p_find_tok(a, &doc, k);
        char why[MK_AGENT_TEXT_CAP];
        struct mk_agent_pval val;
        if (i < 0) {
            char key[MK_AGENT_PNAME_MAX + 8];
            p_key_text(&doc, k, key, sizeof key);
            mk_agent_log(a, MK_AGENT_LOG_WARN, "stored parameter \"", key,
                         "\" is no longer defined; ignored");
        } else if (mk_agent_param_check(a, (size_t)i, &doc, v, &val, why, sizeof why) != MK_OK) {
            mk_agent_log(a, MK_AGENT_LOG_WARN, "stored value ignored: ", why, NULL);
        } else {
            a->pv[i] = val;
        }
        k = (int)a->toks[v].next;
    }
}

enum mk_err mk_agent_params_check(struct mk_agent *scratch, const struct mk_agent_param_def *defs,
                                  size_t n, char *why, size_t why_cap)
{
    memset(&scratch->cfg, 0, sizeof scratch->cfg);
    scratch->cfg.params = defs;
    scratch->cfg.n_params = n;
    why[0] = '\0';
    return mk_agent_params_init(scratch, why, why_cap);
}
