// Drives a Jenkins-compatible server with the npm `jenkins-api` client, used as its README shows.
//
//   node drive.js URL USER APITOKEN TRIGGER_TOKEN
//
// Prints one JSON summary on stdout: { "steps": { name: result }, "errors": { name: message } }.
// A step that fails lands in "errors" and the scenario goes on. STEWARD_SLOW stretches waits.
"use strict";

const jenkinsapi = require("jenkins-api");

const url = new URL(process.argv[2]);
const user = process.argv[3];
const token = process.argv[4];
const triggerToken = process.argv[5];
const slow = Number(process.env.STEWARD_SLOW || "1");

// the README's setup: "API Token" and "no auth"
const jenkins = jenkinsapi.init(
  `${url.protocol}//${encodeURIComponent(user)}:${encodeURIComponent(token)}@${url.host}`);
const anonymous = jenkinsapi.init(`${url.protocol}//${url.host}`);

const summary = { steps: {}, errors: {} };

setTimeout(() => {
  summary.timedOut = true;
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  process.exit(3);
}, 120000 * slow).unref();

function call(fn, ...args) {
  return new Promise((resolve, reject) => {
    fn(...args, (err, data) => {
      if (err) {
        const e = new Error(String(err));
        e.statusCode = data && data.statusCode;
        reject(e);
      } else resolve(data);
    });
  });
}

async function step(name, f) {
  try {
    summary.steps[name] = await f();
  } catch (e) {
    summary.errors[name] = { message: e.message, statusCode: e.statusCode };
  }
}

async function finished(job, number) {
  const deadline = Date.now() + 60000 * slow;
  for (;;) {
    const b = await call(jenkins.build_info, job, number);
    if (!b.building) return b;
    if (Date.now() > deadline) throw new Error(`${job} #${number} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function queued(client, queueId) {
  const deadline = Date.now() + 60000 * slow;
  for (;;) {
    const item = await call(jenkins.queue_item, queueId);
    if (item.executable) return item.executable.number;
    if (Date.now() > deadline) throw new Error(`queue item ${queueId} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

(async () => {
  // "build": POST /job/X/build/api/json?token=..., with credentials and without
  await step("build", async () => {
    const data = await call(jenkins.build, "npm-api", { token: triggerToken });
    const number = await queued(jenkins, data.queueId);
    const b = await finished("npm-api", number);
    return { statusCode: data.statusCode, number, result: b.result };
  });
  await step("anonymousBuild", async () => {
    const data = await call(anonymous.build, "npm-api", { token: triggerToken });
    const number = await queued(jenkins, data.queueId);
    const b = await finished("npm-api", number);
    return { statusCode: data.statusCode, number, result: b.result };
  });
  await step("buildWithParams", async () => {
    const data = await call(jenkins.build_with_params, "npm-api",
      { token: triggerToken, BRANCH: "feature/npm" });
    const number = await queued(jenkins, data.queueId);
    const b = await finished("npm-api", number);
    const p = b.actions.find((a) => a.parameters).parameters;
    return { statusCode: data.statusCode, number, params: p };
  });
  // "all_builds": tree=allBuilds[id,timestamp,result,duration] by default, or the fields given
  await step("allBuilds", async () => call(jenkins.all_builds, "npm-api"));
  await step("allBuildsFields", async () =>
    call(jenkins.all_builds, "npm-api", "number,result,actions[parameters[name,value]]"));
  // "delete_build": POST /job/X/N/doDelete
  await step("deleteBuild", async () => {
    const data = await call(jenkins.delete_build, "npm-api", 1);
    return { body: data.body };
  });
  await step("afterDelete", async () =>
    (await call(jenkins.all_builds, "npm-api", "number")).map((b) => b.number));
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  process.exit(0);
})().catch((e) => {
  summary.fatal = String(e && e.stack || e);
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  process.exit(2);
});
