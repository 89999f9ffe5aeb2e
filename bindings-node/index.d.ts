// The data of civic-router, in the core's JSON format (the one the CLI reads and writes as JSON
// Lines, the golden corpus uses and the Python binding accepts). Written beside the Rust crate
// from the core's serde definitions (core/src/message.rs, pipeline.rs, classify/mod.rs,
// rules/mod.rs, route.rs, error.rs); the test suite checks that real decisions have exactly
// these keys. `napi build` prepends this file to the generated declarations.

/** The channel a message arrived on. */
export type ChannelKind = 'whatsapp' | 'sms' | 'voice' | 'app' | 'web' | 'email' | 'in_person'
/** What the person wants done. */
export type Intent = 'information' | 'incident' | 'appointment' | 'emergency' | 'other'
/** How soon a case must be attended. */
export type Priority = 'low' | 'normal' | 'high' | 'urgent'

/** Who sent the message; every field is optional. */
export interface Contact {
  id?: string
  phone?: string
  email?: string
  name?: string
}

/** A file sent with a message; its caption is routed with the text. */
export interface Attachment {
  /** `image`, `audio`, `video`, `document`, `sticker`, … */
  kind: string
  mime_type?: string
  url?: string
  caption?: string
}

/** Where the problem is: a point (WGS 84), an address, or both. */
export interface Location {
  lat?: number
  lon?: number
  address?: string
}

/** One message from a citizen. Only `id` and `channel` are required; unknown fields are refused. */
export interface Message {
  /** The provider's message id (WhatsApp `wamid`, Twilio `MessageSid`, …) or one of yours. */
  id: string
  channel: ChannelKind
  contact?: Contact
  /** What the person wrote or said (a transcript for voice). */
  text?: string
  attachments?: Attachment[]
  location?: Location
  /** BCP 47 language tag (`es`, `es-ES`, `en`). */
  language?: string
  /** When the provider received it (RFC 3339); time-of-day rules need it. */
  received_at?: string
  conversation_id?: string
  /** Free metadata from the channel (JSON data). */
  metadata?: Record<string, unknown>
}

/** One piece of evidence behind a classification. */
export interface Evidence {
  source: string
  detail: string[]
}

/** A classifier's answer; every field is optional. Unknown fields are refused. */
export interface Classification {
  intent?: Intent
  category?: string
  /** A department chosen directly (bypasses the routing table). */
  department?: string
  priority?: Priority
  tags?: string[]
  /** A reply template to send at once. */
  reply?: string
  /** 0–1. */
  confidence?: number
  /** Ask for a human agent. */
  handoff?: boolean
  /** No later classifier may change what this one decided. */
  authoritative?: boolean
  evidence?: Evidence[]
}

/** What a classifier plug-in returns: a classification, or `null`/`undefined` for nothing to say. */
export type PluginResult = Classification | null | undefined

/** What a classifier plug-in receives. */
export interface PluginContext {
  message: Message
  /** The normalised text (text and captions): ASCII, lower case, one space between tokens. */
  text: string
  tokens: string[]
  /** The district placed from the text or the location's address, if any. */
  district: string | null
  /** Local time of reception in the deployment's time zone (`YYYY-MM-DDTHH:MM:SS`), if known. */
  local_time: string | null
}

/** A rule that fired, with the patterns that hit. */
export interface FiredRule {
  id: string
  patterns: string[]
}

/** What one classifier said and which of its fields were kept. */
export interface ClassifierTrace {
  classifier: string
  output: Classification | null
  applied: string[]
}

/** Where the district came from. */
export interface DistrictMatch {
  id: string
  matched: string
  /** `place` or `street`, prefixed by `address ` when found in the location's address. */
  source: string
}

/** Which routing entry chose the department. */
export interface RouteTrace {
  /** `urgent`, `classifier`, `override:<id>`, `district:<id>`, `category:<id>`, `agents` or `default`. */
  entry: string
  department: string
  /** The department that was closed, when the case went to its after-hours replacement. */
  after_hours_from?: string
}

/** Why a decision is what it is. */
export interface Explanation {
  normalized_text: string
  rules: FiredRule[]
  classifiers: ClassifierTrace[]
  district?: DistrictMatch
  route: RouteTrace
  notes?: string[]
  /** The knowledge-base search of an `information` message, and why it answered or not. */
  faq?: FaqTrace
}

/** Where a knowledge-base search left a decision. */
export interface FaqTrace {
  entry?: string
  category?: string
  score: number
  confidence: number
  threshold: number
  answered: boolean
  reason: string
}

/** A knowledge-base answer given at once (`Decision.answer`). */
export interface FaqAnswer {
  entry: string
  category: string
  /** The answer's text for the message's channel. */
  text: string
  links?: Array<{ title: string, url: string }>
  score: number
  confidence: number
  /** Example content, not an official answer. */
  example?: boolean
}

/** The decision for one message. */
export interface Decision {
  id: string
  channel: ChannelKind
  intent: Intent
  category: string
  department: string
  department_name: string
  district: string | null
  priority: Priority
  /** 0–1, with 4 decimals. */
  confidence: number
  /** Whether a human agent must take it. */
  handoff: boolean
  tags?: string[]
  /** What to answer at once, on the same channel. */
  reply: string | null
  /** The knowledge-base answer, when the message was answered automatically. */
  answer?: FaqAnswer
  /** Whether the knowledge base answered it (no agent needed). */
  auto_answered: boolean
  /** Ids of the rules that fired, in order. */
  rules: string[]
  explanation: Explanation
}

/** One rule's verdict in a dry run. */
export interface RuleTrace {
  id: string
  priority: number
  matches: boolean
  applies: boolean
  patterns: string[]
  reason: string | null
}

/** One problem of a refused configuration (`err.issues` of a `CONFIG` error). */
export interface ConfigIssue {
  file: string
  field: string
  reason: string
}

/** The stable `code` of every error the binding throws or rejects with. */
export type ErrorCode =
  | 'CONFIG'
  | 'INPUT'
  | 'CLASSIFIER'
  | 'IO'
  | 'CHANNEL'
  | 'STORE'
  | 'DELIVERY'
  | 'APPOINTMENT'
  | 'MODEL'
  | 'INVALID_ARG'
  | 'PLUGIN_REQUIRES_ASYNC'
  | 'INTERNAL'

/** An error of civic-router: an `Error` with a stable `code`. */
export interface CivicRouterError extends Error {
  code: ErrorCode
  /** `CONFIG`: every problem found. */
  issues?: ConfigIssue[]
  /** `CLASSIFIER`: the classifier that failed. */
  classifier?: string
  /** `routeBatch`: the position of the message that failed. */
  index?: number
  /** `CLASSIFIER` from a JS plug-in: the error it threw or rejected with. */
  cause?: unknown
  /** `CHANNEL`: the channel of the refused request (`whatsapp`, `sms`, …). */
  channel?: ChannelKind
  /** `CHANNEL`: the field at fault, as a path (`entry[0].changes[0].value.messages[1].from`). */
  field?: string
  /** `CHANNEL`: why (`unauthorized` for a bad signature, `malformed`, `too_large`, …). */
  kind?: ChannelErrorKind
  /** `CHANNEL`: the HTTP status the webhook should answer (403, 400, 413, …). */
  httpStatus?: number
}

/** Why a provider request was refused or a reply could not be rendered. */
export type ChannelErrorKind = 'malformed' | 'too_large' | 'unauthorized' | 'unsupported' | 'not_found' | 'reply'

/** One labelled message of a corpus: a message with its gold labels (the format of
 * `corpus/dev.jsonl`, one such object per line). */
export interface CorpusRecord extends Message {
  intent: Intent
  category: string
  district?: string | null
}

/** A labelled corpus: a path to a JSON Lines file, or the records. */
export type Corpus = string | CorpusRecord[]

/** A label with its probability (0–1) and the features that weighed most for it, strongest
 * first, as `[feature, weight]`. */
export interface Scored {
  label: string
  probability: number
  top_features: Array<[string, number]>
}

/** What `model.predict` returns. */
export interface Prediction {
  intent: Scored
  category: Scored
  /** Probability of the `emergency` intent (0 when the model has no such class). */
  emergency_probability: number
}

/** Precision, recall and F1 of one class, and its gold support. */
export interface ClassScore {
  support: number
  precision: number
  recall: number
  f1: number
}

/** A router scored on a labelled corpus (what `civic-router eval --json` prints). */
export interface Evaluation {
  messages: number
  intent_accuracy: number
  category_accuracy: number
  joint_accuracy: number
  category_macro_f1: number
  emergency_recall: number
  district_accuracy: number
  intent: Record<string, ClassScore>
  category: Record<string, ClassScore>
  /** The most frequent errors, `[field, gold, predicted, count]`, largest first. */
  confusions: Array<[string, string, string, number]>
}

/** Cross-validation: every message scored once, by a model that did not see it. */
export interface CrossValidation extends Evaluation {
  /** Routing speed, one message at a time, in steady state. */
  messages_per_second: number
  /** The fold of each corpus message, in corpus order. */
  folds: number[]
  k: number
  seed: number
}

/** The provider a `Webhook` speaks to. */
export type Provider = 'whatsapp' | 'sms' | 'voice' | 'open311' | 'web'

/** Input limits of a channel; omitted fields keep their defaults (1 MiB, 1,000 items). */
export interface ChannelLimits {
  max_body_bytes?: number
  max_items?: number
}

/** One provider's settings, tagged by `provider` (snake_case fields, as in the core). */
export type ChannelSettings =
  | {
      provider: 'whatsapp'
      app_secret: string
      verify_token: string
      template?: { name: string; language?: string; ticket_only?: boolean }
      limits?: ChannelLimits
    }
  | { provider: 'sms'; auth_tokens: string[]; shared_keys?: string[]; limits?: ChannelLimits }
  | {
      provider: 'voice'
      auth_tokens: string[]
      gather_action: string
      agent_number?: string
      shared_keys?: string[]
      limits?: ChannelLimits
    }
  | {
      provider: 'open311'
      api_keys: string[]
      services?: Array<{ code: string; name: string; description?: string; group?: string; keywords?: string[] }>
      reply_format?: 'xml' | 'json'
      limits?: ChannelLimits
    }
  | { provider: 'web'; limits?: ChannelLimits }

/** An HTTP request exactly as the provider sent it. */
export interface WebhookRequest {
  /** The raw body: a `Buffer` (or a string, encoded as UTF-8). Never re-serialised JSON. */
  body: Buffer | Uint8Array | string
  /** The full URL the provider called (Twilio signs it). */
  url: string
  /** Header names and values, as Node gives them (`req.headers`) or as pairs. */
  headers?: Record<string, string | string[] | undefined> | Array<[string, string]>
  /** `POST` by default. */
  method?: string
}

/** A delivery or call status callback. */
export interface StatusUpdate {
  channel: ChannelKind
  message_id: string
  state: string | { call: string } | { other: string }
  recipient?: string
  timestamp?: number
  correlation?: string
  errors?: Array<{ code?: string; title?: string; message?: string }>
}

/** What one provider request carried. */
export interface Inbound {
  /** The citizens' messages, ready for `router.route`. */
  messages: Message[]
  /** Delivery and call status callbacks, kept apart. */
  statuses: StatusUpdate[]
  /** Items neither routed nor tracked, with the reason. */
  ignored: Array<{ id: string | null; reason: string }>
}

/** A reply independent of the channel. */
export interface Reply {
  text: string
  links?: Array<{ title: string; url: string }>
  /** The first link is the call to action: a button where the channel has one (WhatsApp `cta_url`). */
  link_button?: boolean
  options?: Array<{ id: string; title: string; description?: string }>
  ticket?: string
  handoff?: boolean
  end?: boolean
}

/** Who a reply goes to and when. */
export interface ReplyContext {
  /** The inbound message answered (its contact and id), or a contact. */
  to?: Message | Contact
  /** Hours since the citizen last wrote: past 24, WhatsApp sends the template. */
  hoursSinceLastInbound?: number
  /** The id of the message answered. */
  inReplyTo?: string
  /** When `reply` is a decision without a reply text (default `Hemos recibido su mensaje.`). */
  fallback?: string
  /** A ticket reference to add. */
  ticket?: string
}

/** What an SMS text costs under Twilio's rules. */
export interface SegmentInfo {
  encoding: 'gsm7' | 'ucs2'
  units: number
  characters: number
  segments: number
  parts: number[]
  non_gsm: string[]
}

/** A rendered reply: an HTTP response (TwiML, XML, JSON) or, for WhatsApp, the JSON to POST. */
export interface Rendered {
  status: number
  content_type: string
  body: string
  segments?: SegmentInfo
}


/** Where a ticket is in its life. */
export type TicketStatus =
  | 'received'
  | 'routed'
  | 'accepted'
  | 'in_progress'
  | 'resolved'
  | 'rejected'
  | 'duplicate'
  | 'closed'

/** One status change of a ticket. */
export interface StatusChange {
  at: string
  from: TicketStatus | null
  to: TicketStatus
  actor: string
  note: string
  department: string
}

/** A case: `reference` is what the citizen quotes (`SEV-2026-004213`). */
export interface Ticket {
  reference: string
  status: TicketStatus
  intent: Intent
  category: string
  department: string
  priority: Priority
  district?: string
  location?: Location
  channel: ChannelKind
  contact: Contact
  messages: string[]
  text: string
  decision: Record<string, unknown>
  history: StatusChange[]
  duplicate_of?: string
  followers?: { channel: ChannelKind; contact: Contact; reference: string }[]
  created_at: string
  pseudonymised_at?: string
}

/** What ingesting a message did. */
export interface Ingested {
  decision: Decision
  /** The provider had sent this message before: nothing new was written. */
  duplicate_delivery: boolean
  ticket: Ticket | null
  /** What to answer at once on the same channel. */
  reply: string | null
  /** The reference the message asked about ("¿cómo va mi aviso …?"). */
  status_query: string | null
}

/** One message of a conversation, in or out. */
export interface ConversationEntry {
  direction: 'inbound' | 'outbound'
  channel: ChannelKind
  provider_id?: string
  contact_key: string
  conversation: string
  ticket?: string
  text: string
  at: string
  automatic: boolean
  handoff: boolean
  intent?: Intent
  department?: string
  district?: string
  answer?: string
}

/**
 * A row of the outbox: a case for a department, a notification for a citizen about a ticket,
 * or a reminder of an appointment (no `reference`: it belongs to no ticket).
 */
export interface OutboxItem {
  id: number
  kind: 'delivery' | 'notification' | 'reminder'
  /** The department id (delivery) or the channel (notification, reminder). */
  target: string
  /** The ticket (deliveries and notifications). */
  reference?: string
  /** The appointment a reminder is about (`CP-7KD3QX`). */
  appointment?: string
  event: string
  idempotency_key: string
  to?: Contact
  payload: Record<string, unknown>
  text: string
  attempts: number
  next_attempt_at: string
  created_at: string
  last_error?: string
}

/** An outbox row given up on. */
export interface DeadLetter {
  item: OutboxItem
  dead_at: string
}

/** What one pass of `Desk.scheduleReminders` did. */
export interface ReminderReport {
  /** Appointments whose reminder was due. */
  due: number
  /** Reminders written to the outbox by this pass. */
  enqueued: number
  /** Reminders the outbox held already (an earlier pass stopped before marking them). */
  already_queued: number
  /** Appointments marked reminded. */
  marked: number
  /** Appointments moved while the pass ran: reminded of their new time by the next pass. */
  moved: number
}

/** What one relay pass did. */
export interface RelayReport {
  claimed: number
  sent: number
  retried: number
  dead: number
}

/** Counts along each dimension. */
export interface Counts {
  total: number
  by_month: Record<string, number>
  by_channel: Record<string, number>
  by_department: Record<string, number>
  by_district: Record<string, number>
}

/** A distribution of durations in seconds. */
export interface Durations {
  count: number
  median_s: number | null
  p90_s: number | null
}

/** The statistics of a store. */
export interface Report {
  month: string | null
  conversations: Counts
  tickets: Counts
  tickets_by_status: Record<string, number>
  answered_automatically: number
  automatic_share: number
  first_reply: Durations
  resolution: Durations
  department_names?: Record<string, string>
  district_names?: Record<string, string>
}

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * Appointments (cita previa): `new Appointments(officesPath, { store?, conversationMinutes? })`
 * — `store` a SQLite file (created if needed) or a store URL (`postgres://…`), or memory without it. Every method returns a
 * Promise.
 */
export declare class Appointments {
  /** Reads the offices file and opens the store. Throws `IO`, `CONFIG` or `APPOINTMENT`. */
  constructor(offices: string, options?: { store?: string, conversationMinutes?: number })
  /** Up to `n` (default 3) free slots for a service, in the district's office or the nearest. */
  offer(service: string, options: { now: string, district?: string, n?: number }): Promise<Array<{ office: string, office_name: string, start: string, end: string, free: number }>>
  /** Books a slot. Rejects with `APPOINTMENT` when it is full, closed or unknown. */
  bookSlot(service: string, office: string, start: string, options: { contact: Contact, channel: ChannelKind, now: string }): Promise<Record<string, unknown>>
  /** Books the earliest free slot for a service. */
  bookEarliest(service: string, options: { contact: Contact, channel: ChannelKind, now: string, district?: string }): Promise<Record<string, unknown>>
  /** Confirms an appointment. */
  confirm(reference: string): Promise<Record<string, unknown>>
  /** Cancels an appointment. */
  cancel(reference: string): Promise<Record<string, unknown>>
  /** Moves an appointment to another slot of its office. */
  moveTo(reference: string, start: string, options: { now: string }): Promise<Record<string, unknown>>
  /**
   * Reminders due within `hours` (default 24) after `now`: `{ reference, to, channel,
   * text, start }`.
   */
  remindersDue(options: { now: string, hours?: number }): Promise<Array<{ reference: string, to: Contact, channel: ChannelKind, text: string, start: string }>>
  /** Records that a reminder was sent. */
  markReminded(reference: string): Promise<null>
  /**
   * One message of a booking conversation: `{ text, options: [id, title][], appointment?,
   * done }`. Rejects with `APPOINTMENT` when the citizen answers a question that expired.
   */
  converse(text: string, options: { contact: Contact, channel: ChannelKind, now: string, district?: string }): Promise<{ text: string, options?: Array<[string, string]>, appointment?: Record<string, unknown>, done: boolean }>
}

/**
 * Cases: ingests messages into tickets, changes their status, delivers them and reports.
 * `new Desk(router, storePath?)`: a SQLite file (created if needed), or a store in memory.
 * Every method returns a Promise; a bad argument rejects it with `INVALID_ARG` or `INPUT`.
 */
export declare class Desk {
  /**
   * Opens a desk over a store: an SQLite file path, or a URL (`sqlite://PATH`,
   * `postgres://user@host/db[?schema=NAME]`, `memory://`); in memory without one. Throws `STORE`
   * (`kind` in the message: a corrupt file) and `CONFIG` (a bad `[tickets]` section).
   */
  constructor(router: Router, store?: string | null)
  /**
   * Routes a message and keeps it (inbox, ticket, outbox in one commit); resolves after the
   * commit — acknowledge the webhook then.
   */
  ingest(message: Message, options?: { at?: string }): Promise<Ingested>
  /**
   * Changes a ticket's status. Rejects with `STORE` (a refused transition, an unknown
   * reference).
   */
  changeStatus(reference: string, status: TicketStatus, options: { actor: string, note?: string, at?: string }): Promise<Ticket>
  /** Moves a ticket to another category (and department). */
  recategorise(reference: string, category: string, options: { actor: string, note?: string, department?: string }): Promise<Ticket>
  /** One ticket by its reference. */
  ticket(reference: string): Promise<Ticket>
  /** The tickets a contact reported or asked about. */
  ticketsOf(channel: ChannelKind, contact: Contact): Promise<Ticket[]>
  /** A contact's messages and replies, oldest first. */
  conversationOf(channel: ChannelKind, contact: Contact): Promise<ConversationEntry[]>
  /** The messages and replies about a ticket, oldest first. */
  conversationOfTicket(reference: string): Promise<ConversationEntry[]>
  /** Outbox rows still to deliver. */
  pending(): Promise<OutboxItem[]>
  /** Outbox rows given up on. */
  deadLetters(): Promise<DeadLetter[]>
  /**
   * Claims due outbox rows for a JavaScript sender (default 100 rows, leased 300 s): send
   * each, then `markSent` or `markFailed`.
   */
  claimDue(options?: { limit?: number, leaseS?: number, at?: string }): Promise<OutboxItem[]>
  /** A claimed row was delivered. */
  markSent(id: number): Promise<null>
  /**
   * A claimed row failed: retried at `options.retryAt`, or moved to the dead letters
   * without one.
   */
  markFailed(id: number, error: string, options?: { retryAt?: string }): Promise<null>
  /**
   * Queues the reminders of the appointments starting within `hours` (default 24) after
   * `at` (default now; the router's time zone gives the local time) in the outbox, then
   * marks them reminded. A JavaScript sender gets them from `claimDue` like follow-ups
   * (`kind` `'reminder'`, with `appointment` and no `reference`); `relayOnce` writes them as
   * e-mail files. Each reminder is queued once however often this runs; a moved
   * appointment gets a new one.
   */
  scheduleReminders(appointments: Appointments, options?: { hours?: number, at?: string }): Promise<ReminderReport>
  /**
   * Delivers the due rows once: departments in `webhooks` by HTTP (JSON, `Idempotency-Key`),
   * the others, the notifications and the reminders as e-mail files in `mailDir`.
   */
  relayOnce(options?: { webhooks?: Record<string, string>, mailDir?: string, maxAttempts?: number, baseDelayS?: number, at?: string }): Promise<RelayReport>
  /** The statistics: an object, or with `format` `"table"`, `"json"` or `"html"` its text. */
  report(options?: { month?: string, format?: 'object' | 'table' | 'json' | 'html' }): Promise<Report | string>
  /**
   * Pseudonymises tickets closed more than `tickets.retention_days` ago with the secret
   * `key` (at least 16 bytes); resolves with how many.
   */
  applyRetention(key: string, options?: { at?: string }): Promise<number>
}

/**
 * The knowledge base that answers information requests (BM25 over normalised Spanish with
 * Snowball stemming and misspelling tolerance).
 */
export declare class KnowledgeBase {
  /**
   * Reads a knowledge-base file (TOML, or JSON by its `.json` extension). Throws `IO` or
   * `CONFIG`.
   */
  static fromPath(path: string): KnowledgeBase
  /** Parses a TOML knowledge base. Throws `CONFIG`. */
  static fromToml(text: string, origin?: string): KnowledgeBase
  /**
   * Parses a JSON knowledge base (`{"entry": [...]}` or an array of entries). Throws
   * `CONFIG`.
   */
  static fromJson(text: string, origin?: string): KnowledgeBase
  /** Number of entries. */
  get length(): number
  /**
   * The best entries for a question, best first (`top`, default 1); `answers` says whether
   * each reaches `threshold` (default 0.5) under the knowledge base's rule.
   */
  search(question: string, options?: { top?: number, threshold?: number }): Array<{ entry: { id: string, category: string, questions: string[], answer: string, links?: Array<{ title: string, url: string }>, example?: boolean }, score: number, confidence: number, matched: string[], answers: boolean }>
  /** The key an unanswered question is counted under in a gap log. */
  gapKey(question: string): string
}

/**
 * A trained statistical classifier (multinomial logistic regression over word and character
 * n-grams; one head for the intent, one for the category). Immutable; share it freely.
 *
 * `Model.train(corpus, options?)` trains one (`router.trainModel` with a router's lexicon);
 * `Model.fromFile(path)` / `Model.fromJson(text)` load the versioned model file that `save` /
 * `toJson` write (and `civic-router train` writes).
 */
export declare class Model {
  /**
   * Trains a model on a labelled corpus — a path to a JSON Lines file, or an array of
   * objects `{id, channel, text, intent, category, district?}` — with the default Spanish
   * normaliser, off the event loop. The same corpus and options give the same model.
   * Rejects with `MODEL` (empty or one-class corpus), `INPUT` (a bad record, with its
   * line), `IO` or `INVALID_ARG`.
   */
  static train(corpus: Corpus, options?: TrainOptions): Promise<Model>
  /**
   * Reads a model file. `router`: predict with that router's lexicon (a model trained with
   * `router.trainModel`); by default, the default Spanish normaliser. Throws `IO` or
   * `MODEL` (not a model file, another version, corrupt).
   */
  static fromFile(path: string, router?: Router): Model
  /** Reads a model from its JSON text (see `fromFile` for `router`). Throws `MODEL`. */
  static fromJson(text: string, router?: Router): Model
  /** The model file's text (JSON, with its format name and version). */
  toJson(): string
  /** Writes the model file. Throws `IO`. */
  save(path: string): void
  /**
   * The most likely intent and category of a text (normalised as the training texts were),
   * each with its probability and the features that weighed most, and the probability of
   * the `emergency` intent. `channel`: the channel the text came on, a feature too.
   */
  predict(text: string, channel?: ChannelKind | null): Prediction
  /** The intent classes, sorted. */
  get intents(): Array<string>
  /** The category classes, sorted. */
  get categories(): Array<string>
  /** Number of features kept. */
  get featureCount(): number
  /** Number of training messages. */
  get trainedOn(): number
}

/**
 * Routes citizen messages to departments, with an explanation.
 *
 * Immutable apart from `reloadFile` / `reloadToml`, which swap the configuration atomically
 * (plug-ins stay); safe to share across the whole service.
 */
export declare class Router {
  /**
   * Builds a router from a configuration file (TOML) and the rule files it names (relative
   * to it). Throws `IO` when a file cannot be read and `CONFIG` (with `issues`) when the
   * configuration is refused.
   */
  static fromFile(path: string): Router
  /**
   * Builds a router from configuration text (TOML); rule files it names are read relative to
   * the current directory.
   */
  static fromToml(text: string): Router
  /**
   * A new router with a JavaScript classifier added to the chain: after the rules, or before
   * them with `{ first: true }`. The function receives a `PluginContext` and returns a
   * `Classification`, `null`/`undefined` (nothing to say), or a Promise of one. A router with
   * a plug-in routes only through `routeAsync` and `routeBatch`.
   */
  withClassifier(classifier: (context: PluginContext) => PluginResult | Promise<PluginResult>, options?: ClassifierOptions): Router
  /**
   * Decides what to do with one message, synchronously (a few microseconds: fine on the
   * event loop for one short message). Throws `INPUT` for a value that is not a message and
   * `PLUGIN_REQUIRES_ASYNC` when a JavaScript plug-in is registered.
   */
  route(message: Message): Decision
  /**
   * Decides what to do with one message off the event loop (and runs JavaScript plug-ins).
   * Rejects with `INPUT`, `CLASSIFIER` (the plug-in's own error as `cause`), … errors.
   */
  routeAsync(message: Message): Promise<Decision>
  /**
   * Decides for many messages at once, spread over every core, off the event loop. Resolves
   * with one decision per message, in order; rejects with the first failure (its `index`
   * says which message).
   */
  routeBatch(messages: Message[]): Promise<Decision[]>
  /**
   * `routeBatch` that never rejects for one message (like `Promise.allSettled`): each
   * failure is an `Error` (with `code` and `index`) in its message's place.
   */
  routeBatchSettled(messages: Message[]): Promise<Array<Decision | CivicRouterError>>
  /**
   * What every rule would do with a message, and why (plug-ins do not run, so this stays
   * synchronous with them registered).
   */
  dryRun(message: Message): RuleTrace[]
  /**
   * Trains a statistical model on a labelled corpus (a path to a JSON Lines file, or an
   * array of objects), normalised with this router's lexicon as `civic-router train
   * --config` does, off the event loop; the model predicts with the same lexicon. Rejects
   * with `MODEL`, `INPUT` (a bad record, with its line), `IO` or `INVALID_ARG`.
   */
  trainModel(corpus: Corpus, options?: TrainOptions): Promise<Model>
  /**
   * Routes every message of a labelled corpus (a path or an array of objects) off the event
   * loop and scores the decisions against the gold labels: accuracies, macro-F1, emergency
   * recall, district accuracy, per-class scores and the most frequent confusions (what
   * `civic-router eval --json` prints). JavaScript plug-ins run.
   */
  evaluate(corpus: Corpus): Promise<Evaluation>
  /** Replaces the configuration with a file's, atomically; on error the old one stays. */
  reloadFile(path: string): void
  /** Replaces the configuration with TOML text, atomically; on error the old one stays. */
  reloadToml(text: string): void
  /** Normalises a text as the router does (with the configuration's rewrites). */
  normalize(text: string): string
  /** The tokens of a text, normalised as the router does. */
  tokens(text: string): Array<string>
  /** A department's human name, or `null` if there is no such department. */
  departmentName(id: string): string | null
  /** The service line's name (`[router] name`). */
  get name(): string
  /** Ids of the rules in force, in the order they run. */
  get ruleIds(): Array<string>
  /** Names of the classifiers, in the order they run (`rules` is the rule engine). */
  get classifierNames(): Array<string>
  /** Whether a JavaScript plug-in is in the chain (then only the async calls route). */
  get hasPlugins(): boolean
}

/**
 * One provider's webhook endpoint: verifies and parses what the provider posts, and renders
 * replies in the provider's format. `new Webhook({provider: 'whatsapp', app_secret, verify_token})`;
 * providers: `whatsapp`, `sms`, `voice`, `open311`, `web`.
 */
export declare class Webhook {
  /** Builds the channel; throws `CONFIG` (with `issues`) for bad settings. */
  constructor(settings: ChannelSettings)
  /** The provider (`whatsapp`, `sms`, `voice`, `open311`, `web`). */
  get provider(): Provider
  /** The channel its messages carry (`whatsapp`, `sms`, `voice`, `app`, `web`). */
  get channel(): ChannelKind
  /** Bodies larger than this are refused before parsing. */
  get maxBodyBytes(): number
  /**
   * Size check, signature check, parse: what a webhook endpoint calls with the raw body.
   * Throws `CHANNEL` (`kind` `unauthorized`, `malformed`, `too_large`, …).
   */
  receive(request: WebhookRequest): Inbound
  /** Checks the size and the signature (or API key) only. */
  verify(request: WebhookRequest): void
  /**
   * WhatsApp's subscription handshake: the challenge to answer (200, text/plain) for the
   * `GET` URL Meta calls; throws `CHANNEL` (`httpStatus` 403) on a wrong verify token.
   */
  handshake(url: string): string
  /** Renders a reply (a decision, or a reply object) in the channel's format. */
  render(reply: Decision | Reply, context?: ReplyContext): Rendered
}

/** Options of `withClassifier`. */
export interface ClassifierOptions {
  /** Run before the rules (default: after them). */
  first?: boolean
  /** The name shown in explanations and errors (default: the function's name). */
  name?: string
}

/**
 * Stratified K-fold cross-validation of a configuration on a corpus, off the event loop: for
 * each fold a model is trained on the other folds and the configuration (its rules with that
 * model) routes the held-out messages. Resolves with the evaluation plus
 * `messages_per_second` (one message at a time, steady state), `folds` (each message's fold,
 * in corpus order), `k` and `seed`.
 */
export declare function crossValidate(configPath: string, corpus: Corpus, options?: CrossValidateOptions): Promise<CrossValidation>

/** Options of `crossValidate`. */
export interface CrossValidateOptions {
  /** Folds (default 5; at least 2). */
  k?: number
  /** Seed of the folds and of training (default 42). */
  seed?: number
}

/**
 * Normalises a text with the default Spanish normaliser: ASCII, lower case, accents folded,
 * `ñ` kept as `ny`, chat shorthand expanded, one space between tokens.
 */
export declare function normalize(text: string): string

/**
 * How an SMS text is encoded and how many segments it costs (Twilio's rules: GSM-7 with its
 * extension table, else UCS-2).
 */
export declare function segmentInfo(text: string): SegmentInfo

/**
 * Training settings (`Model.train`, `router.trainModel`); omitted ones keep their defaults,
 * chosen by cross-validation on the development corpus.
 */
export interface TrainOptions {
  /** Seed of the example order: the same seed and corpus give the same model (default 42). */
  seed?: number
  /** Passes over the data (default 30). */
  epochs?: number
  /** Initial learning rate, AdaGrad (default 0.5). */
  learningRate?: number
  /** L2 regularisation strength (default 0.0001). */
  l2?: number
  /** Features seen in fewer training messages are dropped (default 3). */
  minCount?: number
}

/** The version of the civic-router core this module was built with. */
export declare function version(): string
