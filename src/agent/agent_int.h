/* Internal API shared by the agent's files (src/agent). */
#ifndef MK_AGENT_INT_H
#define MK_AGENT_INT_H

#include "modemkit/agent.h"
#include "modemkit/str.h"

/* ---- JSON writing over a string builder ---- */

/* Appends s as a JSON string literal (quotes, escapes for '"', '\\' and control bytes). */
void mk_agent_put_jstr(struct mk_sb *sb, const char *s);
/* Appends n bytes of s as a JSON string literal. */
void mk_agent_put_jstrn(struct mk_sb *sb, const char *s, size_t n);
/* Appends ,"key": (first: without the comma). */
void mk_agent_put_key(struct mk_sb *sb, const char *key, bool first);

/* ---- logging ---- */
void mk_agent_log(struct mk_agent *a, enum mk_agent_log_level level, const char *a1, const char *a2,
                  const char *a3);

/* ---- parameters (agent_params.c) ---- */

/* Checks the definitions, parses bounds and sets defaults into a->pv. MK_E_CONFIG with
 * why filled on a bad definition. */
enum mk_err mk_agent_params_init(struct mk_agent *a, char *why, size_t why_cap);

/*
 * Validates one value token (index tok of doc) for parameter i and writes its canonical
 * JSON text into out. MK_OK, or MK_E_INVAL with why ("motor_speed: 5000 is above the
 * maximum 3000").
 */
enum mk_err mk_agent_param_check(const struct mk_agent *a, size_t i, const struct mk_json *doc,
                                 int tok, struct mk_agent_pval *out, char *why, size_t why_cap);

/*
 * Validates a parameter message held in a->msg[0..len) into a->cand (a copy of a->pv with
 * the changes). Sets *changed (bit per parameter whose value differs), *mentioned (bit per
 * parameter in the message) and id_tok (token of "id" or -1, into a->toks). MK_OK or
 * MK_E_INVAL/MK_E_FORMAT with why.
 */
enum mk_err mk_agent_params_validate(struct mk_agent *a, size_t len, struct mk_json *doc,
                                     int *id_tok, uint32_t *changed, uint32_t *mentioned, char *why,
                                     size_t why_cap);

/* Loads the "params" record over the current values (unknown or invalid entries are
 * logged and skipped). */
void mk_agent_params_load(struct mk_agent *a);

/* Saves a->pv as the "params" record. */
enum mk_err mk_agent_params_save(struct mk_agent *a);

/* ---- jobs (agent_job.c) ---- */

enum mk_err mk_agent_job_save(struct mk_agent *a);
void mk_agent_job_load(struct mk_agent *a);
/* Handles a job message in a->msg[0..len). */
void mk_agent_job_message(struct mk_agent *a, size_t len, bool too_large);
/* Runs (or resumes) the recorded job when it is due. True when it did something. */
bool mk_agent_job_poll(struct mk_agent *a, uint64_t now);
/* Builds a job-result message for the current job into buf. */
enum mk_err mk_agent_job_json(struct mk_agent *a, const struct mk_agent_job *j, const char *phase,
                              int progress, char *buf, size_t cap, size_t *len);
/* Publishes the final result of a DONE job; true when the broker has it. */
bool mk_agent_job_report(struct mk_agent *a);
const char *mk_agent_job_phase_name(enum mk_agent_job_phase p);

/* ---- agent.c ---- */

uint64_t mk_agent_now(const struct mk_agent *a);
uint64_t mk_agent_wall(const struct mk_agent *a);
bool mk_agent_link_up(const struct mk_agent *a);
/* Publishes now (the link's publish), recording a failure as the last error. */
enum mk_err mk_agent_publish(struct mk_agent *a, const char *topic, const char *payload, size_t len,
                             bool retain);
/* Queues a message for the outbox: kind 'R' param replies, 'J' job results. */
void mk_agent_outbox_put(struct mk_agent *a, char kind, const char *payload, size_t len);
/* Recomputes the sampling interval from the parameters. */
void mk_agent_update_interval(struct mk_agent *a);

#endif
