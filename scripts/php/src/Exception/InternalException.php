<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * A bug in Cohort or in this binding (a panic inside the library, a NULL argument, an unknown
 * status).
 */
class InternalException extends CohortException
{
}
