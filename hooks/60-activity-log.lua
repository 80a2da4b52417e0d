-- Activity log: one line for every completed operation, written where the config's [log]
-- section says (a file, the system log) and to the panel's logger if it set one (see
-- docs/hooks.md, "Logging"). After-handlers observe only; nothing here can change an outcome.

local ACTIONS = {
    "invite", "accept", "revoke", "resend", "cancel",
    "decline", "permissions", "transfer", "expire", "login",
}

local function perms(p)
    if type(p) == "table" then
        return table.concat(p, ",")
    end
    return p or "-"
end

for _, action in ipairs(ACTIONS) do
    cohort.on("after_" .. action, function(ev)
        cohort.log("info", string.format("%s account=%s actor=%s target=%s permissions=%s",
            action,
            ev.account and ev.account.id or "-",
            ev.actor.email,
            ev.email or "-",
            perms(ev.permissions)))
    end)
end
