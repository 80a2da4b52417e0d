<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The invite link cannot be used: malformed, tampered, unknown key, expired, superseded by a
 * resend, already used, cancelled, declined. getReason() gives the reason, such as "expired".
 */
class InvalidTokenException extends CohortException
{
    /** The reason without the "token_" prefix, such as "expired", "superseded", "already_used". */
    public function getReason(): string
    {
        $name = $this->getStatusName();
        return str_starts_with($name, 'token_') ? substr($name, 6) : $name;
    }
}
