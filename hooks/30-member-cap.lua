-- Member cap: no account has more than MAX_MEMBERS users, the owner included.
--
-- Pending invites count as members to be, so sending many invites at once cannot overrun
-- the cap. PER_ACCOUNT gives single accounts a cap of their own.

local MAX_MEMBERS = 10
local PER_ACCOUNT = {
    -- ["1042"] = 25,
}

local function cap(account)
    return PER_ACCOUNT[account.id] or MAX_MEMBERS
end

cohort.on("before_invite", function(ev)
    local a = ev.account
    if a.member_count + a.pending_invites >= cap(a) then
        return false, string.format(
            "account %s has %d members and %d pending invites; the limit is %d",
            a.id, a.member_count, a.pending_invites, cap(a))
    end
end)

cohort.on("before_accept", function(ev)
    local a = ev.account
    if a.member_count >= cap(a) then
        return false, string.format("account %s already has %d members, the limit", a.id, cap(a))
    end
end)
