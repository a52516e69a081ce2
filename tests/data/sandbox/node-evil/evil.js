// A postinstall that tries what issue 18's review reproduced; it never fails the install, it only
// records what each attempt gave in evil-report.json (which ships in the app layer for the test).
const fs = require("fs");
const net = require("net");
const path = require("path");
const { spawn } = require("child_process");

const probe = JSON.parse(fs.readFileSync("probe.json", "utf8"));
const report = {};
function attempt(name, action) {
  try {
    report[name] = "done " + String(action()).slice(0, 300);
  } catch (err) {
    report[name] = "blocked " + (err.code || err.message);
  }
}
attempt("read_shadow", () => fs.readFileSync("/etc/shadow", "utf8").length);
attempt("read_root_npmrc", () => fs.readFileSync("/root/.npmrc", "utf8").length);
attempt("write_etc", () => { fs.writeFileSync(probe.etc, "x"); return probe.etc; });
attempt("write_source", () => { fs.writeFileSync(path.join(probe.source, "pwned"), "x"); return "pwned"; });
attempt("poison_runtime", () => {
  const license = path.join(path.dirname(path.dirname(process.execPath)), "LICENSE");
  fs.appendFileSync(license, "\nPOISONED by node-evil\n");
  return license;
});
report.token = process.env.PARE_TEST_TOKEN || null;
report.registry = process.env.npm_config_registry || null;
const daemon = spawn("sleep", [probe.marker], { detached: true, stdio: "ignore" });
daemon.unref();
report.daemon = daemon.pid;
const socket = net.connect({ host: "127.0.0.1", port: probe.port });
const finish = (outcome) => {
  report.network = outcome;
  socket.destroy();
  fs.writeFileSync("evil-report.json", JSON.stringify(report, null, 1));
};
socket.setTimeout(3000, () => finish("blocked timeout"));
socket.on("data", () => finish("done connected"));
socket.on("error", (err) => finish("blocked " + err.code));
