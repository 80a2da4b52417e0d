<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The engine was closed: closing twice or using it after close.
 */
class ClosedException extends CohortException
{
}
