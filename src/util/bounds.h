/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Every size a client controls, in one place. A request that goes past one
 * of these gets a 4xx answer that names the limit, and changes nothing.
 */

/* HTTP */
#define BOUND_HEADER_BYTES        (16 * 1024)   /* request line + all headers */
#define BOUND_URL_BYTES           (8 * 1024)
#define BOUND_BODY_BYTES          (1024 * 1024) /* any request body */
#define BOUND_FORM_FIELDS         256           /* query + form fields together */
/* multipart/form-data uploads (file parameters) */
#define BOUND_UPLOAD_DEFAULT_MIB  100           /* serve --max-upload: all files of one request */
#define BOUND_UPLOAD_MAX_MIB      (64 * 1024)   /* the most --max-upload takes */
#define BOUND_UPLOAD_FILES        16            /* file parts in one request */
#define BOUND_UPLOAD_PARTS        BOUND_FORM_FIELDS /* parts of one request, files and fields */
#define BOUND_UPLOAD_NAME_BYTES   255           /* a file part's file name */
#define BOUND_UPLOAD_IN_FLIGHT    2             /* all requests' uploads at once: times --max-upload */
#define BOUND_UPLOAD_FREE_MIB     64            /* free space an upload must leave where it is written */
#define BOUND_PARAM_VALUE_BYTES   (64 * 1024)   /* one build parameter value */
#define BOUND_PARAM_NAME_BYTES    128
#define BOUND_PARAMS              100           /* parameters of one build */

/* Names and secrets */
#define BOUND_JOB_NAME_BYTES      200
#define BOUND_USER_NAME_BYTES     64
#define BOUND_PASSWORD_BYTES      1024
#define BOUND_TOKEN_NAME_BYTES    100
#define BOUND_TOKEN_JOBS_BYTES    512           /* the job list of a limited API token */
#define BOUND_TRIGGER_TOKEN_BYTES 256
#define BOUND_BEARER_TOKEN_BYTES  256           /* Authorization: Bearer (the /prometheus/ scrape token) */
#define BOUND_CAUSE_NOTE_BYTES    1024
#define BOUND_QUIET_REASON_BYTES  1024          /* quietDown's reason */
#define BOUND_BUILD_DESCRIPTION_BYTES  16384        /* a build's description (16 KiB) */
#define BOUND_BUILD_DISPLAY_NAME_BYTES 256          /* a build's display name */

/* Credentials (core/credentials.h) */
#define BOUND_CREDENTIAL_ID_BYTES          128
#define BOUND_CREDENTIAL_DESCRIPTION_BYTES 1024
#define BOUND_CREDENTIAL_USERNAME_BYTES    256
#define BOUND_CREDENTIAL_SECRET_BYTES      (64 * 1024)   /* a password, secret text, private key or passphrase */
#define BOUND_CREDENTIAL_FILE_BYTES        (512 * 1024)  /* a secret file (base64 in a request: 683 KiB) */
#define BOUND_CREDENTIAL_FILE_NAME_BYTES   255
#define BOUND_CREDENTIALS                  10000         /* credentials in the store */

/* Nodes and label expressions (core/nodes.h, core/label.h) */
#define BOUND_NODES                    1000          /* nodes of one server */
#define BOUND_NODE_NAME_BYTES          128
#define BOUND_NODE_DESCRIPTION_BYTES   4096
#define BOUND_NODE_EXECUTORS           64            /* numExecutors of one node */
#define BOUND_NODE_LABELS              64            /* labels of one node (its name not counted) */
#define BOUND_NODE_LABEL_BYTES         128           /* one label */
#define BOUND_NODE_FIELD_BYTES         1024          /* remoteFS, host, a Java option string */
#define BOUND_NODE_HOST_KEY_BYTES      16384         /* a host key, base64 */
#define BOUND_NODE_OFFLINE_BYTES       1024          /* a temporary-offline message */
#define BOUND_NODE_CONFIG_BYTES        (256 * 1024)  /* a node's config.xml */
#define BOUND_LABEL_EXPR_BYTES         4096          /* a label expression */
#define BOUND_LABEL_EXPR_DEPTH         32            /* parentheses and operators nested */

/* Jobs */
#define BOUND_CONFIG_XML_BYTES    (1024 * 1024)
#define BOUND_JOB_PARAMS          100
#define BOUND_JOB_BUILDERS        100
#define BOUND_JOB_GRANTS          1000          /* <permission> entries of a job's matrix */
#define BOUND_GLOBAL_GRANTS       10000         /* entries of the global matrix */
#define BOUND_CHOICES             1000
#define BOUND_XML_DEPTH           64
#define BOUND_GIT_REMOTES         16            /* userRemoteConfigs of a Git job */
#define BOUND_GIT_BRANCHES        16            /* branch specs of a Git job */
#define BOUND_GIT_CHANGES         1000          /* commits one build's change set lists */
#define BOUND_GIT_CHANGELOG_BYTES (4 * 1024 * 1024) /* what the checkout reports of them */
#define BOUND_GIT_KNOWN_HOSTS_BYTES (1024 * 1024)  /* HOME/known_hosts, the host keys Git over ssh trusts */
#define BOUND_CHAIN_DEPTH         32            /* jobs in one chain of upstream builds */
#define BOUND_CHAIN_FILE_BYTES    (1024 * 1024) /* a properties file the parameterized trigger reads */
#define BOUND_BINDINGS            32            /* credential bindings of one job */

/* Build nodes over ssh (core/ssh.c) */
#define BOUND_SSH_HOST_BYTES      253            /* a node's host name (DNS's limit) */
#define BOUND_SSH_USER_BYTES      256
#define BOUND_SSH_HOST_KEY_BYTES  16384          /* one configured host key line */
#define BOUND_SSH_PATH_BYTES      4096           /* the remote root */
#define BOUND_SSH_RUN_ID_BYTES    64
#define BOUND_SSH_SCRIPT_BYTES    BOUND_CONFIG_XML_BYTES  /* one step's script */
#define BOUND_SSH_ENV_ENTRIES     4096           /* variables of one step */
#define BOUND_SSH_ENV_BYTES       (1024 * 1024)  /* all of them, names and values */
#define BOUND_SSH_ENV_NAME_BYTES  256
#define BOUND_SSH_PROBE_BYTES     (64 * 1024)    /* what the master's probe prints */
/* a node's workspace fetched back for the publishers (artifacts, test reports), as tar */
#define BOUND_NODE_FETCH_BYTES    (1024LL * 1024 * 1024)

/* Test reports (core/junit.c): what one build's reports may cost the server, all reports together */
#define BOUND_JUNIT_READ_BYTES    (64LL << 20)  /* report file bytes read */
#define BOUND_JUNIT_KEPT_BYTES    (64LL << 20)  /* text of the cases kept until they are stored */

/* Queue and API */
#define BOUND_QUEUE_ITEMS         10000          /* default queue limit: past it a trigger gets 503 */
#define BOUND_QUEUE_ITEMS_MAX     1000000        /* the most --queue-limit takes */
#define BOUND_QUEUE_BYTES         (256LL << 20)  /* default: what the waiting items may hold (parameters, causes) */
#define BOUND_BUILD_ENV           64             /* the most --build-env options */
#define BOUND_DELAY_SECONDS       (7 * 24 * 3600)
#define BOUND_TREE_BYTES          4096
#define BOUND_DEPTH               5
#define BOUND_WS_LIST_ENTRIES     10000         /* entries one workspace listing shows */
#define BOUND_LOG_PAGE_BYTES      (1024 * 1024)  /* one progressiveText answer */
#define BOUND_METRICS_JOBS        20000          /* jobs one /prometheus/ answer reports */
