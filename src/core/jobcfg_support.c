/* SPDX-License-Identifier: MIT */
/*
 * Which elements of a job Steward does not run: the document walked
 * against core/support.c's table, into cfg->unsupported, and read back
 * by jobcfg_next_unsupported().
 *
 * cfg->unsupported holds one line per element, in document order and
 * without repeats: a verdict letter ('f' fails, 's' skipped), the slot, a
 * space (which no element name has), the name. A list longer than UNSUPPORTED_MAX ends with a line for
 * the rest, named "(N more)", that fails when any of them would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg_int.h"
#include "core/support.h"

#define UNSUPPORTED_MAX 64
/* Names longer than this are cut (with "..."), so a line always fits a struct unsupported. */
#define NAME_MAX_BYTES (sizeof(((struct unsupported *) 0)->name) - 1)

/* The containers of plugin classes, as children of <project>. */
static const char *const class_slots[] = { "properties", "triggers", "buildWrappers", "builders",
                                           "publishers" };

struct walk {
    struct buf out;
    size_t n, more;
    bool more_fail;
};

static void walk_release(struct walk *w)
{
    buf_release(&w->out);
}

static bool listed(const struct walk *w, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = buf_str(&w->out); *p;) {
        const char *nl = strchr(p, '\n');

        if ((size_t) (nl - p) == n && memcmp(p, line, n) == 0)
            return true;
        p = nl + 1;
    }
    return false;
}

static int note_element(struct walk *w, const char *slot, const char *name, enum support v)
{
    char line[1 + 16 + 1 + NAME_MAX_BYTES + 1];
    size_t len = strlen(name);

    if (v != SUPPORT_SKIPPED && v != SUPPORT_FAILS)
        return 0;
    if (len > NAME_MAX_BYTES) {
        /* cut between characters, so that the name stays UTF-8 */
        size_t cut = NAME_MAX_BYTES - 3;

        while (cut > 0 && ((unsigned char) name[cut] & 0xC0) == 0x80)
            cut--;
        snprintf(line, sizeof line, "%c%s %.*s...", v == SUPPORT_FAILS ? 'f' : 's', slot,
                 (int) cut, name);
    }
    else
        snprintf(line, sizeof line, "%c%s %s", v == SUPPORT_FAILS ? 'f' : 's', slot, name);
    if (listed(w, line))
        return 0;
    if (w->n == UNSUPPORTED_MAX) {
        w->more++;
        w->more_fail |= v == SUPPORT_FAILS;
        return 0;
    }
    w->n++;
    return buf_printf(&w->out, "%s\n", line) < 0 ? -ENOMEM : 0;
}

/* The trimmed text of a leaf element; NULL (and 0) when it holds elements. */
static int leaf_value(const xmlNode *n, char **ret)
{
    int r;

    *ret = NULL;
    if (cfg_first_element(n))
        return 0;
    r = cfg_node_text(n, ret, NULL);
    if (r == -EINVAL)
        return 0;   /* not plain text: no value to compare */
    if (r < 0)
        return r;
    memmove(*ret, cfg_trimmed(*ret), strlen(cfg_trimmed(*ret)) + 1);
    return 0;
}

static int classify(struct walk *w, const char *slot, const xmlNode *n)
{
    const struct support_entry *e = support_find(slot, (const char *) n->name);
    _cleanup_free_ char *value = NULL;
    const char *note;
    enum support v;

    int r = e && e->harmless_values ? leaf_value(n, &value) : 0;

    if (r < 0)
        return r;
    v = support_classify(slot, (const char *) n->name, value, &note);
    return note_element(w, slot, (const char *) n->name, v);
}

static int walk_scm(struct walk *w, const xmlNode *scm)
{
    _cleanup_(xml_free_strp) xmlChar *cls = xmlGetProp(scm, BAD_CAST "class");
    const xmlNode *ext;
    const char *note;
    int r;

    if (!cls)
        /* <scm/> with nothing in it is no source control; anything else is a form we do not know */
        return cfg_first_element(scm) ? note_element(w, "scm", "(no class)", SUPPORT_FAILS) : 0;
    r = note_element(w, "scm", (const char *) cls,
                     support_classify("scm", (const char *) cls, NULL, &note));
    if (r < 0 || !xmlStrEqual(cls, BAD_CAST "hudson.plugins.git.GitSCM"))
        return r;
    ext = cfg_first_child(scm, "extensions");
    for (const xmlNode *c = ext ? ext->children : NULL; c && r >= 0; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            r = classify(w, "scm/extensions", c);
    return r;
}

int cfg_read_support(struct job_config *cfg, const xmlNode *root)
{
    _cleanup_(walk_release) struct walk w = { .out = BUF_INIT(UNSUPPORTED_MAX * 256) };
    int r = 0;

    for (const xmlNode *c = root->children; c && r >= 0; c = c->next) {
        const char *name = (const char *) c->name;
        bool container = false;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (streq(name, "scm")) {
            r = walk_scm(&w, c);
            continue;
        }
        for (size_t i = 0; i < ELEMENTSOF(class_slots); i++)
            container |= streq(name, class_slots[i]);
        if (!container) {
            r = classify(&w, "project", c);
            continue;
        }
        for (const xmlNode *k = c->children; k && r >= 0; k = k->next)
            if (k->type == XML_ELEMENT_NODE)
                r = classify(&w, name, k);
    }
    if (r >= 0 && cfg->other_discarder)
        r = note_element(&w, "properties", "jenkins.model.BuildDiscarderProperty/strategy",
                         SUPPORT_SKIPPED);
    if (r >= 0 && w.more)
        r = buf_printf(&w.out, "%cproject (%zu more)\n", w.more_fail ? 'f' : 's', w.more) < 0
                ? -ENOMEM : 0;
    if (r < 0)
        return r;
    if (w.n == 0)
        return 0;
    cfg->unsupported = buf_detach(&w.out);
    return cfg->unsupported ? 0 : -ENOMEM;
}

bool
jobcfg_next_unsupported(const struct job_config *cfg, size_t *pos, struct unsupported *ret)
{
    const char *line, *nl, *slash;
    const struct support_slot *slot;
    const struct support_entry *e;
    size_t slot_len, name_len;

    if (!cfg->unsupported)
        return false;
    for (;;) {
        line = cfg->unsupported + *pos;
        if (!*line)
            return false;
        nl = strchrnul(line, '\n');
        *pos += (size_t) (nl - line) + (*nl == '\n');
        slash = memchr(line, ' ', (size_t) (nl - line));
        /* a damaged line is passed over; lines are ours, so this does not happen */
        if (!slash || (line[0] != 'f' && line[0] != 's'))
            continue;
        slot_len = (size_t) (slash - line - 1);
        name_len = (size_t) (nl - slash - 1);
        if (slot_len >= sizeof ret->slot || name_len >= sizeof ret->name)
            continue;
        break;
    }
    ret->verdict = line[0] == 'f' ? SUPPORT_FAILS : SUPPORT_SKIPPED;
    memcpy(ret->slot, line + 1, slot_len);
    ret->slot[slot_len] = '\0';
    memcpy(ret->name, slash + 1, name_len);
    ret->name[name_len] = '\0';
    if (streq(ret->slot, "project"))
        snprintf(ret->element, sizeof ret->element, "%s", ret->name);
    else
        snprintf(ret->element, sizeof ret->element, "%s/%s", ret->slot, ret->name);
    e = support_find(ret->slot, ret->name);
    slot = support_slot_of(ret->slot);
    if (e)
        ret->note = e->note;
    else if (ret->name[0] == '(' && streq(ret->slot, "project"))
        ret->note = "More elements that Steward does not run: config.xml has them all.";
    else
        ret->note = slot ? slot->unknown_note : "";
    return true;
}

bool
jobcfg_fails_unsupported(const struct job_config *cfg)
{
    struct unsupported u;
    size_t pos = 0;

    while (jobcfg_next_unsupported(cfg, &pos, &u))
        if (u.verdict == SUPPORT_FAILS)
            return true;
    return false;
}
