/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Steward's objects in Jenkins' JSON shapes (field names and _class values
 * as Jenkins exports them). Each returns a new reference, or NULL on
 * allocation failure.
 */

#include <jansson.h>

#include "http/app.h"

struct tree;

struct model {
    const struct app *app;
    struct req *req;
    char *root;          /* root URL with a trailing '/' */
    bool brief_queue;    /* queue items without their parameters (tree= does not ask for them) */
    /* model_prepare_colors(): every job's last result and running build, read at once */
    struct job_stats_row *stats, *running;
    size_t n_stats, n_running;
    bool colors_ready;
    /* model_jobs_as_text(): the job list is written by model_write_jobs(), not built */
    bool jobs_as_text, jobs_unasked;
    unsigned jobs_fields;
    size_t jobs_from, jobs_to;
    /* model_all_builds_as_text(): allBuilds is written by model_write_all_builds(), not built */
    bool all_builds_as_text;
    const struct job *all_builds_job;
    struct tree *all_builds_tree;
    size_t all_from, all_to;
    /* tree= of the request, parsed once for model_wants() (tree_parsed: tried) */
    struct tree *tree;
    bool tree_parsed;
    /* the nodes, read once per request for the queue's why (label_why()) */
    struct node *nodes;
    size_t n_nodes;
    bool nodes_read;
};

int model_init(struct model *m, const struct app *app, struct req *req);
void model_release(struct model *m);

/*
 * Reads every job's state in two queries, for a list: job_color() then
 * asks no more of the database. Without it, job_color() reads one job's.
 */
void model_prepare_colors(struct model *m);
const char *job_color(struct model *m, const struct job *job);
json_t *model_job_summary(struct model *m, const struct job *job);
/*
 * A job as /job/NAME/api/json shows it. `whole_answer`: it is the answer
 * itself, so what its tree= does not keep is neither read nor built (its
 * key stays, with an empty value, for the filter to drop).
 */
json_t *model_job(struct model *m, const struct job *job, int depth, bool whole_answer);
json_t *model_build_ref(struct model *m, const char *job, int64_t number);
json_t *model_build(struct model *m, const struct job *job, const struct build_row *b, int depth);
/*
 * A build's test results as Jenkins' hudson.tasks.junit.TestResult; NULL
 * when the build recorded none. Stack traces and output take at most
 * MODEL_TEST_TEXT_BUDGET bytes in all; past it they are null.
 */
/* well under HTTP_MAX_ANSWER_BYTES, so that the cases themselves fit beside it */
#define MODEL_TEST_TEXT_BUDGET ((size_t) 24 * 1024 * 1024)
json_t *model_test_report(struct model *m, const struct job *job, int64_t number);
/*
 * The same report as compact JSON text, written to `out` as the cases are
 * read (one read transaction, one case in memory at a time), kept as the
 * parsed tree= `t` says (NULL: everything): byte for byte what
 * model_test_report() gives once filtered and dumped compact. The long
 * texts keep to MODEL_TEST_TEXT_BUDGET as there; -ENOENT when the build
 * recorded no results, -E2BIG past out's bound.
 */
int model_write_test_report(struct model *m, const struct job *job, int64_t number,
                            const struct tree *t, struct buf *out);
json_t *model_queue_item(struct model *m, const struct queue_row *q);
json_t *model_root(struct model *m, int depth);

/*
 * The job list of the root and of the view. 10,000 jobs are 1.3 MB of JSON
 * that jansson would build object by object, so when the answer is compact
 * api/json and tree= asks of each job at most its summary,
 * model_jobs_as_text() says so and the model's list stays []: the caller
 * gives model_write_jobs() to api_send_json_with(), which writes the list
 * as text in its place. Call it before building the model. When tree= does
 * not ask for the list, it is not read at all.
 */
bool model_jobs_as_text(struct model *m, const char *format, int depth);
int model_write_jobs(void *model, struct buf *out);
json_t *model_job_list(struct model *m, int depth);

/*
 * A job's allBuilds (every build, as tree= asks: Jenkins shows it only
 * then), which scripts read to scan a whole history. When the answer is
 * compact api/json, model_all_builds_as_text() says so before the model
 * is built, the model's allBuilds stays [], and the caller gives
 * model_write_all_builds() to api_send_json_with(): it reads the builds
 * one at a time in one read transaction, the range {m,n} in the query,
 * and writes each as text (straight from its row when only the row's
 * fields are asked for).
 */
bool model_all_builds_as_text(struct model *m, const struct job *job, const char *format);
int model_write_all_builds(void *model, struct buf *out);
json_t *model_computer(struct model *m, int depth);
json_t *model_computer_set(struct model *m, int depth);
/* A node (core/nodes.h) as /computer/NAME/api/json shows it: hudson.slaves.SlaveComputer. */
struct node;
json_t *model_node(struct model *m, const struct node *n, int depth);
/* Is the node offline, as Jenkins' "offline" says: taken offline, or not connected. */
bool model_node_offline(const struct node *n);
/* The queue's "params" string: "\nNAME=value..." with password values as ****. */
char *model_params_string(const struct queue_row *q);
