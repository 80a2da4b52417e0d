-- No All Permissions outside the company: only addresses at the account owner's domain may
-- hold All Permissions.
--
-- An invite with All Permissions to an outside address is narrowed to OUTSIDER_PERMISSIONS,
-- and any invite to an outside address lives at most OUTSIDER_TTL seconds. Granting All
-- Permissions to an outside member, accepting such an invite from an outside login, or
-- handing the account to an outside member is refused.

local OUTSIDER_PERMISSIONS = { "invoices", "tickets" }
local OUTSIDER_TTL = 2 * 24 * 3600

local function domain_of(email)
    return (email:match("@([^@]+)$") or ""):lower()
end

local function outside(email, ev)
    return domain_of(email) ~= domain_of(ev.account.owner)
end

cohort.on("before_invite", function(ev)
    if not outside(ev.email, ev) then
        return
    end
    local changes = {}
    if ev.permissions == "all" then
        changes.permissions = OUTSIDER_PERMISSIONS
    end
    if ev.ttl > OUTSIDER_TTL then
        changes.ttl = OUTSIDER_TTL
    end
    return changes
end)

local function refuse_all(email)
    return function(ev)
        if ev.permissions == "all" and outside(email(ev), ev) then
            return false, email(ev) .. " is outside " .. domain_of(ev.account.owner)
                .. " and cannot hold All Permissions"
        end
    end
end

cohort.on("before_permissions", refuse_all(function(ev) return ev.email end))
cohort.on("before_accept", refuse_all(function(ev) return ev.user.email end))
cohort.on("before_transfer", function(ev)
    if outside(ev.email, ev) then
        return false, ev.email .. " is outside " .. domain_of(ev.account.owner)
            .. " and cannot own the account"
    end
end)
