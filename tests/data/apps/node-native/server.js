// Every native package of issue 16's list, required at start-up and exercised by GET /check: an
// image that lacks a library its addons link fails to start, or answers with the package that broke.
const http = require("http");
const sharp = require("sharp");
const bcrypt = require("bcrypt");
const Database = require("better-sqlite3");
const esbuild = require("esbuild");
const swc = require("@swc/core");

// Each check on its own: one package that breaks is named, the others still answer.
async function checks() {
  const found = {};
  for (const [name, check] of Object.entries(CHECKS)) {
    try {
      found[name] = await check();
    } catch (err) {
      found[name] = { error: String(err && err.message).slice(0, 300) };
    }
  }
  return found;
}

const CHECKS = {
  sharp: async () => {
    const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: "#c00" } })
      .resize(16, 8).png().toBuffer();
    const meta = await sharp(png).metadata();
    return [meta.width, meta.height, meta.format];
  },
  bcrypt: async () => {
    const hash = bcrypt.hashSync("pare", 4);
    return bcrypt.compareSync("pare", hash) && !bcrypt.compareSync("nope", hash);
  },
  "better-sqlite3": async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (n INTEGER)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    [1, 2, 3].forEach((n) => insert.run(n));
    const sum = db.prepare("SELECT SUM(n) AS s FROM t").get().s;
    db.close();
    return sum;
  },
  esbuild: async () => esbuild.transformSync("let x: number = 1 + 1; export default x", { loader: "ts" })
    .code.includes("1 + 1"),
  "@swc/core": async () => swc.transformSync("const f = (a: number) => a * 2;", {
    jsc: { parser: { syntax: "typescript" }, target: "es5" },
  }).code.includes("function"),
};

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
