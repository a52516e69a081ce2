// node-express: answers GET / on $PORT (default 8080).
"use strict";
const express = require("express");

const app = express();
const port = Number(process.env.PORT || 8080);

app.get("/", (req, res) => {
  res.send("hello from node-express\n");
});

const server = app.listen(port, () => {
  console.log(`node-express listening on :${port}`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
