<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * A hook script of the panel denied the operation, or failed (hooks fail closed).
 */
class HookDeniedException extends CohortException
{
}
