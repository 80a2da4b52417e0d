<?php

declare(strict_types=1);

namespace Cohort\Exception;

/**
 * The database server could not be reached, refused the login, or the connection was lost
 * before the commit (the server rolled the change back: nothing was changed). Retrying may
 * succeed once the server is back.
 */
class UnavailableException extends StorageException
{
}
