<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The change conflicts with what exists: already a member, an invite to that email is already
 * pending (resend it), or a login with that email already exists.
 */
class ConflictException extends CohortException
{
}
