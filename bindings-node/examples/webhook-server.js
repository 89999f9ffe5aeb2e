#!/usr/bin/env node
// A small WhatsApp/SMS webhook service on civic-router, with node:http only.
//
// Run it from the repository root (after `npm install` + `npm run build` in bindings-node):
//
//     TWILIO_AUTH_TOKEN=… WHATSAPP_APP_SECRET=… WHATSAPP_VERIFY_TOKEN=… \
//       node bindings-node/examples/webhook-server.js --config examples/sevilla/router.toml \
//         --public-url https://010.example.org
//
// then, from another terminal:
//
//     # a message in civic-router's JSON format -> the decision as JSON
//     curl -s localhost:8010/messages -H 'content-type: application/json' \
//          -d '{"id": "m1", "channel": "whatsapp", "text": "farola apagada en calle Feria"}'
//
// Endpoints:
// - `POST /messages`: one message, or an array routed with `routeBatch`; the decisions as JSON.
// - `POST /twilio`: Twilio's SMS (and WhatsApp-through-Twilio) webhook. The core verifies
//   `X-Twilio-Signature` over the public URL and the form (`--public-url` must be the address
//   Twilio calls) and parses it; the answer is TwiML rendered by the core.
// - `GET /whatsapp`: Meta's subscription handshake; `POST /whatsapp`: the Cloud API webhook,
//   `X-Hub-Signature-256` verified over the raw body. Meta wants a quick 200; the replies to send
//   (the Graph API's send-message JSON) are returned in the response body here so they can be
//   seen — a real service POSTs each to https://graph.facebook.com/v23.0/{phone-number-id}/messages.
// - `GET /health`.
// A refused provider request gets the status the core gives (403 bad signature, 413 body over
// 1 MiB, 400 malformed). `SIGHUP` reloads the configuration (the old one stays if the new one is
// refused). Routing runs off the event loop (`routeAsync`, `routeBatch`). Nothing here reaches a
// log line with personal data: the access log prints method, path and status only.
'use strict'

const http = require('node:http')
const path = require('node:path')
const { parseArgs } = require('node:util')

const { Router, Webhook } = require('..')

/** Largest request body read, in bytes (1 MiB); larger requests get 413. */
const MAX_BODY = 1 << 20

class HttpError extends Error {
  constructor(status, message, code) {
    super(message)
    this.status = status
    this.code = code
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new HttpError(413, `body larger than ${MAX_BODY} bytes`, 'TOO_LARGE'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/**
 * An HTTP server that routes with `router` (a civic-router `Router`; `.router` may be swapped).
 * `twilio` and `whatsapp` are `Webhook`s (or undefined: that endpoint is off); `publicUrl` is the
 * address the providers call.
 */
function createServer(router, { log = (line) => process.stderr.write(line + '\n'), twilio, whatsapp, publicUrl } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost')
    const send = (status, body, type) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` })
      res.end(body)
      // method, path and status only: never bodies (personal data)
      log(`${req.method} ${url.pathname} ${status}`)
    }
    const json = (status, value) => send(status, JSON.stringify(value), 'application/json')
    // the URL as the provider called and signed it: the public address, not ours
    const signedUrl = () => (publicUrl || `http://${req.headers.host}`).replace(/\/$/, '') + req.url
    try {
      if (req.method === 'GET' && url.pathname === '/health') {
        return json(200, { status: 'ok', router: server.router.name, rules: server.router.ruleIds.length })
      }
      if (req.method === 'GET' && url.pathname === '/whatsapp' && whatsapp) {
        return send(200, whatsapp.handshake(signedUrl()), 'text/plain')
      }
      if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', 'METHOD')
      const body = await readBody(req)
      if (url.pathname === '/messages') {
        let data
        try {
          data = JSON.parse(body.toString('utf8'))
        } catch (e) {
          throw new HttpError(400, `not JSON: ${e.message}`, 'INPUT')
        }
        return json(200, Array.isArray(data) ? await server.router.routeBatch(data) : await server.router.routeAsync(data))
      }
      if (url.pathname === '/twilio' && twilio) {
        const inbound = twilio.receive({ body, url: signedUrl(), headers: req.headers })
        // a delivery status callback: acknowledged, nothing to say
        if (inbound.messages.length === 0) return send(200, '<?xml version="1.0" encoding="UTF-8"?><Response/>', 'text/xml')
        const msg = inbound.messages[0]
        const rendered = twilio.render(await server.router.routeAsync(msg), { to: msg })
        return send(rendered.status, rendered.body, rendered.content_type.split(';')[0])
      }
      if (url.pathname === '/whatsapp' && whatsapp) {
        const inbound = whatsapp.receive({ body, url: signedUrl(), headers: req.headers })
        const decisions = await server.router.routeBatch(inbound.messages)
        const replies = decisions.map((d, i) => JSON.parse(whatsapp.render(d, { to: inbound.messages[i] }).body))
        return json(200, { messages: inbound.messages.length, statuses: inbound.statuses.length, replies })
      }
      throw new HttpError(404, 'not found', 'NOT_FOUND')
    } catch (e) {
      // a message that cannot be routed as given is the sender's fault; anything else is ours
      const status =
        e instanceof HttpError ? e.status : e.code === 'CHANNEL' ? e.httpStatus : ['INPUT', 'INVALID_ARG'].includes(e.code) ? 400 : 500
      if (!res.headersSent) json(status, { error: e.message, code: e.code || 'INTERNAL', ...(e.kind ? { kind: e.kind } : {}) })
    }
  })
  server.router = router
  return server
}

function main() {
  const repo = path.resolve(__dirname, '..', '..')
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: path.join(repo, 'examples', 'sevilla', 'router.toml') },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: process.env.PORT || '8010' },
      'public-url': { type: 'string', default: '' },
    },
  })
  const env = process.env
  const twilio = env.TWILIO_AUTH_TOKEN ? new Webhook({ provider: 'sms', auth_tokens: [env.TWILIO_AUTH_TOKEN] }) : undefined
  const whatsapp = env.WHATSAPP_APP_SECRET
    ? new Webhook({ provider: 'whatsapp', app_secret: env.WHATSAPP_APP_SECRET, verify_token: env.WHATSAPP_VERIFY_TOKEN || '' })
    : undefined
  for (const [name, hook] of [['/twilio', twilio], ['/whatsapp', whatsapp]]) {
    if (!hook) process.stderr.write(`${name}: off (set its secrets in the environment to serve it)\n`)
  }
  let router
  try {
    router = Router.fromFile(values.config)
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`)
    process.exit(2)
  }
  const server = createServer(router, { twilio, whatsapp, publicUrl: values['public-url'] })
  process.on('SIGHUP', () => {
    try {
      router.reloadFile(values.config)
      process.stderr.write('configuration reloaded\n')
    } catch (e) {
      process.stderr.write(`reload refused, keeping the old configuration: ${e.message}\n`)
    }
  })
  server.listen(Number(values.port), values.host, () => {
    const { address, port } = server.address()
    process.stderr.write(`${router.name}: ${router.ruleIds.length} rules; listening on http://${address}:${port}\n`)
  })
}

if (require.main === module) main()

module.exports = { createServer }
