// A full ZITADEL login with ZITADEL's own npm client (@zitadel/client +
// @zitadel/proto) against idpmock, over each transport a ZITADEL user gets:
//
//   connect-json    createConnectTransport({useBinaryFormat: false})
//   connect-binary  createConnectTransport() (connect-es's default codec)
//   grpc            createServerTransport from @zitadel/client/node (gRPC, HTTP/2)
//   grpc-web        createClientTransport from @zitadel/client/web (gRPC-Web, fetch)
//
//   IDPMOCK_URL=http://127.0.0.1:4010 node login.mjs [transport...]
//
// Exits 0 when every step behaved like ZITADEL on every transport, 1 otherwise.
import assert from "node:assert/strict";

import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NewAuthorizationBearerInterceptor } from "@zitadel/client";
import { createServerTransport } from "@zitadel/client/node";
import { createSessionServiceClient } from "@zitadel/client/v2";
import { createClientTransport } from "@zitadel/client/web";
import { CredentialsCheckErrorSchema } from "@zitadel/proto/zitadel/message_pb.js";

const baseUrl = process.env.IDPMOCK_URL ?? "http://127.0.0.1:4010";
const token = process.env.IDPMOCK_ZITADEL_TOKEN ?? "idpmock-npm-client-test";

const transports = {
  "connect-json": () =>
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: false,
      interceptors: [NewAuthorizationBearerInterceptor(token)],
    }),
  "connect-binary": () =>
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors: [NewAuthorizationBearerInterceptor(token)],
    }),
  // ZITADEL's documented transport for servers: gRPC over HTTP/2 (h2c for http://).
  grpc: () => createServerTransport(token, { baseUrl, httpVersion: "2" }),
  // ZITADEL's documented transport for browsers: gRPC-Web over fetch.
  "grpc-web": () => createClientTransport(token, { baseUrl }),
};

let current = "";
let wrongPasswords = 0;

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok   [${current}] ${name}`);
  } catch (err) {
    console.error(`FAIL [${current}] ${name}`);
    console.error(err);
    process.exitCode = 1;
    throw err;
  }
}

async function expectConnectError(promise, code) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${err}`);
    assert.equal(err.code, code, `code ${Code[err.code]}, want ${Code[code]}: ${err.rawMessage}`);
    return err;
  }
  assert.fail(`expected ${Code[code]}, the call succeeded`);
}

async function login(sessions) {
  let sessionId, sessionToken;

  await step("CreateSession with a user check (loginName) and a lifetime", async () => {
    const res = await sessions.createSession({
      checks: { user: { search: { case: "loginName", value: "mini@mouse.com" } } },
      lifetime: { seconds: 3600n, nanos: 0 },
    });
    assert.match(res.sessionId, /^[0-9]+$/);
    assert.ok(res.sessionToken.length > 20, "session token");
    assert.ok(res.details?.sequence > 0n, "details.sequence");
    ({ sessionId, sessionToken } = res);
  });

  await step("SetSession with a password check mints a new token", async () => {
    const res = await sessions.setSession({
      sessionId,
      checks: { password: { password: "Password1!" } },
    });
    assert.ok(res.sessionToken && res.sessionToken !== sessionToken, "new token");
    sessionToken = res.sessionToken;
  });

  await step("GetSession shows the user and password factors", async () => {
    const { session } = await sessions.getSession({ sessionId, sessionToken });
    assert.equal(session?.id, sessionId);
    assert.equal(session?.factors?.user?.loginName, "mini@mouse.com");
    assert.equal(session?.factors?.user?.displayName, "Mini Mouse");
    assert.ok(session?.factors?.password?.verifiedAt, "password.verifiedAt");
    assert.ok(session?.expirationDate, "expirationDate");
  });

  await step("ListSessions by id", async () => {
    const res = await sessions.listSessions({
      queries: [{ query: { case: "idsQuery", value: { ids: [sessionId] } } }],
    });
    assert.equal(res.details?.totalResult, 1n);
    assert.deepEqual(res.sessions.map((s) => s.id), [sessionId]);
  });

  await step("A wrong password is invalid_argument with a CredentialsCheckError detail", async () => {
    const other = await sessions.createSession({
      checks: { user: { search: { case: "loginName", value: "mickey@mouse.com" } } },
    });
    const err = await expectConnectError(
      sessions.setSession({ sessionId: other.sessionId, checks: { password: { password: "wrong" } } }),
      Code.InvalidArgument,
    );
    assert.match(err.rawMessage, /COMMAND-3M0fs/);
    const details = err.findDetails(CredentialsCheckErrorSchema);
    assert.equal(details.length, 1, "one CredentialsCheckError detail");
    assert.equal(details[0].id, "COMMAND-3M0fs");
    assert.equal(details[0].message, "Password is invalid");
    // One state behind every transport: mickey's counter goes on.
    wrongPasswords++;
    assert.equal(details[0].failedAttempts, wrongPasswords);
  });

  await step("DeleteSession with the current token", async () => {
    const res = await sessions.deleteSession({ sessionId, sessionToken });
    assert.ok(res.details, "details");
  });

  await step("GetSession after delete is not_found", async () => {
    const err = await expectConnectError(sessions.getSession({ sessionId }), Code.NotFound);
    assert.match(err.rawMessage, /QUERY-SFeaa/);
  });
}

async function main() {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(transports);
  for (const name of names) {
    if (!transports[name]) throw new Error(`unknown transport ${name}`);
    current = name;
    await login(createSessionServiceClient(transports[name]()));
  }
  return names;
}

main().then(
  (names) => console.log(`zitadel npm client: full login passed against ${baseUrl} over ${names.join(", ")}`),
  () => {
    process.exitCode = 1;
  },
);
