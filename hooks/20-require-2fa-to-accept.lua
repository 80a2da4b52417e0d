-- Two-factor authentication to accept: the login that accepts an invite must have 2FA on.
--
-- Someone registering through the invite cannot have 2FA yet: they are told to register in
-- the panel, turn 2FA on, and then accept the invite while logged in. Logins listed in
-- EXEMPT (lower case) may accept without 2FA.

local EXEMPT = {
    -- ["robot@acme.example"] = true,
}

cohort.on("before_accept", function(ev)
    local user = ev.user
    if EXEMPT[user.email] then
        return true
    end
    if ev.registering then
        return false, "register in the panel, turn on two-factor authentication, "
            .. "then log in and open the invite again"
    end
    if not user.two_factor then
        return false, "turn on two-factor authentication for " .. user.email
            .. " before accepting this invite"
    end
end)
