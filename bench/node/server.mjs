// The Node socket.io 4 peer: broadcasts the same small JSON event herald sends.
// GET /burst?n=N emits the event N times to every connected client;
// GET /clients answers the connected count. Usage: node server.mjs PORT EVENT_JSON_FILE
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 3100);
const event = JSON.parse(readFileSync(process.argv[3], "utf8"));
const type = event.type;

const http = createServer();
const io = new Server(http, { transports: ["websocket", "polling"], cors: { origin: "*" } });

http.on("request", (req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/burst") {
    const n = Number(url.searchParams.get("n") || 1);
    res.end("ok");
    setImmediate(() => {
      for (let i = 0; i < n; i++) io.emit(type, event);
    });
  } else if (url.pathname === "/clients") {
    res.end(String(io.engine.clientsCount));
  } else if (!url.pathname.startsWith("/socket.io")) {
    res.statusCode = 404;
    res.end();
  }
});

http.listen(port, "127.0.0.1", () => console.log(`ready ${port}`));
process.on("SIGTERM", () => process.exit(0));
