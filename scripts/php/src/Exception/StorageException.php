<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The database failed, was written by a newer Cohort, or a file could not be read.
 */
class StorageException extends CohortException
{
}
