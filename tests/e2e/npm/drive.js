// Drives a Jenkins-compatible server with the npm `jenkins` client, used as its README shows.
//
//   node drive.js URL USER APITOKEN        (or STEWARD_URL, STEWARD_USER, STEWARD_TOKEN)
//
// Runs the scenario of issue 3 and prints one JSON summary on stdout:
//   { "steps": { name: result, ... }, "errors": { name: { message, statusCode }, ... } }
// A step that throws lands in "errors" and the scenario goes on, so the caller sees every
// failure at once. STEWARD_SLOW (a factor) stretches every wait.
"use strict";

const Jenkins = require("jenkins");

const url = new URL(process.argv[2] || process.env.STEWARD_URL);
const user = process.argv[3] || process.env.STEWARD_USER;
const token = process.argv[4] || process.env.STEWARD_TOKEN;
const slow = Number(process.env.STEWARD_SLOW || "1");

const TRIGGER_TOKEN = "npm-trigger-t0ken";
const host = `${url.protocol}//${url.host}`;
const baseUrl = `${url.protocol}//${encodeURIComponent(user)}:${encodeURIComponent(token)}@${url.host}`;

const jenkins = new Jenkins({ baseUrl, crumbIssuer: true });
// the job's trigger token is all this one has: no user, no password
const anonymous = new Jenkins({ baseUrl: host, crumbIssuer: true });

const summary = { steps: {}, errors: {} };

function finish(code) {
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  process.exit(code);
}

setTimeout(() => {
  summary.timedOut = true;
  finish(3);
}, 120000 * slow).unref();

function esc(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function jobXml({ description = "", params = [], authToken, script, quietPeriod }) {
  const defs = params
    .map(([kind, name, dflt]) => {
      if (kind === "choice") {
        const choices = dflt.map((c) => `<string>${esc(c)}</string>`).join("");
        return (
          `<hudson.model.ChoiceParameterDefinition><name>${name}</name><description/>` +
          `<choices class="java.util.Arrays$ArrayList"><a class="string-array">${choices}</a></choices>` +
          `</hudson.model.ChoiceParameterDefinition>`
        );
      }
      return (
        `<hudson.model.StringParameterDefinition><name>${name}</name><description/>` +
        `<defaultValue>${esc(dflt)}</defaultValue><trim>false</trim></hudson.model.StringParameterDefinition>`
      );
    })
    .join("");
  const props = defs
    ? `<hudson.model.ParametersDefinitionProperty><parameterDefinitions>${defs}</parameterDefinitions></hudson.model.ParametersDefinitionProperty>`
    : "";
  return (
    `<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <actions/>\n` +
    `  <description>${esc(description)}</description>\n  <keepDependencies>false</keepDependencies>\n` +
    `  <properties>${props}</properties>\n  <scm class="hudson.scm.NullSCM"/>\n` +
    `  <canRoam>true</canRoam>\n  <disabled>false</disabled>\n` +
    (authToken ? `  <authToken>${esc(authToken)}</authToken>\n` : "") +
    `  <triggers/>\n  <concurrentBuild>false</concurrentBuild>\n` +
    (quietPeriod !== undefined ? `  <quietPeriod>${quietPeriod}</quietPeriod>\n` : "") +
    `  <builders><hudson.tasks.Shell><command>${esc(script)}</command></hudson.tasks.Shell></builders>\n` +
    `  <publishers/>\n  <buildWrappers/>\n</project>\n`
  );
}

const PARAMS_XML = jobXml({
  description: "made by node-jenkins",
  params: [
    ["string", "P", "dflt"],
    ["choice", "MODE", ["debug", "release"]],
  ],
  authToken: TRIGGER_TOKEN,
  script: 'for i in 1 2 3 4 5 6; do echo "tick $i P=[$P] MODE=[$MODE]"; sleep 0.3; done',
});
const SLOW_XML = jobXml({ script: 'echo "slow started"; sleep 60; echo "slow finished"' });
const QUIET_XML = jobXml({ script: "echo quiet", quietPeriod: 60 });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, fn, seconds = 30) {
  const deadline = Date.now() + seconds * 1000 * slow;
  for (let polls = 1; ; polls++) {
    const v = await fn();
    if (v) return { value: v, polls };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function step(name, fn) {
  try {
    summary.steps[name] = await fn();
  } catch (err) {
    summary.errors[name] = {
      message: err.message,
      statusCode: err.res ? err.res.statusCode : null,
      notFound: !!err.notFound,
    };
  }
  return summary.steps[name];
}

// queue.item polling until the item became a build, as the client's users write it
async function waitExecutable(id) {
  const { value, polls } = await until(`queue item ${id}`, async () => {
    const item = await jenkins.queue.item(id);
    if (item.cancelled) throw new Error(`queue item ${id} was cancelled`);
    return item.executable ? item : null;
  });
  return { item: value, polls };
}

async function waitFinished(name, number) {
  const { value } = await until(`${name} #${number}`, async () => {
    const b = await jenkins.build.get(name, number);
    return b.building ? null : b;
  });
  return value;
}

function paramsOf(obj) {
  const out = {};
  for (const a of obj.actions || [])
    for (const p of (a && a.parameters) || []) out[p.name] = p.value;
  return out;
}

function causesOf(obj) {
  const out = [];
  for (const a of obj.actions || [])
    for (const c of (a && a.causes) || []) out.push(c.shortDescription);
  return out;
}

async function main() {
  await step("info", async () => {
    const info = await jenkins.info();
    return {
      _class: info._class,
      mode: info.mode,
      jobs: info.jobs.map((j) => j.name),
      views: (info.views || []).map((v) => v.name),
      useCrumbs: info.useCrumbs,
    };
  });

  await step("create", async () => {
    await jenkins.job.create("npm-params", PARAMS_XML);
    await jenkins.job.create("npm-slow", SLOW_XML);
    await jenkins.job.create("npm-quiet", QUIET_XML);
    await jenkins.job.create("npm-doomed", jobXml({ script: "echo doomed" }));
    return true;
  });

  await step("exists", async () => ({
    "npm-params": await jenkins.job.exists("npm-params"),
    "no-such-job": await jenkins.job.exists("no-such-job"),
  }));

  await step("configGet", async () => {
    const xml = await jenkins.job.config("npm-params");
    return { sameAsCreated: xml === PARAMS_XML, length: xml.length };
  });

  await step("configSet", async () => {
    const changed = PARAMS_XML.replace(
      "<description>made by node-jenkins</description>",
      "<description>set by job.config &amp; kept</description>"
    );
    await jenkins.job.config("npm-params", changed);
    const back = await jenkins.job.config("npm-params");
    return { roundTrip: back === changed };
  });

  await step("jobGet", async () => {
    const job = await jenkins.job.get("npm-params");
    const defs = [];
    for (const p of job.property || [])
      for (const d of p.parameterDefinitions || []) defs.push(d.name);
    return {
      name: job.name,
      description: job.description,
      color: job.color,
      buildable: job.buildable,
      nextBuildNumber: job.nextBuildNumber,
      parameters: defs,
    };
  });

  await step("list", async () => (await jenkins.job.list()).map((j) => j.name).sort());

  let number;
  await step("buildWithParameters", async () => {
    const id = await jenkins.job.build({
      name: "npm-params",
      parameters: { P: "from npm & co", MODE: "release" },
    });
    const { item, polls } = await waitExecutable(id);
    number = item.executable.number;
    return {
      queueId: id,
      typeofQueueId: typeof id,
      polls,
      itemClass: item._class,
      executable: item.executable,
      params: paramsOf(item),
    };
  });

  await step("logStream", async () => {
    const chunks = await new Promise((resolve, reject) => {
      const got = [];
      const log = jenkins.build.logStream("npm-params", number, { delay: 150 });
      log.on("data", (text) => got.push(text));
      log.on("error", reject);
      log.on("end", () => resolve(got));
    });
    return { chunks: chunks.length, nonEmptyChunks: chunks.filter(Boolean).length, text: chunks.join("") };
  });

  await step("buildGet", async () => {
    const b = await waitFinished("npm-params", number);
    return {
      number: b.number,
      result: b.result,
      building: b.building,
      url: b.url,
      queueId: b.queueId,
      params: paramsOf(b),
      causes: causesOf(b),
    };
  });

  await step("buildLog", async () => ({ text: await jenkins.build.log("npm-params", number) }));

  await step("buildWithToken", async () => {
    const id = await anonymous.job.build({
      name: "npm-params",
      token: TRIGGER_TOKEN,
      parameters: { P: "via token" },
    });
    const { item } = await waitExecutable(id);
    const n = item.executable.number;
    const b = await waitFinished("npm-params", n);
    return {
      queueId: id,
      number: n,
      result: b.result,
      causes: causesOf(b),
      log: await jenkins.build.log("npm-params", n),
    };
  });

  await step("tokenClientCannotRead", async () => {
    try {
      await anonymous.job.get("npm-params");
      return { refused: false };
    } catch (err) {
      return { refused: true, statusCode: err.res ? err.res.statusCode : null };
    }
  });

  await step("stop", async () => {
    const id = await jenkins.job.build("npm-slow");
    const { item } = await waitExecutable(id);
    const n = item.executable.number;
    await until("the slow build to start its script", async () => {
      const text = await jenkins.build.log("npm-slow", n);
      return text.includes("slow started");
    });
    const started = Date.now();
    await jenkins.build.stop("npm-slow", n);
    const b = await waitFinished("npm-slow", n);
    return {
      number: n,
      result: b.result,
      stoppedInMs: Date.now() - started,
      log: await jenkins.build.log("npm-slow", n),
    };
  });

  await step("cancel", async () => {
    const id = await jenkins.job.build("npm-quiet");
    const before = await jenkins.queue.item(id);
    const listed = (await jenkins.queue.list()).map((i) => i.id);
    await jenkins.queue.cancel(id);
    const after = await jenkins.queue.item(id);
    const listedAfter = (await jenkins.queue.list()).map((i) => i.id);
    return {
      queueId: id,
      before: { why: before.why, executable: before.executable || null, cancelled: before.cancelled },
      listed: listed.includes(id),
      after: { cancelled: after.cancelled, executable: after.executable || null, _class: after._class },
      listedAfter: listedAfter.includes(id),
    };
  });

  await step("disable", async () => {
    await jenkins.job.disable("npm-params");
    const job = await jenkins.job.get("npm-params");
    let buildWhileDisabled;
    try {
      await jenkins.job.build({ name: "npm-params", parameters: { P: "disabled" } });
      buildWhileDisabled = { refused: false };
    } catch (err) {
      buildWhileDisabled = { refused: true, statusCode: err.res ? err.res.statusCode : null };
    }
    return { disabled: job.disabled, color: job.color, buildable: job.buildable, buildWhileDisabled };
  });

  await step("enable", async () => {
    await jenkins.job.enable("npm-params");
    const job = await jenkins.job.get("npm-params");
    return { disabled: job.disabled, color: job.color, buildable: job.buildable };
  });

  await step("destroy", async () => {
    await jenkins.job.destroy("npm-doomed");
    let again;
    try {
      await jenkins.job.destroy("npm-doomed");
      again = { refused: false };
    } catch (err) {
      again = { refused: true, notFound: !!err.notFound };
    }
    return { exists: await jenkins.job.exists("npm-doomed"), destroyAgain: again };
  });

  finish(0);
}

main().catch((err) => {
  summary.fatal = String(err && err.stack ? err.stack : err);
  finish(1);
});
