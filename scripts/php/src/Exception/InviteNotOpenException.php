<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The invite is no longer pending (accepted, cancelled or declined), so it cannot be resent or
 * cancelled.
 */
class InviteNotOpenException extends CohortException
{
}
