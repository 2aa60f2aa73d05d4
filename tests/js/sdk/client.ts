// A small program that uses Depot only through the TypeScript types it ships
// (clients/typescript/depot.d.ts, openapi-typescript's output for clients/openapi.yaml, made by
// `make sdk`) and openapi-fetch. tests/test_generated_clients.py type-checks this with
// `tsc --strict` and runs it under node against a real server:
// node build/out/client.js <base URL> <API key> <org> <workspace>.
import createClient from "openapi-fetch";
import type { paths } from "../../../clients/typescript/depot.js";

const [baseUrl, apiKey, org, ws] = process.argv.slice(2);
if (!baseUrl || !apiKey || !org || !ws) throw new Error("usage: client.js BASE KEY ORG WS");
const depot = createClient<paths>({ baseUrl, headers: { "X-API-Key": apiKey } });
const ns = { org, ws, ns: "default" };

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

// Sessions: create (only the fields the caller cares about; none is demanded), get, list.
const created = await depot.POST("/api/sessions", { body: { session_id: "ts-run" } });
check(created.response.status === 201 && created.data?.session_id === "ts-run", "create session");
const listed = await depot.GET("/api/sessions", { params: { query: { limit: 10 } } });
check(listed.data?.sessions.some((s) => s.session_id === "ts-run") === true, "list sessions");

// Upload a file (multipart, as a browser sends it) and find it in the session's uploads.
const upload = await depot.POST("/api/uploads/{session_id}", {
  params: { path: { session_id: "ts-run" } },
  body: { file: "", path: "notes/ts.md" },
  bodySerializer() {
    const form = new FormData();
    form.append("file", new Blob(["# from typescript\n"], { type: "text/markdown" }), "ts.md");
    form.append("path", "notes/ts.md");
    return form;
  },
});
check(upload.response.status === 201, `upload: ${upload.response.status}`);
const uploads = await depot.GET("/api/uploads/{session_id}", {
  params: { path: { session_id: "ts-run" } },
});
check(uploads.data?.attachments.length === 1, "list uploads");

// An artifact, a second version, its versions.
const artifact = await depot.POST("/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts", {
  params: { path: ns },
  body: { name: "plan", content: "first", session_id: "ts-run", tags: ["t1", "t2"] },
});
const artifactId = artifact.data?.artifact_id;
check(artifact.response.status === 201 && artifactId !== undefined, "create artifact");
const path = { ...ns, artifact_id: artifactId ?? "" };
const updated = await depot.PUT(
  "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/{artifact_id}",
  { params: { path }, body: { content: "second" } },
);
check(updated.response.status === 200 && updated.data?.version === 2, "new version");
const versions = await depot.GET(
  "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/{artifact_id}/versions",
  { params: { path } },
);
check(versions.data?.versions.length === 2, "list versions");

// A signed download URL, followed without the key: the latest version's bytes.
const link = await depot.GET(
  "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/{artifact_id}/download",
  { params: { path } },
);
const url = link.data?.download_url;
check(link.response.status === 200 && url !== undefined, "download URL");
const signed = await fetch(new URL(url ?? "", baseUrl));
check(signed.status === 200 && (await signed.text()) === "second", "signed download");

// The events of the session, from the start (answers at once: there are some).
const events = await depot.GET("/api/sessions/{session_id}/artifact-events", {
  params: { path: { session_id: "ts-run" }, query: { after: 0, wait_seconds: 1 } },
});
const kinds = events.data?.events.map((e) => e.kind) ?? [];
check(kinds.length >= 2, `events: ${JSON.stringify(kinds)}`);

// A refusal is typed too: an unknown session is a 404 with a detail.
const missing = await depot.GET("/api/sessions/{session_id}", {
  params: { path: { session_id: "no-such-session" } },
});
check(missing.response.status === 404 && typeof missing.error?.detail === "string", "404 body");

const done = await depot.POST("/api/sessions/{session_id}/complete", {
  params: { path: { session_id: "ts-run" } },
  body: {},
});
check(done.data?.status === "completed", "complete");
const deleted = await depot.DELETE("/api/sessions/{session_id}", {
  params: { path: { session_id: "ts-run" } },
});
check(deleted.response.status === 204, "delete");
console.log(JSON.stringify({ ok: true, artifactId, events: kinds.length }));
