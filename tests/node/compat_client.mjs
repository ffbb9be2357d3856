// The seed's client snippet, unchanged: listen for events without subscribing.
// Usage: node compat_client.mjs URL COUNT [TOKEN]
// Prints "connected", then one JSON line per stream:tweet:new event, and exits after COUNT.
import { io } from 'socket.io-client';

const [url, count, token] = process.argv.slice(2);
const want = Number(count);
const socket = io(url, token ? { auth: { token } } : {});
let seen = 0;

socket.on('connect', () => console.log('connected'));
socket.on('connect_error', (err) => {
  console.log(JSON.stringify({ connect_error: err.message }));
  process.exit(2);
});
socket.on('stream:tweet:new', (data) => {
  console.log(JSON.stringify(data));
  seen += 1;
  if (seen >= want) {
    socket.close();
    process.exit(0);
  }
});
setTimeout(() => process.exit(3), 20000);
