<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The FFI extension is off or disallowed, or libcohort.so or its header cannot be found.
 */
class LibraryException extends CohortException
{
}
