//! Hostile hook scripts are contained: the process survives, the call ends within twice the
//! deadline, the VM's memory stays bounded, and the operation is denied with nothing written
//! but the one audit entry of the denial.

mod hooks_support;

use cohort_core::{ErrorCode, Permissions};
use hooks_support::*;
use std::time::{Duration, Instant};

/// Containment is about bounds, not speed: generous room for a loaded test machine.
const SLACK: Duration = Duration::from_millis(150);
/// The VM's own size (libraries, the scripts) on top of the 8 MiB budget.
const VM_OVERHEAD: u64 = 4 << 20;

fn handler(body: &str) -> String {
    format!("cohort.on(\"before_invite\", function(ev)\n{body}\nend)\n")
}

/// Runs `script` as the only hook and checks every containment property, both through
/// `test_event` (time, memory) and through the engine (denied, nothing written).
fn assert_contained(script: &str) -> String {
    let dir = script_dir(&[("50-case.lua", script)]);

    let started = Instant::now();
    let r = fire(
        dir.path(),
        "before_invite",
        invite_event("dev@acme.example", "all".into()),
    );
    let wall = started.elapsed();
    assert!(
        r.decision == "error" || r.decision == "deny",
        "not denied: {r:#?}"
    );
    let reason = r.reason.clone().unwrap_or_default();
    assert!(
        Duration::from_micros(r.elapsed_us) < 2 * DEADLINE + SLACK,
        "handlers ran {} µs: {reason}",
        r.elapsed_us
    );
    assert!(
        wall < 2 * DEADLINE + SLACK + Duration::from_millis(500),
        "the whole call took {wall:?}"
    );
    assert!(
        r.memory_in_use < (8 << 20) + VM_OVERHEAD,
        "VM holds {} bytes",
        r.memory_in_use
    );

    let h = HookedEngine::new(dir.path());
    h.engine
        .upsert_account(ACCOUNT, "Acme Ltd", OWNER)
        .expect("account");
    let before = h.engine.dump().unwrap();
    let started = Instant::now();
    let err = h
        .engine
        .invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
        .expect_err("the invite must be denied");
    assert!(
        started.elapsed() < 2 * DEADLINE + SLACK + Duration::from_millis(500),
        "invite took {:?}",
        started.elapsed()
    );
    let action = match err.code() {
        ErrorCode::HookFailed => "hook.fail",
        ErrorCode::HookDenied => "hook.deny",
        other => panic!("unexpected error {other}: {err}"),
    };
    assert!(err.to_string().contains("50-case.lua"), "{err}");
    let after = h.engine.dump().unwrap();
    assert_only_denial_row(&before, &after, action);
    reason
}

/// The failure message names the script and a line.
fn assert_located(reason: &str) {
    assert!(
        reason.starts_with("50-case.lua:")
            && reason["50-case.lua:".len()..].starts_with(|c: char| c.is_ascii_digit()),
        "no script:line in {reason:?}"
    );
}

macro_rules! contained {
    ($($name:ident: $body:expr, $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            let reason = assert_contained(&handler($body));
            assert_located(&reason);
            assert!(reason.contains($expect), "{reason:?} lacks {:?}", $expect);
        }
    )*};
}

contained! {
    os_execute: "os.execute('touch /tmp/cohort-hook-pwned')", "attempt to call a nil value";
    io_open: "local f = io.open('/etc/passwd') return false, f:read('*a')", "attempt to index nil";
    os_exit: "os.exit(3)", "attempt to call a nil value";
    os_getenv: "return false, os.getenv('HOME')", "attempt to call a nil value";
    require_module: "local os2 = require('os') os2.execute('true')", "attempt to call a nil value";
    package_loadlib: "package.loadlib('libc.so.6', 'system')('true')", "attempt to index nil";
    dofile_passwd: "dofile('/etc/passwd')", "attempt to call a nil value";
    loadfile_passwd: "loadfile('/etc/passwd')()", "attempt to call a nil value";
    load_string_dump: "load(string.dump(function() return 1 end))()", "attempt to call a nil value";
    handmade_bytecode_load: "load('\\27Lua\\81\\0\\1\\4\\8\\4\\8\\0')()", "attempt to call a nil value";
    handmade_bytecode_loadstring: "loadstring('\\4\\0\\1\\0')()", "attempt to call a nil value";
    debug_getregistry: "local r = debug.getregistry() return false, tostring(r)", "attempt to index nil";
    debug_sethook: "debug.sethook(function() end, 'l')", "attempt to index nil";
    getfenv_escape: "local g = getfenv(0) g.os = nil", "attempt to call a nil value";
    string_metatable_write: "getmetatable('').__index = { upper = function() return 'x' end }", "readonly";
    string_library_write: "string.upper = function() return 'x' end", "readonly";
    string_library_rawset: "rawset(string, 'upper', function() return 'x' end)", "readonly";
    infinite_loop: "while true do end", "deadline of 50 ms exceeded";
    loop_in_coroutine_wrap: "coroutine.wrap(function() while true do end end)()", "deadline of 50 ms exceeded";
    loop_in_coroutine_create: "local co = coroutine.create(function() while true do end end)\nlocal ok = coroutine.resume(co)\nreturn true", "deadline of 50 ms exceeded";
    pcall_swallows_then_loops: "pcall(function() while true do end end)\nwhile true do end", "deadline of 50 ms exceeded";
    pcall_swallows_then_allows: "pcall(function() while true do end end)\nreturn true", "deadline of 50 ms exceeded";
    xpcall_swallows_then_allows: "xpcall(function() while true do end end, function() return 'fine' end)\nreturn true", "deadline of 50 ms exceeded";
    nested_pcall_loop: "while true do pcall(pcall, function() while true do end end) end", "deadline of 50 ms exceeded";
    gc_finalizer_loop: "setmetatable({}, { __gc = function() while true do end end })\ncollectgarbage('collect')", "collectgarbage";
    string_rep_2_pow_31: "local s = string.rep('x', 2^31) error('rep made ' .. #s .. ' bytes')", "rep made";
    string_rep_near_limit: "local s = string.rep('x', 2^30 - 64) return #s > 0", "memory limit of 8 MiB exceeded";
    string_doubling: "local s = 'x' while true do s = s .. s end", "memory limit of 8 MiB exceeded";
    string_doubling_in_pcall: "pcall(function() local s = 'x' while true do s = s .. s end end)\nreturn true", "memory limit of 8 MiB exceeded";
    table_grows_forever: "local t = {} while true do t[#t + 1] = { 1, 2, 3, 4 } end", "exceeded";
    pattern_backtracking: "return ('a'):rep(1e4):find('.-.-.-b')", "deadline of 50 ms exceeded";
    gsub_huge_replacement: "local s = ('a'):rep(1e4) s = s:gsub('a', ('b'):rep(1e4)) return #s > 0", "exceeded";
    deep_recursion: "local function f(n) return f(n + 1) + 1 end return f(1)", "stack overflow";
    recursive_index_function: "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end return t.x", "";
    recursive_index_table: "local t = {} setmetatable(t, { __index = t }) return t.x", "";
    collectgarbage_stop: "collectgarbage('stop') local t = {} while true do t[#t + 1] = ('x'):rep(1000) end", "collectgarbage";
    collectgarbage_stop_caught: "pcall(collectgarbage, 'stop') local t = {} while true do t[#t + 1] = ('x'):rep(1000) end", "exceeded";
    error_with_looping_tostring: "error(setmetatable({}, { __tostring = function() while true do end end }))", "";
    huge_string_returned: "return false, ('x'):rep(4e6)", "over the limit of 4096";
    huge_table_returned: "return table.create(1e5, 'x')", "returned a table";
    huge_permissions_returned: "return { permissions = table.create(1e5, 'invoices') }", "over the limit of 4096";
    many_values_returned: "return table.unpack(table.create(5000, true))", "returned 5000 values";
    handler_yields: "coroutine.yield()", "attempt to yield";
}

#[test]
fn top_level_coroutine_yield_fails_closed() {
    let reason =
        assert_contained("coroutine.yield()\ncohort.on('before_invite', function() end)\n");
    assert!(reason.contains("50-case.lua:1:"), "{reason}");
    assert!(reason.contains("yield"), "{reason}");
}

#[test]
fn top_level_infinite_loop_fails_closed() {
    let reason =
        assert_contained("cohort.on('before_invite', function() end)\nwhile true do end\n");
    assert!(reason.contains("deadline"), "{reason}");
}

#[test]
fn os_execute_did_not_run() {
    let _ = std::fs::remove_file("/tmp/cohort-hook-pwned");
    assert_contained(&handler("os.execute('touch /tmp/cohort-hook-pwned')"));
    assert!(!Path::new("/tmp/cohort-hook-pwned").exists());
}

use std::path::Path;

#[test]
fn bytecode_from_a_file_is_refused() {
    let bytecode = mlua::chunk::Compiler::new()
        .compile(handler("return true"))
        .expect("compile");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("50-case.lua"), &bytecode).unwrap();
    let r = fire(
        dir.path(),
        "before_invite",
        invite_event("dev@acme.example", "all".into()),
    );
    assert_eq!(r.decision, "error", "{r:#?}");
    let reason = r.reason.unwrap();
    assert!(reason.contains("binary chunk"), "{reason}");
    assert!(reason.contains("50-case.lua"), "{reason}");
    let reports = cohort_core::hooks::check_dir(dir.path()).unwrap();
    assert!(reports[0]
        .error
        .as_deref()
        .unwrap()
        .contains("binary chunk"));
}

/// Neither globals nor upvalues carry over from one call to the next, and the string library
/// cannot be changed for later calls.
#[test]
fn nothing_persists_between_calls() {
    let dir = script_dir(&[(
        "50-state.lua",
        r#"
local calls = 0
local seen = {}
cohort.on("before_login", function(ev)
    calls = calls + 1
    if calls > 1 then return false, "upvalue persisted" end
    if remembered then return false, "global persisted" end
    if seen[ev.email] then return false, "table persisted" end
    if ("abc"):upper() ~= "ABC" or string.len("abc") ~= 3 then return false, "string library changed" end
    remembered = true
    seen[ev.email] = true
    pcall(function() getmetatable("").__index = { upper = function() return "pwned" end } end)
    pcall(function() string.len = function() return 0 end end)
end)
"#,
    )]);
    let h = HookedEngine::new(dir.path());
    h.engine
        .upsert_user("ann@acme.example", None, None)
        .unwrap();
    for _ in 0..3 {
        h.engine
            .record_login("ann@acme.example")
            .expect("every call starts afresh");
    }
}

#[test]
fn a_script_cannot_reach_its_environment_or_the_registry() {
    let dir = script_dir(&[(
        "50-env.lua",
        r##"
cohort.on("before_login", function(ev)
    local names = {}
    local function absent(name, v)
        if v ~= nil then table.insert(names, name) end
    end
    absent("io", io) absent("debug", debug) absent("package", package)
    absent("require", require) absent("load", load) absent("loadstring", loadstring)
    absent("dofile", dofile) absent("loadfile", loadfile) absent("getfenv", getfenv)
    absent("setfenv", setfenv) absent("newproxy", newproxy) absent("_G", _G)
    absent("gcinfo", gcinfo) absent("bit32", bit32) absent("buffer", buffer)
    absent("vector", vector) absent("os.execute", os.execute) absent("os.exit", os.exit)
    absent("os.getenv", os.getenv) absent("os.remove", os.remove)
    absent("os.rename", os.rename) absent("os.tmpname", os.tmpname)
    absent("string.dump", string.dump) absent("math.randomseed", math.randomseed)
    if select("#", pcall(collectgarbage, "count")) ~= 2 then table.insert(names, "count") end
    if type(os.time()) ~= "number" or type(os.clock()) ~= "number" or type(os.date("%Y")) ~= "string" then
        table.insert(names, "os.time/clock/date missing")
    end
    if #names > 0 then return false, table.concat(names, ",") end
end)
"##,
    )]);
    let r = fire(
        dir.path(),
        "before_login",
        serde_json::json!({"email": "a@b.example"}),
    );
    assert_eq!(r.decision, "allow", "{r:#?}");
}
