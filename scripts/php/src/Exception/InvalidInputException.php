<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * An argument was refused before any rule ran or by validation: invalid argument or email,
 * unknown permission key, empty permission set, invalid UTF-8, a NUL byte, over the input limit,
 * invalid JSON.
 */
class InvalidInputException extends CohortException
{
}
