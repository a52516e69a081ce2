// Every native package of issue 16's list, required at start-up and exercised by GET /check: an
// image that lacks a library its addons link fails to start, or answers with the package that broke.
const http = require("http");
const sharp = require("sharp");
const bcrypt = require("bcrypt");
const Database = require("better-sqlite3");
const esbuild = require("esbuild");
const swc = require("@swc/core");

async function checks() {
  const found = {};
  const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: "#c00" } })
    .resize(16, 8).png().toBuffer();
  const meta = await sharp(png).metadata();
  found.sharp = [meta.width, meta.height, meta.format];
  const hash = bcrypt.hashSync("pare", 4);
  found.bcrypt = bcrypt.compareSync("pare", hash) && !bcrypt.compareSync("nope", hash);
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (n INTEGER)");
  const insert = db.prepare("INSERT INTO t VALUES (?)");
  [1, 2, 3].forEach((n) => insert.run(n));
  found["better-sqlite3"] = db.prepare("SELECT SUM(n) AS s FROM t").get().s;
  db.close();
  const built = esbuild.transformSync("let x: number = 1 + 1; export default x", { loader: "ts" });
  found.esbuild = built.code.includes("1 + 1");
  const out = swc.transformSync("const f = (a: number) => a * 2;", {
    jsc: { parser: { syntax: "typescript" }, target: "es5" },
  });
  found["@swc/core"] = out.code.includes("function");
  return found;
}

const port = Number(process.env.PORT || 8080);
http.createServer((req, res) => {
  if (req.url === "/check") {
    checks().then(
      (found) => { res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify(found)); },
      (err) => { res.writeHead(500); res.end(String(err && err.stack)); },
    );
    return;
  }
  res.end("hello from node-native\n");
}).listen(port, () => console.log(`listening on ${port}`));
