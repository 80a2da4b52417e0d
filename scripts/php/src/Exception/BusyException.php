<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The database is locked by another process; retrying may succeed.
 */
class BusyException extends StorageException
{
}
