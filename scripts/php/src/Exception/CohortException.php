<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * Base of every exception Cohort throws. getStatus() is the library's status number (see
 * Cohort\Status and docs/c-api.md); getStatusName() its stable name, such as "token_expired".
 */
class CohortException extends \RuntimeException
{
    public function __construct(
        string $message,
        private readonly int $status = 0,
        private readonly string $statusName = 'library',
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, $status, $previous);
    }

    public function getStatus(): int
    {
        return $this->status;
    }

    public function getStatusName(): string
    {
        return $this->statusName;
    }
}
