<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The account, user, member or invite does not exist.
 */
class NotFoundException extends CohortException
{
}
