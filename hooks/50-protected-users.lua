-- Protected users: listed logins cannot be removed from an account, nor have their
-- permissions changed (for example the billing contact, or the hosting company's staff).
--
-- PROTECTED holds lower-case addresses; "*@domain" protects every address at that domain.

local PROTECTED = {
    "billing@acme.example",
    "*@support.hosting.example",
}

local function protected(email)
    email = email:lower()
    local domain = email:match("@([^@]+)$")
    for _, p in ipairs(PROTECTED) do
        if p == email or p == "*@" .. domain then
            return true
        end
    end
    return false
end

cohort.on("before_revoke", function(ev)
    if protected(ev.email) then
        return false, ev.email .. " is a protected user and cannot be removed"
    end
end)

cohort.on("before_permissions", function(ev)
    if protected(ev.email) then
        return false, ev.email .. " is a protected user; their permissions cannot be changed"
    end
end)
