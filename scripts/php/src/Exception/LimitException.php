<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * A limit was reached: the account's pending invites cap, or a rate limit.
 */
class LimitException extends CohortException
{
}
