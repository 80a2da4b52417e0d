//! Event data (JSON) into read-only Lua tables, and what handlers return back into Rust, with
//! limits so that nothing a script returns can be large or run code.

use crate::model::Permissions;
use mlua::{ffi, Lua, Table, Value};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::os::raw::c_int;

/// Deepest nesting of event data.
const MAX_DEPTH: usize = 16;

/// Converts event data into Lua values; every table is read-only.
///
/// The whole value is built in one protected call through the C API: building it value by
/// value through mlua costs a protected call for each string and table (most of an event's
/// cost otherwise). An allocation refused by the memory limit comes back as `Err`.
pub(crate) fn to_lua(lua: &Lua, v: &Json) -> mlua::Result<Value> {
    if depth(v) > MAX_DEPTH {
        return Err(mlua::Error::runtime(format!(
            "event data nested deeper than {MAX_DEPTH} levels"
        )));
    }
    // SAFETY: `push` only pushes onto the stack it is given, after reserving room for the
    // deepest nesting (checked above), and leaves exactly one value there, which exec_raw
    // returns. Lua errors raised by allocation unwind through `push`, whose frames hold only
    // borrowed data (no value with drop glue), to the protected call that exec_raw makes.
    unsafe {
        lua.exec_raw::<Value>((), |state| {
            ffi::luaL_checkstack(state, 2 * MAX_DEPTH as c_int + 8, c"event data".as_ptr());
            push(state, v);
        })
    }
}

fn depth(v: &Json) -> usize {
    match v {
        Json::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Json::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Pushes `v` (at most [`MAX_DEPTH`] deep) as one value; tables are made read-only.
unsafe fn push(state: *mut ffi::lua_State, v: &Json) {
    match v {
        Json::Null => ffi::lua_pushnil(state),
        Json::Bool(b) => ffi::lua_pushboolean(state, c_int::from(*b)),
        Json::Number(n) => ffi::lua_pushnumber(state, n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => ffi::lua_pushlstring_(state, s.as_ptr().cast(), s.len()),
        Json::Array(items) => {
            ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(0), 0);
            for (i, item) in items.iter().enumerate() {
                push(state, item);
                ffi::lua_rawseti_(state, -2, c_int::try_from(i + 1).unwrap_or(c_int::MAX));
            }
            ffi::lua_setreadonly(state, -1, 1);
        }
        Json::Object(map) => {
            ffi::lua_createtable(state, 0, c_int::try_from(map.len()).unwrap_or(0));
            // A nil field is an absent one: nothing to set.
            for (k, item) in map.iter().filter(|(_, v)| !v.is_null()) {
                ffi::lua_pushlstring_(state, k.as_ptr().cast(), k.len());
                push(state, item);
                ffi::lua_rawset(state, -3);
            }
            ffi::lua_setreadonly(state, -1, 1);
        }
    }
}

/// `"all"` or a list of keys, as events carry permissions.
pub(crate) fn permissions_to_json(p: &Permissions) -> Json {
    match p {
        Permissions::All => Json::String("all".into()),
        Permissions::Keys(k) => Json::Array(k.iter().cloned().map(Json::String).collect()),
    }
}

pub(crate) fn permissions_from_json(v: &Json) -> Option<Permissions> {
    match v {
        Json::String(s) if s == "all" => Some(Permissions::All),
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<BTreeSet<String>>>()
            .map(Permissions::Keys),
        _ => None,
    }
}

/// The changes a `before_invite` handler returned as a table.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub permissions: Option<Permissions>,
    pub expires_at: Option<i64>,
    pub ttl: Option<i64>,
}

/// Reads `{ permissions = {...} | "all", expires_at = N, ttl = N }` without running metamethods
/// and without reading more than `max_bytes` of strings.
pub(crate) fn changes_from_table(t: &Table, max_bytes: usize) -> Result<Changes, String> {
    if t.metatable().is_some() {
        return Err("returned a table with a metatable; return a plain table of changes".into());
    }
    let mut out = Changes::default();
    let mut fields = 0usize;
    let mut err = None;
    let r = t.for_each(|k: Value, v: Value| {
        fields += 1;
        if fields > 3 {
            err = Some("returned a table with more fields than permissions, expires_at and ttl".to_string());
            return Err(mlua::Error::runtime("stop"));
        }
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            other => {
                err = Some(format!("returned a table with a {} key", super::runtime::lua_type(other)));
                return Err(mlua::Error::runtime("stop"));
            }
        };
        let res = match key.as_str() {
            "permissions" => read_permissions(&v, max_bytes).map(|p| out.permissions = Some(p)),
            "expires_at" => read_int(&v, "expires_at").map(|n| out.expires_at = Some(n)),
            "ttl" => read_int(&v, "ttl").map(|n| out.ttl = Some(n)),
            _ => Err(format!(
                "returned an unknown field {:?}; before_invite may return permissions, expires_at, ttl",
                truncate_key(&key)
            )),
        };
        if let Err(e) = res {
            err = Some(e);
            return Err(mlua::Error::runtime("stop"));
        }
        Ok(())
    });
    match (r, err) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.to_string()),
        (Ok(()), None) => Ok(out),
    }
}

fn truncate_key(k: &str) -> String {
    k.chars().take(40).collect()
}

fn read_int(v: &Value, name: &str) -> Result<i64, String> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(*n as i64),
        other => Err(format!(
            "returned {name} as a {}; it must be a whole number of seconds",
            super::runtime::lua_type(other)
        )),
    }
}

fn read_permissions(v: &Value, max_bytes: usize) -> Result<Permissions, String> {
    match v {
        Value::String(s) if s.as_bytes().as_ref() == b"all" => Ok(Permissions::All),
        Value::Table(t) => {
            if t.metatable().is_some() {
                return Err("returned permissions with a metatable".into());
            }
            let mut keys = BTreeSet::new();
            let mut bytes = 0usize;
            let mut err = None;
            let r = t.for_each(|k: Value, v: Value| {
                let fail = |m: String| Err::<(), _>(m);
                let step = match (&k, &v) {
                    (Value::Integer(_) | Value::Number(_), Value::String(s)) => {
                        bytes += s.as_bytes().len() + 8;
                        if bytes > max_bytes {
                            fail(format!(
                                "returned permissions over the limit of {max_bytes} bytes (hooks.max_return)"
                            ))
                        } else {
                            keys.insert(s.to_string_lossy());
                            Ok(())
                        }
                    }
                    _ => fail("returned permissions that are not a list of keys".into()),
                };
                step.map_err(|m| {
                    err = Some(m);
                    mlua::Error::runtime("stop")
                })
            });
            match (r, err) {
                (_, Some(e)) => Err(e),
                (Err(e), None) => Err(e.to_string()),
                (Ok(()), None) => Ok(Permissions::Keys(keys)),
            }
        }
        other => Err(format!(
            "returned permissions as a {}; use a list of keys",
            super::runtime::lua_type(other)
        )),
    }
}
