<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The accepting login's email is not the invited email (the invite stays pending).
 */
class EmailMismatchException extends CohortException
{
}
