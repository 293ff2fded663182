// A non-Python client through recorder's HTTPS proxy: CONNECT, then TLS trusting the CA
// from NODE_EXTRA_CA_CERTS. Node's fetch ignores HTTPS_PROXY, so this uses http/https.
// usage: node node_client.mjs http://127.0.0.1:PORT host /path
import http from "node:http";
import https from "node:https";

const [proxyUrl, host, path] = process.argv.slice(2);
const proxy = new URL(proxyUrl);
const connect = http.request({ host: proxy.hostname, port: proxy.port, method: "CONNECT",
                               path: `${host}:443` });
connect.on("connect", (res, socket) => {
  if (res.statusCode !== 200) { console.error(`CONNECT ${res.statusCode}`); process.exit(1); }
  https.get({ host, path, socket, servername: host, agent: false }, (response) => {
    let body = "";
    response.on("data", (chunk) => { body += chunk; });
    response.on("end", () => { process.stdout.write(body); process.exit(0); });
  }).on("error", (error) => { console.error(error.message); process.exit(1); });
});
connect.on("error", (error) => { console.error(error.message); process.exit(1); });
connect.end();
