//! Event data (JSON) into read-only Lua tables, and what handlers return back into Rust, with
//! limits so that nothing a script returns can be large or run code.

use crate::model::Permissions;
use mlua::{Lua, Table, Value};
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// Deepest nesting of event data.
const MAX_DEPTH: usize = 16;

/// Converts event data into Lua values; every table is read-only.
pub(crate) fn to_lua(lua: &Lua, v: &Json) -> mlua::Result<Value> {
    to_lua_at(lua, v, 0)
}

fn to_lua_at(lua: &Lua, v: &Json, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(format!(
            "event data nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(lua.create_string(s)?),
        Json::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua_at(lua, item, depth + 1)?)?;
            }
            t.set_readonly(true);
            Value::Table(t)
        }
        Json::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(k.as_str(), to_lua_at(lua, item, depth + 1)?)?;
            }
            t.set_readonly(true);
            Value::Table(t)
        }
    })
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
