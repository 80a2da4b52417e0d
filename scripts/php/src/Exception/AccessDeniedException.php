<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The acting user may not do this: not the account owner, or refused by policy.
 */
class AccessDeniedException extends CohortException
{
}
