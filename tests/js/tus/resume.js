// A resumed upload with tus-js-client (the official JavaScript client) under node, for
// tests/tus/test_tus_js_client.py. The first upload is aborted once past half the file; the
// second finds it through tus-js-client's own fingerprint store (FileUrlStorage) and resumes.
// Usage: node resume.js <endpoint> <api key> <file> <session id> <url store file>
// Prints one JSON line: {"url", "resumedFrom", "bytes"}.
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, apiKey, path, sessionId, storePath] = process.argv.slice(2);
const size = fs.statSync(path).size;
const urlStorage = new tus.FileUrlStorage(storePath);

function options(extra) {
  return {
    endpoint,
    headers: { "X-API-Key": apiKey },
    chunkSize: 512 * 1024,
    metadata: { session_id: sessionId, filename: "from-node.bin", filetype: "application/octet-stream" },
    urlStorage,
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: false,
    retryDelays: [100, 500, 1000, 2000, 5000],
    ...extra,
  };
}

function firstHalf() {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(fs.createReadStream(path), options({
      onError: reject,
      onProgress(sent) {
        if (sent >= size / 2 && !upload._aborting) {
          upload._aborting = true;
          upload.abort().then(() => resolve(upload.url), reject);
        }
      },
      onSuccess: () => reject(new Error("the first upload should have been aborted")),
    }));
    upload.start();
  });
}

function resume() {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(fs.createReadStream(path), options({
      onError: reject,
      onSuccess: () => resolve(upload),
    }));
    upload.findPreviousUploads().then((previous) => {
      if (previous.length === 0) return reject(new Error("no previous upload in the store"));
      upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    }, reject);
  });
}

(async () => {
  const firstUrl = await firstHalf();
  const head = await fetch(firstUrl, {
    method: "HEAD",
    headers: { "Tus-Resumable": "1.0.0", "X-API-Key": apiKey },
  });
  const resumedFrom = Number(head.headers.get("upload-offset"));
  const done = await resume();
  console.log(JSON.stringify({ firstUrl, url: done.url, resumedFrom, bytes: size }));
})().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
