#!/usr/bin/env node
// A small WhatsApp/SMS webhook service on civic-router, with node:http only.
//
// Run it from the repository root (after `npm install` + `npm run build` in bindings-node):
//
//     node bindings-node/examples/webhook-server.js --config examples/sevilla/router.toml
//
// then, from another terminal:
//
//     # a message in civic-router's JSON format -> the decision as JSON
//     curl -s localhost:8010/messages -H 'content-type: application/json' \
//          -d '{"id": "m1", "channel": "whatsapp", "text": "farola apagada en calle Feria"}'
//
//     # a Twilio-style form POST (SMS, or WhatsApp when From starts with "whatsapp:")
//     # -> TwiML with the reply to send back (or the decision as JSON with ?format=json)
//     curl -s localhost:8010/twilio -d MessageSid=SM1 -d From=whatsapp:+34600000001 \
//          --data-urlencode 'Body=huele a gas en el portal'
//
// Endpoints: `POST /messages` (one message, or an array routed with `routeBatch`),
// `POST /twilio`, `GET /health`. `SIGHUP` reloads the configuration (the old one stays if the
// new one is refused). Routing runs off the event loop (`routeAsync`, `routeBatch`), so a
// classifier plug-in could be added with `router.withClassifier(...)`.
//
// Until the channels issue lands in the core, this example parses only these two formats itself
// and does NOT verify webhook signatures (`X-Twilio-Signature`): put it behind something that
// does, or wait for the core's channel parsers. Nothing here reaches a log line with personal
// data: the access log prints method, path and status only.
'use strict'

const http = require('node:http')
const path = require('node:path')
const { parseArgs } = require('node:util')

const { Router } = require('..')

/** Largest request body read, in bytes (1 MiB); larger requests get 413. */
const MAX_BODY = 1 << 20

/** A Twilio-style SMS/WhatsApp webhook form as a civic-router message. */
function messageFromTwilio(form) {
  const one = (k) => form.get(k) ?? undefined
  const sender = one('From') || ''
  const channel = sender.startsWith('whatsapp:') ? 'whatsapp' : 'sms'
  const phone = sender.replace(/^whatsapp:/, '')
  const attachments = []
  for (let i = 0; i < Number.parseInt(one('NumMedia') || '0', 10); i++) {
    const url = one(`MediaUrl${i}`)
    const mime = one(`MediaContentType${i}`)
    if (url) attachments.push({ kind: (mime || 'document').split('/')[0], url, ...(mime ? { mime_type: mime } : {}) })
  }
  const location = {}
  const [lat, lon, address] = [one('Latitude'), one('Longitude'), one('Address')]
  if (lat && lon) Object.assign(location, { lat: Number(lat), lon: Number(lon) })
  if (address) location.address = address
  return {
    id: one('MessageSid') || one('SmsSid') || '',
    channel,
    text: one('Body') || '',
    contact: phone ? { phone } : {},
    attachments,
    ...(Object.keys(location).length ? { location } : {}),
    metadata: { provider: 'twilio', to: one('To') || '' },
  }
}

const escapeXml = (s) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c])

/** The TwiML answer: the decision's reply, if it has one. */
function twiml(decision) {
  const body = decision.reply ? `<Message>${escapeXml(decision.reply)}</Message>` : ''
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`
}

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
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** An HTTP server that routes with `router` (a civic-router `Router`; `.router` may be swapped). */
function createServer(router, { log = (line) => process.stderr.write(line + '\n') } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost')
    const send = (status, body, type) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` })
      res.end(body)
      // method, path and status only: never bodies (personal data)
      log(`${req.method} ${url.pathname} ${status}`)
    }
    const json = (status, value) => send(status, JSON.stringify(value), 'application/json')
    try {
      if (req.method === 'GET' && url.pathname === '/health') {
        return json(200, { status: 'ok', router: server.router.name, rules: server.router.ruleIds.length })
      }
      if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', 'METHOD')
      const body = await readBody(req)
      if (url.pathname === '/messages') {
        let data
        try {
          data = JSON.parse(body)
        } catch (e) {
          throw new HttpError(400, `not JSON: ${e.message}`, 'INPUT')
        }
        return json(200, Array.isArray(data) ? await server.router.routeBatch(data) : await server.router.routeAsync(data))
      }
      if (url.pathname === '/twilio') {
        const decision = await server.router.routeAsync(messageFromTwilio(new URLSearchParams(body)))
        return url.searchParams.get('format') === 'json' ? json(200, decision) : send(200, twiml(decision), 'application/xml')
      }
      throw new HttpError(404, 'not found', 'NOT_FOUND')
    } catch (e) {
      // a message that cannot be routed as given is the sender's fault; anything else is ours
      const status = e instanceof HttpError ? e.status : ['INPUT', 'INVALID_ARG'].includes(e.code) ? 400 : 500
      if (!res.headersSent) json(status, { error: e.message, code: e.code || 'INTERNAL' })
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
    },
  })
  let router
  try {
    router = Router.fromFile(values.config)
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`)
    process.exit(2)
  }
  const server = createServer(router)
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

module.exports = { createServer, messageFromTwilio, twiml }
