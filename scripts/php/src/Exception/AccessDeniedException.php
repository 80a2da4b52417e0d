<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The acting user may not do this: neither the owner nor a member holding `users`, or refused
 * by policy (granting more than they hold, managing contacts without `contacts`, ...).
 */
class AccessDeniedException extends CohortException
{
}
