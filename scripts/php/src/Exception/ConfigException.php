<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The configuration is invalid, or a signing key is missing or unusable.
 */
class ConfigException extends CohortException
{
}
