// A real SMTP server and a real HTTP receiver for the notification tests.
// Every message and every webhook request is appended to OUT as a JSON
// line. The receiver checks each request's signature with the Standard
// Webhooks reference library; POST /control {"secret", "status"} sets the
// secret and the status it answers with (204 by default).
// Usage: node inbox.mjs SMTP_PORT HTTP_PORT OUT      (prints "ready")
import { appendFileSync } from "node:fs";
import http from "node:http";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";
import { Webhook } from "standardwebhooks";

const [smtpPort, httpPort, out] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const record = (x) => appendFileSync(out, JSON.stringify(x) + "\n");

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((m) => {
        record({ type: "mail", to: m.to?.text, from: m.from?.text, subject: m.subject, text: m.text });
        callback();
      })
      .catch(callback);
  },
});

let secret = null;
let status = 204;
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.url === "/control") {
      const c = JSON.parse(body);
      if (c.secret !== undefined) secret = c.secret;
      if (c.status !== undefined) status = c.status;
      res.writeHead(204).end();
      return;
    }
    let verified = false;
    let error = null;
    try {
      new Webhook(secret).verify(body, {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      });
      verified = true;
    } catch (e) {
      error = String(e);
    }
    record({ type: "hook", path: req.url, id: req.headers["webhook-id"], verified, error, answered: status, body: JSON.parse(body || "null") });
    const headers = status >= 300 && status < 400 ? { location: `http://127.0.0.1:${httpPort}/elsewhere` } : {};
    res.writeHead(status, headers).end();
  });
});

let up = 0;
const ready = () => { if (++up === 2) console.log("ready"); };
smtp.listen(smtpPort, "127.0.0.1", ready);
receiver.listen(httpPort, "127.0.0.1", ready);
