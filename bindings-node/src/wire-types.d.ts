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
