// A reconnecting npm socket.io-client for herald's chaos suite.
// Usage: node storm_client.mjs URL TRANSPORTS MODE SINCE
//   TRANSPORTS: websocket | default | polling
//   MODE: compat (the seed's client: never subscribes) | subscribe (subscribe {since} on connect)
// stdin commands, one per line: "drop" closes the transport as a network cut would (the client
// reconnects by itself), "end" prints a summary and exits.
// stdout, one JSON line each: {"ready":true} once listening, {"o":offset,"e":eventId} per
// stream:tweet:new, {"c":n,"r":recovered} per connect, {"u":transport} per upgrade,
// {"done":true,...} at the end.
import { io } from 'socket.io-client';
import { createInterface } from 'node:readline';

const [url, transports, mode, since0] = process.argv.slice(2);
const options = { reconnectionDelay: 50, reconnectionDelayMax: 500, randomizationFactor: 0 };
if (transports === 'websocket') options.transports = ['websocket'];
if (transports === 'polling') options.transports = ['polling'];
const socket = io(url, options);
let last = since0 || null;
let connects = 0;
let recovered = 0;
let ready = false;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

socket.on('stream:tweet:new', (data) => {
  last = data.offset;
  out({ o: data.offset, e: data.eventId });
});

socket.io.on('open', () => {
  socket.io.engine.on('upgrade', (transport) => out({ u: transport.name }));
});

socket.on('connect', () => {
  connects += 1;
  if (socket.recovered) recovered += 1;
  out({ c: connects, r: socket.recovered });
  if (mode === 'subscribe' && !socket.recovered) {
    socket.emit('subscribe', last ? { since: last } : {}, () => {
      if (!ready) { ready = true; out({ ready: true }); }
    });
  } else if (!ready) {
    ready = true;
    out({ ready: true });
  }
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'drop') {
    if (socket.io.engine) socket.io.engine.close();
  } else if (line === 'end') {
    out({ done: true, reconnects: Math.max(0, connects - 1), recovered });
    socket.close();
    process.exit(0);
  }
});
