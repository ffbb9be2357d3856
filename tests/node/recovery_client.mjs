// The seed's client code (io(url) and a listener), with a way to drop its connection.
// Usage: node recovery_client.mjs URL TRANSPORTS MODE
//   TRANSPORTS: websocket | polling | default; MODE: auto (the client reconnects by itself),
//   manual (it reconnects on the "connect" command) or resume (auto, and it also follows
//   the documented resume pattern: subscribe with since = its last offset on every connect).
// Commands on stdin, one a line: "drop" (close the transport under the socket), "connect".
// Prints one JSON line per connect ({connect, recovered}), per disconnect and per event.
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const [url, transports, mode] = process.argv.slice(2);
const opts = {};
if (transports !== 'default') opts.transports = [transports];
if (mode === 'manual') opts.reconnection = false;
const socket = io(url, opts);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

let last;
socket.on('connect', () => {
  say({ connect: true, recovered: socket.recovered });
  if (mode === 'resume') {
    socket.emit('subscribe', last ? { since: last } : {}, (ack) => say({ ack }));
  }
});
socket.on('disconnect', (reason) => say({ disconnect: reason }));
socket.on('connect_error', (err) => say({ connect_error: err.message }));
socket.on('stream:tweet:new', (data) => {
  last = data.offset;
  say({ event: data.offset });
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'drop') socket.io.engine.close();
  else if (line.startsWith('subscribe ')) {
    socket.emit('subscribe', JSON.parse(line.slice(10)), (ack) => say({ ack }));
  }
  else if (line === 'connect') socket.connect();
  else if (line === 'quit') {
    socket.close();
    process.exit(0);
  }
});
setTimeout(() => process.exit(3), 50000);
