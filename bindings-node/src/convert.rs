//! Conversions between JavaScript values and core types.
//!
//! Data crosses in the core's JSON format, the one the CLI reads and writes (JSON Lines), the
//! golden corpus uses and the Python binding accepts: a message is `{id, channel, text, …}` with
//! the core's field names, and a decision comes back as its JSON object. Every message goes
//! through the core's serde definition, so a JS object is checked exactly as a JSON line is
//! (unknown fields refused, channel names checked); what is wrong comes back as an `INPUT`
//! error naming the field.

use civic_router::Message;
use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{Env, JsValue, ValueType};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{from_napi, Failure, INVALID_ARG};

/// `typeof`, with `null` and arrays told apart, for error messages.
pub(crate) fn type_name(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        Ok(ValueType::External) => "an external",
        Ok(ValueType::Object) if is_array(v) => "an array",
        Ok(ValueType::Object) => "an object",
        _ => "an unknown value",
    }
}

fn is_array(v: &Unknown<'_>) -> bool {
    let mut out = false;
    // SAFETY: env and value come from a live `Unknown`.
    let status = unsafe { napi::sys::napi_is_array(v.value().env, v.value().value, &mut out) };
    status == napi::sys::Status::napi_ok && out
}

/// A JS value as JSON data (napi bounds the depth at 128 and the size at a million nodes, so a
/// cyclic or huge object is an error, not a stack overflow).
pub(crate) fn json_from_js(v: &Unknown<'_>) -> napi::Result<Value> {
    // SAFETY: env and value come from a live `Unknown`.
    unsafe { Value::from_napi_value(v.value().env, v.value().value) }
}

/// A JS object as a core [`Message`]; anything else is an `INPUT` error.
pub(crate) fn message_from_js(v: &Unknown<'_>) -> Result<Message, Failure> {
    match v.get_type() {
        Ok(ValueType::Object) if !is_array(v) => {}
        _ => {
            return Err(Failure::malformed(format!(
                "expected an object like {{id, channel, text}}, got {}",
                type_name(v)
            )))
        }
    }
    let json = json_from_js(v).map_err(|e| from_napi(crate::errors::INPUT, "not a message", e))?;
    message_from_json(json)
}

/// JSON data as a core [`Message`], with the path of what is wrong.
pub(crate) fn message_from_json(json: Value) -> Result<Message, Failure> {
    serde_path_to_error::deserialize::<_, Message>(json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Failure::malformed(if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        })
    })
}

/// Any serialisable core value (a decision, a rule trace) as a JS value.
///
/// The value is written as JSON in Rust and read with V8's own `JSON.parse`: one string
/// crosses the boundary instead of one napi call per key and value, which is several times
/// faster for a decision with its explanation (`benches/node/bench-route.js`).
pub(crate) fn to_js<'e, T: Serialize>(env: &'e Env, value: &T) -> Result<Unknown<'e>, Failure> {
    let internal = |what: &str| {
        let what = what.to_string();
        move |e: napi::Error| {
            Failure::new(
                crate::errors::INTERNAL,
                format!("converting a result to JavaScript ({what}): {e}"),
            )
        }
    };
    let json = serde_json::to_string(value).map_err(|e| {
        Failure::new(
            crate::errors::INTERNAL,
            format!("converting a result to JavaScript: {e}"),
        )
    })?;
    json_parse(env, &json).map_err(internal("JSON.parse"))
}

/// `JSON.parse(text)` in the environment.
fn json_parse<'e>(env: &'e Env, text: &str) -> napi::Result<Unknown<'e>> {
    use napi::sys;
    let raw = env.raw();
    let check = |status: sys::napi_status, what: &str| {
        if status == sys::Status::napi_ok {
            Ok(())
        } else {
            Err(napi::Error::from_reason(format!(
                "{what} failed ({status})"
            )))
        }
    };
    // SAFETY: every handle comes from napi in this environment, on its thread, and lives in
    // the current handle scope; the string is passed with its length.
    unsafe {
        let mut global = std::ptr::null_mut();
        check(sys::napi_get_global(raw, &mut global), "napi_get_global")?;
        let mut json = std::ptr::null_mut();
        check(
            sys::napi_get_named_property(raw, global, c"JSON".as_ptr(), &mut json),
            "global.JSON",
        )?;
        let mut parse = std::ptr::null_mut();
        check(
            sys::napi_get_named_property(raw, json, c"parse".as_ptr(), &mut parse),
            "JSON.parse",
        )?;
        let mut arg = std::ptr::null_mut();
        check(
            sys::napi_create_string_utf8(raw, text.as_ptr().cast(), text.len() as isize, &mut arg),
            "napi_create_string_utf8",
        )?;
        let mut result = std::ptr::null_mut();
        check(
            sys::napi_call_function(raw, json, parse, 1, &arg, &mut result),
            "JSON.parse()",
        )?;
        Unknown::from_napi_value(raw, result)
    }
}

/// A string argument, or `INVALID_ARG` naming it.
pub(crate) fn string_arg(name: &str, v: &Unknown<'_>) -> Result<String, Failure> {
    if !matches!(v.get_type(), Ok(ValueType::String)) {
        return Err(Failure::invalid_arg(name, "a string", type_name(v)));
    }
    // SAFETY: checked to be a string.
    unsafe { v.cast::<String>() }.map_err(|e| from_napi(INVALID_ARG, name, e))
}

/// Reads an optional options object (`undefined` or `null`: the defaults).
pub(crate) fn options_arg<T: Default + serde::de::DeserializeOwned>(
    name: &str,
    v: Option<Unknown<'_>>,
) -> Result<T, Failure> {
    let Some(v) = v else {
        return Ok(T::default());
    };
    match v.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(T::default()),
        Ok(ValueType::Object) => {}
        _ => return Err(Failure::invalid_arg(name, "an object", type_name(&v))),
    }
    let json = json_from_js(&v).map_err(|e| from_napi(INVALID_ARG, name, e))?;
    serde_json::from_value(json).map_err(|e| Failure::new(INVALID_ARG, format!("`{name}`: {e}")))
}
