require("http").createServer((req, res) => res.end("evil\n")).listen(process.env.PORT || 8080);
