<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The operation does not apply to the account owner (change permissions, remove access).
 */
class OwnerProtectedException extends CohortException
{
}
