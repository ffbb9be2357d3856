// The npm socket.io-client sending an X write command and waiting for its ack.
// Usage: node command_client.mjs URL TOKEN COMMAND_JSON
// Prints one JSON line {ack: ...} (or {connect_error}) and exits.
import { io } from 'socket.io-client';

const [url, token, command] = process.argv.slice(2);
const socket = io(url, { auth: { token }, transports: ['websocket'] });

socket.on('connect', async () => {
  const ack = await socket.timeout(20000).emitWithAck('command', JSON.parse(command));
  console.log(JSON.stringify({ ack }));
  socket.close();
  process.exit(0);
});
socket.on('connect_error', (err) => {
  console.log(JSON.stringify({ connect_error: err.message }));
  process.exit(2);
});
setTimeout(() => process.exit(3), 25000);
