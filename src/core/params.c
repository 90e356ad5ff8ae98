/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/params.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/strutil.h"

void
param_refusal_release(struct param_refusal *r)
{
    free(r->presented);
    free(r->fix);
    *r = (struct param_refusal){};
}

static int
refuse(struct param_refusal *r, const char *title, char *presented, char *fix)
{
    if (!presented || !fix) {
        free(presented);
        free(fix);
        return -ENOMEM;
    }
    *r = (struct param_refusal){ .title = title, .presented = presented, .fix = fix };
    return -EINVAL;
}

static int
check_value(const struct param_def *d, const char *v, struct param_refusal *ret)
{
    _cleanup_(buf_releasep) struct buf list = BUF_INIT(1024);
    size_t len;

    if (!v)
        return 0;
    len = strlen(v);
    if (len > BOUND_PARAM_VALUE_BYTES)
        return refuse(ret, "Parameter value too long",
                      strdup_printf("The value of '%s' is %zu bytes; the limit is %d.", d->name,
                                    len, BOUND_PARAM_VALUE_BYTES),
                      strdup("Send a shorter value (pass large data as a file in the workspace)."));
    if (!utf8_is_valid(v, len))
        return refuse(ret, "Parameter value is not UTF-8",
                      strdup_printf("The value of '%s' is not valid UTF-8.", d->name),
                      strdup("Send UTF-8 text, percent-encoded."));
    if (d->type != PARAM_CHOICE)
        return 0;
    for (size_t k = 0; k < d->n_choices; k++)
        if (streq(d->choices[k], v))
            return 0;
    for (size_t k = 0; k < d->n_choices; k++)
        (void) buf_printf(&list, "%s'%s'", k ? ", " : "", d->choices[k]);
    return refuse(ret, "Illegal choice",
                  strdup_printf("'%.200s' is not a choice of parameter '%s'.", v, d->name),
                  strdup_printf("Use one of: %s.", buf_str(&list)));
}

int
params_resolve(const struct job_config *cfg,
               const char *(*given)(void *userdata, const struct param_def *def),
               void *userdata, struct param_value *out, struct param_refusal *ret_refusal)
{
    int r = 0;

    *ret_refusal = (struct param_refusal){};
    memset(out, 0, cfg->n_params * sizeof *out);
    for (size_t i = 0; i < cfg->n_params && r >= 0; i++) {
        const struct param_def *d = &cfg->params[i];
        const char *v = given ? given(userdata, d) : NULL;

        r = check_value(d, v, ret_refusal);
        if (r < 0)
            break;
        out[i] = (struct param_value){ .name = d->name, .type = d->type };
        r = param_value_for(d, v, &out[i].value);
    }
    if (r < 0)
        params_free(out, cfg->n_params);
    return r;
}

int
params_defaults(const struct job_config *cfg, struct param_value *out)
{
    struct param_refusal unused;
    int r;

    /* no value is given, so none is refused: only memory can fail */
    r = params_resolve(cfg, NULL, NULL, out, &unused);
    param_refusal_release(&unused);
    return r < 0 ? -ENOMEM : 0;
}

void
params_free(struct param_value *values, size_t n)
{
    for (size_t i = 0; values && i < n; i++)
        values[i] = (struct param_value){ .value = mfree(values[i].value) };
}
