// Shared fixtures: an inline configuration (the same one the Rust pipeline tests and the Python
// tests use, so the suite never depends on files another part of the project writes) and helpers.
'use strict'

const path = require('node:path')

const REPO_ROOT = path.resolve(__dirname, '..', '..')

const CONFIG = String.raw`
[router]
name = "Test line"
handoff_below = 0.5
mode = "all_match"

[categories]
alumbrado = "Alumbrado público"
via_publica = "Vía pública"
actividades = "Actividades"
medio_ambiente = "Medio ambiente"
emergencias = "Emergencias"
general = "General"

[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
hours = ["mon-fri 08:00-15:00"]
after_hours = "guardia"

[[department]]
id = "guardia"
name = "Retén de guardia"

[[department]]
id = "obras"
name = "Vía Pública"
phone = "955 000 000"

[[department]]
id = "junta_carreteras"
name = "Junta de Andalucía — Carreteras"
kind = "external"

[[department]]
id = "distrito_triana"
name = "Distrito Triana"
kind = "district"

[[department]]
id = "emergencias"
name = "Emergencias 112"
kind = "emergency"

[[department]]
id = "agentes"
name = "Agentes 010"
kind = "agents"

[[department]]
id = "010"
name = "Línea 010"

[[district]]
id = "triana"
name = "Triana"
places = ["Triana", "El Tardón", "Barrio León"]
streets = ["calle Betis", "San Jacinto"]

[[district]]
id = "macarena"
name = "Macarena"
places = ["Macarena"]
streets = ["calle Feria"]

[routing]
default = "010"
emergency = "emergencias"
agents = "agentes"
category.alumbrado = "alumbrado"
category.via_publica = "obras"

[[routing.district]]
district = "triana"
categories = ["actividades"]
department = "distrito_triana"

[[routing.override]]
id = "carretera-autonomica"
when.any_text = ['\b(a|se)-\d+\b']
categories = ["via_publica", "alumbrado"]
department = "junta_carreteras"

[replies]
emergency = "Llame al 112 ahora. ({message_id})"
incident = "Aviso recibido: {category_name}. Lo atenderá {department_name}{district_name}."
handoff = "Le atiende una persona en breve."

[[rule]]
id = "emergency-gas"
priority = 100
when.any_text = ['huele (mucho )?a gas', '\bincendio\b']
then = { intent = "emergency", stop = true }

[[rule]]
id = "lighting"
priority = 50
when.any_words = ["farola*", "alumbrado"]
then = { intent = "incident", category = "alumbrado" }

[[rule]]
id = "pothole"
priority = 50
when.any_words = ["bache*", "socavon"]
then = { intent = "incident", category = "via_publica", tags = ["firme"] }

[[rule]]
id = "workshops"
priority = 40
when.any_words = ["taller*", "curso*"]
then = { intent = "information", category = "actividades" }

[[rule]]
id = "danger-high"
priority = 30
when.any_words = ["peligro*", "cable*"]
then = { priority = "high" }

[[rule]]
id = "vague-noise"
priority = 20
when.any_words = ["ruido"]
then = { intent = "incident", category = "medio_ambiente", confidence = 0.3 }
`

/** A message in the JSON format. */
function msg(text, id = 'm1', channel = 'whatsapp', fields = {}) {
  return { id, channel, text, ...fields }
}

/** Asserts that `fn` throws (or `promise` rejects) an `Error` with `code`; returns it. */
function expectCode(assert, code, fn) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Error, `expected an Error with code ${code}, got ${caught}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

async function expectReject(assert, code, promise) {
  let caught
  try {
    await promise
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof Error, `expected a rejection with code ${code}, got ${caught}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

module.exports = { REPO_ROOT, CONFIG, msg, expectCode, expectReject }
