-- Allowed domains: only addresses at the company's domains may be invited.
--
-- An address is allowed when its domain is the account owner's own domain (unless
-- ALLOW_OWNER_DOMAIN is false) or one of ALLOWED_DOMAINS; a listed domain also allows its
-- subdomains ("acme.example" allows "eu.acme.example").

local ALLOWED_DOMAINS = { "acme.example" }
local ALLOW_OWNER_DOMAIN = true

local function domain_of(email)
    return (email:match("@([^@]+)$") or ""):lower()
end

local function allowed(domain, owner_domain)
    if ALLOW_OWNER_DOMAIN and domain == owner_domain then
        return true
    end
    for _, d in ipairs(ALLOWED_DOMAINS) do
        if domain == d or domain:sub(-(#d + 1)) == "." .. d then
            return true
        end
    end
    return false
end

cohort.on("before_invite", function(ev)
    local domain = domain_of(ev.email)
    if not allowed(domain, domain_of(ev.account.owner)) then
        return false, "invites are limited to company addresses; " .. domain .. " is not one of them"
    end
end)
